using McpAuth.Caching;
using McpAuth.Dpop;
using McpAuth.Ports;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace McpAuth.Redis;

/// <summary>
/// DPoP replay protection shared by the replicas: a proof's <c>jti</c> (already an HMAC under the shared key) is set in the
/// store only if absent (Redis <c>SET NX</c>, atomic), so a proof used at one replica is refused at every other one. Each
/// replica also remembers what it saw. The store failing or slow never fails a request: the replica's own memory answers,
/// and replays are then caught per replica only until the store is back (counted like every store failure).
/// </summary>
internal sealed class SharedDpopReplayCache(SharedCacheStore store, SharedCacheState state, IOptions<RedisSharedCacheOptions> options, TimeProvider time)
    : IDpopReplayCache
{
    private readonly InProcessDpopReplayCache _local = new(time);
    private readonly TimeSpan _timeout = options.Value.SharedCacheTimeout;
    private readonly string _prefix = options.Value.SharedCachePrefix + "dpop-jti:";

    public async ValueTask<bool> TryUseAsync(CacheKey jti, DateTimeOffset until, CancellationToken cancellationToken)
    {
        if (!await _local.TryUseAsync(jti, until, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        var lifetime = until - time.GetUtcNow();
        if (lifetime <= TimeSpan.Zero || !state.Usable)
        {
            return true;
        }

        if (store.Database is not { } database)
        {
            state.NotConnected("dpop-jti");
            return true;
        }

        try
        {
            // Redis keeps whole milliseconds and refuses PX 0: what is left of the window (perhaps less than one) is rounded up.
            var ttl = TimeSpan.FromMilliseconds(Math.Ceiling(lifetime.TotalMilliseconds));
            return await database.StringSetAsync(_prefix + jti, "1", ttl, When.NotExists).WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            state.Failed("dpop-jti", ex is TimeoutException ? $"timed out after {_timeout.TotalMilliseconds:0} ms" : ex.GetType().Name);
            return true;
        }
    }
}
