using McpAuth.Caching;
using McpAuth.Kubernetes;
using McpAuth.OpenIdConnect;
using McpAuth.Ports;
using McpAuth.TestPeers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace McpAuth.Redis.Tests;

/// <summary>
/// The caching decorators over the real shared cache (Garnet), two "replicas" on one clock: what one reads from the
/// other lives no longer than it would have in the replica that made it.
/// </summary>
public sealed class SharedLifetimeTests : IDisposable
{
    private static readonly TimeSpan ReviewTtl = TimeSpan.FromMinutes(2); // the default ReviewCacheAuthenticatedTtl

    private readonly GarnetStore _garnet = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly string _secret = Replicas.NewSecret();
    private readonly List<ServiceProvider> _replicas = [];

    [Fact]
    public async Task ReviewReadFromTheSharedCache_IsNotKeptPastTheTtlOfTheReviewThatMadeIt()
    {
        var inner = new FakeReviewClient();
        var one = await ReviewerAsync(inner);
        var two = await ReviewerAsync(inner);
        var request = new TokenReviewRequest("alpha", "exchanged-token", ["k8s-api"], _time.GetUtcNow().AddHours(1));

        (await one.ReviewAsync(request, CancellationToken.None)).Status.Should().Be(PortStatus.Accepted);
        _time.Advance(ReviewTtl - TimeSpan.FromSeconds(10));
        (await two.ReviewAsync(request, CancellationToken.None)).Status.Should().Be(PortStatus.Accepted);
        inner.Requests.Should().HaveCount(1, "replica 2 reuses replica 1's review");

        _time.Advance(TimeSpan.FromSeconds(60)); // replica 1's review is 50 s past its TTL now
        (await two.ReviewAsync(request, CancellationToken.None)).Status.Should().Be(PortStatus.Accepted);

        inner.Requests.Should().HaveCount(2,
            "a review is reused for ReviewCacheAuthenticatedTtl after it was made; replica 2 must not keep replica 1's for a fresh TTL of its own");
    }

    [Fact]
    public async Task ExchangeReadFromTheSharedCache_IsNotKeptPastTheExchangedTokensExpiryLessTheMargin()
    {
        var inner = new FakeExchangeClient();
        var one = await ExchangerAsync(inner);
        var two = await ExchangerAsync(inner);
        inner.Result = TokenExchangeResult.Exchanged("exchanged-token", _time.GetUtcNow().AddMinutes(5));
        var subjectExpires = _time.GetUtcNow().AddHours(1);

        (await one.ExchangeAsync("subject-token", subjectExpires, CancellationToken.None)).AccessToken.Should().Be("exchanged-token");
        _time.Advance(TimeSpan.FromMinutes(4));
        (await two.ExchangeAsync("subject-token", subjectExpires, CancellationToken.None)).AccessToken.Should().Be("exchanged-token");
        inner.Calls.Should().Be(1, "replica 2 reuses replica 1's exchange");

        _time.Advance(TimeSpan.FromSeconds(40)); // 20 s before expiry: inside the 30 s margin
        inner.Result = TokenExchangeResult.Exchanged("renewed-token", _time.GetUtcNow().AddMinutes(5));
        (await two.ExchangeAsync("subject-token", subjectExpires, CancellationToken.None)).AccessToken.Should().Be("renewed-token");
        inner.Calls.Should().Be(2);
    }

    private async Task<ServiceProvider> ReplicaAsync()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        // These rows are about lifetimes, not a slow store: the longest store timeout, so that a loaded CI machine (every test
        // project runs at once) cannot turn a store call into a miss (a fresh review) and make the count wrong.
        services.AddMcpAuth(o => o.ValidateToken = true).AddRedisSharedCache(r =>
        {
            r.SharedCache = _garnet.Configuration;
            r.SharedCacheKey = _secret;
            r.SharedCacheTimeout = TimeSpan.FromSeconds(5);
        });
        services.Replace(ServiceDescriptor.Singleton<TimeProvider>(_time));
        var provider = services.BuildServiceProvider();
        _replicas.Add(provider);
        // Connected, then the clock moved past anything recorded before (the state and the probe read this clock).
        var store = provider.GetRequiredService<SharedCacheStore>();
        for (var i = 0; i < 200 && !store.Connected; i++)
        {
            await Task.Delay(25);
        }

        store.Connected.Should().BeTrue();
        _time.Advance(TimeSpan.FromSeconds(10));
        return provider;
    }

    private async Task<CachingTokenReviewClient> ReviewerAsync(ITokenReviewClient inner)
    {
        var sp = await ReplicaAsync();
        return new CachingTokenReviewClient(inner, Options.Create(new KubernetesTokenReviewOptions { ReviewCacheAuthenticatedTtl = ReviewTtl }),
            sp.GetRequiredService<CacheKeys>(), _time, sp.GetRequiredService<ISharedCache>());
    }

    private async Task<CachingTokenExchangeClient> ExchangerAsync(ITokenExchangeClient inner)
    {
        var sp = await ReplicaAsync();
        return new CachingTokenExchangeClient(inner, Options.Create(new McpAuthOptions { StsAudience = "k8s-api" }), Options.Create(new TokenExchangeOptions()),
            sp.GetRequiredService<CacheKeys>(), _time, sp.GetRequiredService<ISharedCache>());
    }

    public void Dispose()
    {
        foreach (var replica in _replicas)
        {
            replica.Dispose();
        }

        _garnet.Dispose();
    }
}
