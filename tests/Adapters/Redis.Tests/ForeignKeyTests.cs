using System.Net;
using McpAuth.Caching;
using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection;

namespace McpAuth.Redis.Tests;

/// <summary>A replica started with another McpAuth:SharedCacheKey on the same store neither reads nor poisons the others' entries.</summary>
public sealed class ForeignKeyTests(IssuerFixture issuer) : IClassFixture<IssuerFixture>
{
    [Fact]
    public async Task ReplicaWithAnotherKey_ExchangesItself_AndTheOthersStillReuseTheirOwnValidEntries()
    {
        using var garnet = new GarnetStore();
        await using var replicas = await Replicas.StartAsync(issuer);
        var secret = Replicas.NewSecret();
        await replicas.AddAsync(garnet.Configuration, secret);
        await replicas.AddAsync(garnet.Configuration, secret);
        await replicas.AddAsync(garnet.Configuration, Replicas.NewSecret()); // the stranger
        for (var i = 0; i < 3; i++)
        {
            await SmokeTests.Connected(replicas[i]);
        }

        var lastFailures = Enumerable.Range(0, 3).Select(r => replicas[r].GetRequiredService<SharedCacheState>().LastRejected).ToArray();

        // Replica 1 first, then the stranger: it does not find replica 1's entry.
        var first = await replicas.NewTokenAsync();
        (await replicas.WhoAmIAsync(0, first)).Status.Should().Be(HttpStatusCode.OK);
        var stranger = await replicas.WhoAmIAsync(2, first);
        stranger.Status.Should().Be(HttpStatusCode.OK, stranger.Body);
        stranger.ClusterUser.Should().Be("alice@alpha");
        (await issuer.ExchangesOfAsync(first)).Should().Be(2, "the stranger exchanges itself");
        replicas.Reviews.Should().Be(2, "and reviews its own exchanged token itself");

        // The stranger first, then replicas 1 and 2: they do not find its entry, and they share theirs.
        var second = await replicas.NewTokenAsync();
        (await replicas.WhoAmIAsync(2, second)).Status.Should().Be(HttpStatusCode.OK);
        foreach (var r in new[] { 0, 1 })
        {
            var answer = await replicas.WhoAmIAsync(r, second);
            answer.Status.Should().Be(HttpStatusCode.OK, answer.Body);
            answer.ClusterUser.Should().Be("alice@alpha");
        }

        (await issuer.ExchangesOfAsync(second)).Should().Be(2, "replica 1 exchanged itself once, replica 2 reused that");

        // Replica 2 still reuses replica 1's entry of the first token, untouched by the stranger.
        var reused = await replicas.WhoAmIAsync(1, first);
        reused.Status.Should().Be(HttpStatusCode.OK);
        reused.ClusterUser.Should().Be("alice@alpha");
        (await issuer.ExchangesOfAsync(first)).Should().Be(2);
        Enumerable.Range(0, 3).Select(r => replicas[r].GetRequiredService<SharedCacheState>().LastRejected).Should().Equal(lastFailures,
            "no replica met a value it could not open: they never even find each other's entries, the key names differ");
    }

    [Fact]
    public async Task ValueSealedUnderAnotherKey_AtTheSameName_IsAMiss_NeverUsed()
    {
        // The stranger's writes cannot land on the others' names (HMAC keys differ); if one did (same name forced
        // here), the value does not open and is not used.
        using var garnet = new GarnetStore();
        ServiceProvider Replica(string secret)
        {
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddMcpAuth(o => o.ValidateToken = true).AddRedisSharedCache(r => { r.SharedCache = garnet.Configuration; r.SharedCacheKey = secret; });
            return services.BuildServiceProvider();
        }

        using var ours = Replica(Replicas.NewSecret());
        using var theirs = Replica(Replicas.NewSecret());
        await SmokeTests.Connected(ours);
        await SmokeTests.Connected(theirs);
        var name = ours.GetRequiredService<CacheKeys>().OfParts("some token", "aud", "scope");
        theirs.GetRequiredService<CacheKeys>().OfParts("some token", "aud", "scope").Should().NotBe(name);

        var lastFailure = ours.GetRequiredService<SharedCacheState>().LastRejected; // perhaps "not connected" at start
        await theirs.GetRequiredService<ISharedCache>().SetAsync("sts-v1", name, "forged"u8.ToArray(), DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None);

        (await ours.GetRequiredService<ISharedCache>().GetAsync("sts-v1", name, CancellationToken.None)).Should().BeNull();
        ours.GetRequiredService<SharedCacheState>().LastRejected.Should().NotBe(lastFailure, "a value that does not open is counted");
    }
}
