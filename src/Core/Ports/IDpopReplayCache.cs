using McpAuth.Caching;

namespace McpAuth.Ports;

/// <summary>
/// Remembers the <c>jti</c> of every DPoP proof for as long as the proof could be accepted, so a replayed proof is
/// refused (RFC 9449 §11.1). The default is in process; the shared cache package makes it shared by replicas.
/// </summary>
public interface IDpopReplayCache
{
    /// <summary>True the first time <paramref name="jti"/> is seen (it is then remembered until <paramref name="until"/>), false for a replay.</summary>
    ValueTask<bool> TryUseAsync(CacheKey jti, DateTimeOffset until, CancellationToken cancellationToken);
}
