using McpAuth.Caching;
using McpAuth.Ports;
using Microsoft.Extensions.Caching.Hybrid;

namespace McpAuth.Redis;

/// <summary>
/// <see cref="ISharedCache"/> through <see cref="HybridCache"/> over the Redis store, used as a second level only (each
/// process keeps its own first level in McpAuth's caches). Values are sealed with AES-256-GCM together with their time;
/// a value that does not open is a miss, is counted, and is replaced by the next write (it never turns the store off).
/// </summary>
internal sealed class HybridSharedCache(HybridCache hybrid, SharedCacheSecrets secrets, SharedCacheState state, string prefix, TimeProvider time)
    : ISharedCache
{
    private static readonly HybridCacheEntryOptions ReadOnly = new()
    {
        Flags = HybridCacheEntryFlags.DisableLocalCache | HybridCacheEntryFlags.DisableUnderlyingData,
    };

    public async ValueTask<SharedCacheEntry?> GetAsync(string purpose, CacheKey key, CancellationToken cancellationToken)
    {
        if (!state.Usable)
        {
            return null;
        }

        var stored = await hybrid.GetOrCreateAsync<byte[]?>(Name(purpose, key), static _ => ValueTask.FromResult<byte[]?>(null), ReadOnly,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            return null;
        }

        if (SealedValue.Open(secrets.ValueKey, purpose, key, stored) is not var (value, until))
        {
            state.Rejected("open", "a stored value did not authenticate (another secret, or altered)");
            return null;
        }

        // Past its time: the store kept it (clocks apart) or someone put it back; either way it is not used.
        return until > time.GetUtcNow() ? new SharedCacheEntry(value, until) : null;
    }

    public async ValueTask SetAsync(string purpose, CacheKey key, byte[] value, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var lifetime = until - time.GetUtcNow();
        if (lifetime <= TimeSpan.Zero || !state.Usable)
        {
            return;
        }

        var options = new HybridCacheEntryOptions { Expiration = lifetime, Flags = HybridCacheEntryFlags.DisableLocalCache };
        await hybrid.SetAsync(Name(purpose, key), SealedValue.Seal(secrets.ValueKey, purpose, key, until, value), options, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
    }

    private string Name(string purpose, CacheKey key) => prefix + purpose + ":" + key;
}
