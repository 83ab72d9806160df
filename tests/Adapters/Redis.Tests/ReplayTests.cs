using System.Buffers.Binary;
using McpAuth.Caching;
using McpAuth.Kubernetes;
using McpAuth.Ports;
using McpAuth.TestPeers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace McpAuth.Redis.Tests;

/// <summary>
/// Someone who can write to the store but does not have the secret: a value sealed earlier, put back after it expired,
/// must not be used (the seal authenticates the value, so it must also say until when it may be used).
/// </summary>
public sealed class ReplayTests
{
    [Fact]
    public async Task ReviewPutBackAfterItExpired_IsNotUsed_ARevokedTokenIsReviewedAgain()
    {
        using var garnet = new GarnetStore();
        var secret = Replicas.NewSecret();
        using var one = Replica(garnet, secret);
        using var two = Replica(garnet, secret);
        await SmokeTests.Connected(one);
        await SmokeTests.Connected(two);
        var inner = new FakeReviewClient();
        var ttl = TimeSpan.FromSeconds(3);
        var request = new TokenReviewRequest("alpha", "exchanged-token", ["k8s-api"], DateTimeOffset.UtcNow.AddHours(1));

        (await Reviewer(one, inner, ttl).ReviewAsync(request, CancellationToken.None)).Status.Should().Be(PortStatus.Accepted);
        using var store = new StoreInspection(garnet);
        var key = store.SingleKey("review-v1");
        var captured = store.Data(key);

        // The cluster revokes the token; the entry expires.
        inner.Answer = _ => TokenReviewResult.NotAuthenticated("revoked");
        await Task.Delay(ttl + TimeSpan.FromMilliseconds(500));
        store.Keys("mcpauth:*").Should().BeEmpty("the entry expired in the store");

        // Put back, with HybridCache's (unauthenticated) creation time set to now so that HybridCache takes it.
        store.SetData(key, WithCreationNow(captured)).Should().BeTrue();

        var replayed = await Reviewer(two, inner, ttl).ReviewAsync(request, CancellationToken.None);

        replayed.Status.Should().Be(PortStatus.Rejected, "the only authenticated review is past its TTL; a sealed value must carry its own expiry");
        inner.Requests.Should().HaveCount(2);
    }

    private static ServiceProvider Replica(GarnetStore garnet, string secret)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMcpAuth(o => o.ValidateToken = true).AddRedisSharedCache(r => { r.SharedCache = garnet.Configuration; r.SharedCacheKey = secret; });
        return services.BuildServiceProvider();
    }

    private static CachingTokenReviewClient Reviewer(ServiceProvider sp, ITokenReviewClient inner, TimeSpan ttl) =>
        new(inner, Options.Create(new KubernetesTokenReviewOptions { ReviewCacheAuthenticatedTtl = ttl }), sp.GetRequiredService<CacheKeys>(), TimeProvider.System,
            sp.GetRequiredService<ISharedCache>());

    // HybridCache's payload header holds its creation time (UTC ticks, little-endian) near the start, outside the seal.
    private static byte[] WithCreationNow(byte[] payload)
    {
        var copy = (byte[])payload.Clone();
        var now = DateTime.UtcNow.Ticks;
        for (var offset = 0; offset + 8 <= Math.Min(copy.Length, 32); offset++)
        {
            var ticks = BinaryPrimitives.ReadInt64LittleEndian(copy.AsSpan(offset));
            if (ticks > now - TimeSpan.FromMinutes(10).Ticks && ticks <= now)
            {
                BinaryPrimitives.WriteInt64LittleEndian(copy.AsSpan(offset), now);
                return copy;
            }
        }

        throw new InvalidOperationException("no creation time found in HybridCache's header");
    }
}
