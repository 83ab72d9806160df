using McpAuth.Caching;
using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection;

namespace McpAuth.Redis.Tests;

public sealed class SmokeTests
{
    internal static async Task Connected(IServiceProvider replica)
    {
        var probe = replica.GetServices<IPeerHealthProbe>().Single(p => p.Name == "shared-cache");
        for (var i = 0; i < 100; i++)
        {
            if ((await probe.CheckAsync(CancellationToken.None)).Status == PeerHealthStatus.Healthy)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("the shared cache did not connect");
    }

    [Fact]
    public async Task TwoReplicas_ShareAValue_ThroughGarnet()
    {
        using var garnet = new GarnetStore();
        var secret = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        ServiceProvider Replica()
        {
            var services = new ServiceCollection();
            services.AddLogging(l => Microsoft.Extensions.Logging.ConsoleLoggerExtensions.AddSimpleConsole(l));
            services.AddMcpAuth(o => o.ValidateToken = true).AddRedisSharedCache(r => { r.SharedCache = garnet.Configuration; r.SharedCacheKey = secret; });
            return services.BuildServiceProvider();
        }

        using var one = Replica();
        using var two = Replica();
        await Connected(one);
        await Connected(two);
        var key = one.GetRequiredService<CacheKeys>().OfParts("x");
        two.GetRequiredService<CacheKeys>().OfParts("x").Should().Be(key);
        await one.GetRequiredService<ISharedCache>().SetAsync("t", key, [1, 2, 3], DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None);
        (await two.GetRequiredService<ISharedCache>().GetAsync("t", key, CancellationToken.None))!.Value.Should().Equal(1, 2, 3);
    }
}
