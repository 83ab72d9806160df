using System.Net;
using Xunit.Abstractions;

namespace McpAuth.Redis.Tests;

/// <summary>
/// Three replicas of the reference host, one issuer and STS (oidc-provider), one API server (fake, counting
/// TokenReviews), one store (Garnet): what one replica exchanged and reviewed, the others reuse.
/// </summary>
public sealed class ReplicaSharingTests(IssuerFixture issuer, ITestOutputHelper output) : IClassFixture<IssuerFixture>
{
    [Fact]
    public async Task WhoAmI_ThroughReplicaOne_ThenTwoAndThree_OneExchangeAndOneReviewInAll()
    {
        using var garnet = new GarnetStore();
        await using var replicas = await Replicas.StartAsync(issuer);
        var secret = Replicas.NewSecret();
        for (var i = 0; i < 3; i++)
        {
            await replicas.AddAsync(garnet.Configuration, secret);
            await SmokeTests.Connected(replicas[i]);
        }

        var token = await replicas.NewTokenAsync();

        var first = await replicas.WhoAmIAsync(0, token);
        first.Status.Should().Be(HttpStatusCode.OK, first.Body);
        first.Exchanged.Should().BeTrue();
        first.ClusterUser.Should().Be("alice@alpha");
        (await issuer.ExchangesOfAsync(token)).Should().Be(1);
        replicas.Reviews.Should().Be(1);

        foreach (var replica in new[] { 1, 2 })
        {
            var answer = await replicas.WhoAmIAsync(replica, token);
            answer.Status.Should().Be(HttpStatusCode.OK, answer.Body);
            answer.Exchanged.Should().BeTrue();
            answer.ClusterUser.Should().Be("alice@alpha", "the exchanged token another replica got is a valid one");
        }

        (await issuer.ExchangesOfAsync(token)).Should().Be(1, "replicas 2 and 3 reuse the exchange replica 1 made");
        replicas.Reviews.Should().Be(1, "replicas 2 and 3 reuse the TokenReview replica 1 made");
        replicas.ApiServer.SelfSubjectReviews.Select(r => r.Token).Distinct().Should().ContainSingle("every replica presents the same exchanged token downstream");
    }

    [Fact]
    public async Task ThreeReplicas_64ConcurrentIdenticalFirstRequestsEach_AtMostThreeExchanges()
    {
        using var garnet = new GarnetStore();
        await using var replicas = await Replicas.StartAsync(issuer);
        var secret = Replicas.NewSecret();
        for (var i = 0; i < 3; i++)
        {
            await replicas.AddAsync(garnet.Configuration, secret);
            await SmokeTests.Connected(replicas[i]);
        }

        // Warm each replica's issuer metadata and connections with a token of its own, so the burst measures the caches.
        for (var i = 0; i < 3; i++)
        {
            (await replicas.WhoAmIAsync(i, await replicas.NewTokenAsync())).Status.Should().Be(HttpStatusCode.OK);
        }

        var reviewsBefore = replicas.Reviews;
        var token = await replicas.NewTokenAsync();
        var answers = await Task.WhenAll(Enumerable.Range(0, 3 * 64).Select(n => replicas.WhoAmIAsync(n % 3, token)));

        answers.Should().OnlyContain(a => a.Status == HttpStatusCode.OK && a.Exchanged);
        var exchanges = await issuer.ExchangesOfAsync(token);
        var reviews = replicas.Reviews - reviewsBefore;
        output.WriteLine($"3 replicas x 64 concurrent identical first requests: {exchanges} exchange(s) at the STS, {reviews} TokenReview(s) at the API server");
        exchanges.Should().BeInRange(1, 3, "each replica runs concurrent identical exchanges once; replicas do not lock across the store");
        reviews.Should().BeInRange(1, 3);
    }

    [Fact]
    public async Task WithoutSharedCache_EachReplicaExchangesAndReviewsItself()
    {
        await using var replicas = await Replicas.StartAsync(issuer);
        await replicas.AddAsync(store: null, sharedKey: null);
        await replicas.AddAsync(store: null, sharedKey: null);
        var token = await replicas.NewTokenAsync();

        (await replicas.WhoAmIAsync(0, token)).Status.Should().Be(HttpStatusCode.OK);
        (await replicas.WhoAmIAsync(1, token)).Status.Should().Be(HttpStatusCode.OK);
        (await replicas.WhoAmIAsync(1, token)).Status.Should().Be(HttpStatusCode.OK);

        (await issuer.ExchangesOfAsync(token)).Should().Be(2, "the caches are in-process only: one exchange per replica");
        replicas.Reviews.Should().Be(2);
        (await replicas.ReadyzAsync(0)).Should().Be((HttpStatusCode.OK, "Healthy"));
    }
}
