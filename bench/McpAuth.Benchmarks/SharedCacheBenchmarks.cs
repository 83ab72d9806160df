using System.Globalization;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Garnet;
using McpAuth.Caching;
using McpAuth.OpenIdConnect;
using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace McpAuth.Benchmarks;

/// <summary>
/// The shared second cache level (McpAuth.Redis) on an L2 hit, against a real Redis-protocol server (Microsoft Garnet,
/// in this process, on loopback): a raw <c>HGET</c> of the same entry as the floor, <see cref="ISharedCache.GetAsync"/> of
/// a sealed ~1.5 KB value (HybridCache + AES-256-GCM open), and the whole token-exchange decorator on an L1 miss that
/// the shared cache answers, next to the same decorator on an L1 hit.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class SharedCacheBenchmarks
{
    private const string Purpose = "sts-v1";

    private GarnetServer _garnet = null!;
    private ServiceProvider _replica = null!;
    private ConnectionMultiplexer _raw = null!;
    private IDatabase _db = null!;
    private ISharedCache _shared = null!;
    private CacheKey _key;
    private RedisKey _storeKey;
    private CachingTokenExchangeClient _l1Miss = null!;
    private CachingTokenExchangeClient _l1Hit = null!;
    private CountingExchange _sts = null!;
    private string _subject = null!;

    [GlobalSetup]
    public void Setup()
    {
        var port = FreePort();
        _garnet = new GarnetServer(["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1"]);
        _garnet.Start();
        var store = $"127.0.0.1:{port}";
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMcpAuth(o => o.StsAudience = "k8s-api")
            .AddRedisSharedCache(r => { r.SharedCache = store; r.SharedCacheKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)); });
        _replica = services.BuildServiceProvider();
        WaitConnected(_replica);
        _shared = _replica.GetRequiredService<ISharedCache>();
        var keys = _replica.GetRequiredService<CacheKeys>();

        // ISharedCache: a sealed 1.5 KB value.
        _key = keys.OfParts("bench subject token", "k8s-api", "");
        _shared.SetAsync(Purpose, _key, RandomNumberGenerator.GetBytes(1536), DateTimeOffset.UtcNow.AddHours(1), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        _storeKey = "mcpauth:" + Purpose + ":" + _key;
        _raw = ConnectionMultiplexer.Connect(store);
        _db = _raw.GetDatabase();
        if (_db.HashGet(_storeKey, "data").IsNull || Get().GetAwaiter().GetResult() is not { Length: 1536 })
        {
            throw new InvalidOperationException("setup: the sealed value is not in the store");
        }

        // The decorator: an exchanged token of ~1.4 KB (its shared form is ~1.5 KB sealed), exchanged once, then every
        // call on _l1Miss misses its own level (it keeps nothing) and is answered by the shared one.
        _sts = new CountingExchange(TokenExchangeResult.Exchanged(new string('x', 1400), DateTimeOffset.UtcNow.AddHours(1)));
        _subject = "bench-subject-" + Guid.NewGuid().ToString("N");
        var mcpAuth = Options.Create(new McpAuthOptions { StsAudience = "k8s-api" });
        _l1Miss = new CachingTokenExchangeClient(_sts, mcpAuth, Options.Create(new TokenExchangeOptions { ExchangeCacheMaxEntries = 0 }), keys, TimeProvider.System, _shared);
        _l1Hit = new CachingTokenExchangeClient(_sts, mcpAuth, Options.Create(new TokenExchangeOptions()), keys, TimeProvider.System, _shared);
        Exchange(_l1Hit).GetAwaiter().GetResult(); // the one exchange; written to the shared level
        Exchange(_l1Miss).GetAwaiter().GetResult();
        Exchange(_l1Hit).GetAwaiter().GetResult();
        if (_sts.Calls != 1)
        {
            throw new InvalidOperationException($"setup: {_sts.Calls} exchanges, expected 1 (the others from the shared level)");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var calls = _sts.Calls;
        _raw.Dispose();
        _replica.Dispose();
        _garnet.Dispose();
        if (calls != 1)
        {
            throw new InvalidOperationException($"{calls} exchanges during the run: the shared level missed");
        }
    }

    [Benchmark(Baseline = true), BenchmarkCategory("L2Get")]
    public async Task<byte[]?> RawHashGet_Floor() => await _db.HashGetAsync(_storeKey, "data");

    [Benchmark, BenchmarkCategory("L2Get")]
    public async Task<byte[]?> SharedCacheGet_Sealed1_5KB() => await Get();

    [Benchmark(Baseline = true), BenchmarkCategory("Decorator")]
    public Task<string?> ExchangeDecorator_L1Hit() => Exchange(_l1Hit);

    [Benchmark, BenchmarkCategory("Decorator")]
    public Task<string?> ExchangeDecorator_L1Miss_L2Hit() => Exchange(_l1Miss);

    private ValueTask<SharedCacheEntry?> GetValue() => _shared.GetAsync(Purpose, _key, CancellationToken.None);

    private async Task<byte[]?> Get() => (await GetValue())?.Value;

    private async Task<string?> Exchange(CachingTokenExchangeClient client) =>
        (await client.ExchangeAsync(_subject, DateTimeOffset.UtcNow.AddHours(1), CancellationToken.None)).AccessToken;

    internal static void WaitConnected(IServiceProvider replica)
    {
        var probe = replica.GetServices<IPeerHealthProbe>().Single(p => p.Name == "shared-cache");
        for (var i = 0; i < 200; i++)
        {
            if (probe.CheckAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult().Status == PeerHealthStatus.Healthy)
            {
                return;
            }

            Thread.Sleep(50);
        }

        throw new InvalidOperationException("the shared cache did not connect");
    }

    internal static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class CountingExchange(TokenExchangeResult result) : ITokenExchangeClient
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public ValueTask<TokenExchangeResult> ExchangeAsync(string subjectToken, DateTimeOffset? subjectExpiresAt, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return ValueTask.FromResult(result);
        }
    }
}
