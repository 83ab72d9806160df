using McpAuth.Caching;

namespace McpAuth.Ports;

/// <summary>
/// A second cache level shared by the replicas of a service (for example Redis), below each process's own cache. The
/// caching decorators of the token exchange and TokenReview ports use it when one is registered. An implementation
/// protects what it stores (values are credentials: encrypted and authenticated) and never fails a request: a store that
/// is down or slow is a miss.
/// </summary>
public interface ISharedCache
{
    /// <summary>The value stored for <paramref name="key"/> under <paramref name="purpose"/>, or null (miss, store unusable, or a value that fails authentication).</summary>
    ValueTask<byte[]?> GetAsync(string purpose, CacheKey key, CancellationToken cancellationToken);

    /// <summary>Stores <paramref name="value"/> until <paramref name="until"/> (never longer). Never throws for a failing store.</summary>
    ValueTask SetAsync(string purpose, CacheKey key, byte[] value, DateTimeOffset until, CancellationToken cancellationToken);
}
