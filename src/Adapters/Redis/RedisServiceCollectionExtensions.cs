using McpAuth;
using McpAuth.Caching;
using McpAuth.Ports;
using McpAuth.Redis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers McpAuth's shared second cache level.</summary>
public static class RedisServiceCollectionExtensions
{
    /// <summary>
    /// The shared cache, on when <c>McpAuth:SharedCache</c> (a Redis configuration string) is set; without it nothing
    /// changes. With it, <c>McpAuth:SharedCacheKey</c> is required (start is refused otherwise): exchanged tokens and
    /// TokenReview results are shared by every replica through HybridCache over Redis, DPoP proofs' jti are remembered by all, under HMAC keys derived from that
    /// secret and sealed with AES-256-GCM. The validated-token cache and the issuer's keys stay in each process.
    /// </summary>
    public static McpAuthBuilder AddRedisSharedCache(this McpAuthBuilder builder, Action<RedisSharedCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddMcpAuthSettings<RedisSharedCacheOptions>().ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisSharedCacheOptions>, RedisSharedCacheOptionsValidator>());
        services.TryAddSingleton(sp => new SharedCacheState(
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<SharedCacheState>>(),
            sp.GetRequiredService<IOptions<RedisSharedCacheOptions>>().Value.SharedCacheRetryAfter));
        services.TryAddSingleton<SharedCacheStore>();
        services.Replace(ServiceDescriptor.Singleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RedisSharedCacheOptions>>().Value;
            return options.Enabled && SharedCacheSecrets.TryCreate(options.SharedCacheKey) is { } secrets
                ? new CacheKeys(secrets.KeyKey) // every replica makes the same keys
                : new CacheKeys();
        }));
        services.TryAddSingleton<ISharedCache>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RedisSharedCacheOptions>>().Value;
            if (!options.Enabled || SharedCacheSecrets.TryCreate(options.SharedCacheKey) is not { } secrets)
            {
                return NoSharedCache.Instance;
            }

            return new HybridSharedCache(sp.GetRequiredService<SharedCacheStore>().Hybrid, secrets, sp.GetRequiredService<SharedCacheState>(),
                options.SharedCachePrefix, sp.GetRequiredService<TimeProvider>());
        });
        services.Replace(ServiceDescriptor.Singleton<IDpopReplayCache>(sp =>
            sp.GetRequiredService<IOptions<RedisSharedCacheOptions>>().Value.Enabled
                ? ActivatorUtilities.CreateInstance<SharedDpopReplayCache>(sp)
                : new McpAuth.Dpop.InProcessDpopReplayCache(sp.GetRequiredService<TimeProvider>())));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPeerHealthProbe, SharedCacheHealthProbe>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, SharedCacheConnector>());
        return builder;
    }

    private sealed class NoSharedCache : ISharedCache
    {
        public static readonly NoSharedCache Instance = new();

        public ValueTask<SharedCacheEntry?> GetAsync(string purpose, CacheKey key, CancellationToken cancellationToken) => ValueTask.FromResult<SharedCacheEntry?>(null);

        public ValueTask SetAsync(string purpose, CacheKey key, byte[] value, DateTimeOffset until, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
