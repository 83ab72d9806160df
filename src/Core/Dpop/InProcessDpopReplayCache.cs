using McpAuth.Caching;
using McpAuth.Ports;

namespace McpAuth.Dpop;

/// <summary>
/// The default <see cref="IDpopReplayCache"/>: one process's memory, bounded (100,000 proofs). When full, the proofs
/// closest to the end of their window are forgotten first; they could be replayed only until then.
/// </summary>
public sealed class InProcessDpopReplayCache(TimeProvider time) : IDpopReplayCache
{
    private readonly SecretKeyedCache<bool> _seen = new(100_000, time);
    private readonly Lock _lock = new();

    /// <inheritdoc />
    public ValueTask<bool> TryUseAsync(CacheKey jti, DateTimeOffset until, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_seen.TryGet(jti, out _))
            {
                return ValueTask.FromResult(false);
            }

            _seen.Set(jti, true, until, _seen.Epoch);
            return ValueTask.FromResult(true);
        }
    }
}
