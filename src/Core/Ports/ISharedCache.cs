using McpAuth.Caching;

namespace McpAuth.Ports;

/// <summary>
/// A second cache level shared by the replicas of a service (for example Redis), below each process's own cache. The
/// caching decorators of the token exchange and TokenReview ports use it when one is registered. An implementation
/// protects what it stores (values are credentials: encrypted and authenticated, with the time they may be used until)
/// and never fails a request: a store that is down or slow is a miss.
/// </summary>
public interface ISharedCache
{
    /// <summary>
    /// The entry stored for <paramref name="key"/> under <paramref name="purpose"/>, or null: a miss, a store that cannot be
    /// used, a value that fails authentication, or one past the <c>until</c> it was stored with.
    /// </summary>
    ValueTask<SharedCacheEntry?> GetAsync(string purpose, CacheKey key, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="value"/> until <paramref name="until"/> (never longer; <paramref name="until"/> is protected with
    /// the value, so a reader never uses it past that time). Never throws for a failing store.
    /// </summary>
    ValueTask SetAsync(string purpose, CacheKey key, byte[] value, DateTimeOffset until, CancellationToken cancellationToken);
}

/// <summary>A value read from an <see cref="ISharedCache"/>, and the time the replica that stored it allowed its use until.</summary>
/// <param name="Value">The value as it was stored.</param>
/// <param name="Until">Reuse it no later than this (a reader keeps it no longer in its own cache either).</param>
public sealed record SharedCacheEntry(byte[] Value, DateTimeOffset Until);
