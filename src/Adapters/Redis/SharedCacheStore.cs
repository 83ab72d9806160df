using McpAuth.Ports;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace McpAuth.Redis;

/// <summary>
/// The store and McpAuth's own <see cref="HybridCache"/> over it, built once. The HybridCache lives in a private service
/// provider, so an app's own HybridCache or IDistributedCache registrations are neither used nor disturbed.
/// </summary>
internal sealed class SharedCacheStore : IDisposable
{
    private readonly ServiceProvider _private;
    private readonly RedisCache _redis;
    private readonly Task<ConnectionMultiplexer> _connection;

    public SharedCacheStore(IOptions<RedisSharedCacheOptions> options, SharedCacheState state, ILoggerFactory loggerFactory)
    {
        var o = options.Value;
        if (!o.Enabled)
        {
            throw new InvalidOperationException($"{McpAuthOptions.Key(nameof(o.SharedCache))} is not set: there is no store to connect to.");
        }

        var configuration = ConfigurationOptions.Parse(o.SharedCache!);
        configuration.AbortOnConnectFail = false; // a store that is down at start is connected in the background later
        configuration.AsyncTimeout = (int)Math.Max(100, o.SharedCacheTimeout.TotalMilliseconds);
        configuration.SyncTimeout = configuration.AsyncTimeout;
        // Connected now, in the background: no request waits for a connection; until it is up the store is skipped.
        _connection = ConnectionMultiplexer.ConnectAsync(configuration);
        _redis = new RedisCache(Options.Create(new RedisCacheOptions
        {
            ConnectionMultiplexerFactory = async () => await _connection.ConfigureAwait(false),
        }));
        Observed = new ObservedDistributedCache(_redis, state, o.SharedCacheTimeout, () => Connection);

        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(new HybridCacheLogRouter(loggerFactory, state));
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSingleton<IDistributedCache>(Observed);
        services.AddHybridCache(h => h.MaximumPayloadBytes = 64 * 1024);
        _private = services.BuildServiceProvider();
        Hybrid = _private.GetRequiredService<HybridCache>();
    }

    public ObservedDistributedCache Observed { get; }

    /// <summary>The store's database, while connected (for the one atomic operation HybridCache does not offer: set-if-absent).</summary>
    public IDatabase? Database => Connected ? _connection.Result.GetDatabase() : null;

    /// <summary>True while the connection to the store is up.</summary>
    public bool Connected => _connection.IsCompletedSuccessfully && _connection.Result.IsConnected;

    /// <summary>Where the connection stands: still making the first attempt, up, or down after it.</summary>
    public StoreConnection Connection => !_connection.IsCompleted ? StoreConnection.Connecting
        : Connected ? StoreConnection.Up
        : StoreConnection.Down;

    public HybridCache Hybrid { get; }

    public void Dispose()
    {
        _private.Dispose();
        _redis.Dispose();
        if (_connection.IsCompletedSuccessfully)
        {
            _connection.Result.Dispose();
        }
    }
}
