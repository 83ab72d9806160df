using McpAuth.Ports;
using McpAuth.TestPeers;
using Microsoft.Extensions.DependencyInjection;

namespace McpAuth.Kubernetes.Tests;

/// <summary>
/// The full chain with real peers: the oidc-provider's token exchange, then TokenReview of the exchanged token with the
/// real KubernetesClient against a fake API server.
/// </summary>
public sealed class StsAndTokenReviewTests : IAsyncLifetime
{
    private OidcProviderProcess _idp = null!;
    private FakeKubeApiServer _alpha = null!;
    private FakeKubeApiServer _beta = null!;
    private string _kubeconfig = null!;

    public async Task InitializeAsync()
    {
        _idp = await OidcProviderProcess.StartAsync();
        _alpha = await FakeKubeApiServer.StartAsync("alpha");
        _beta = await FakeKubeApiServer.StartAsync("beta");
        _kubeconfig = FakeKubeApiServer.WriteKubeconfig(Path.Combine(Path.GetTempPath(), $"mcpauth-kubeconfig-{Guid.NewGuid():N}"), _alpha, _beta);
    }

    public async Task DisposeAsync()
    {
        await _idp.DisposeAsync();
        await _alpha.DisposeAsync();
        await _beta.DisposeAsync();
        File.Delete(_kubeconfig);
    }

    // Timeouts: 5 s (the defaults) so a cold first call on a loaded CI machine is not mistaken for a failing peer.
    private Harness FullChain() => new(
        o =>
        {
            o.AuthorizationUrl = _idp.Issuer;
            o.Audience = Harness.Resource;
            o.StsClientId = OidcProviderProcess.ClientId;
            o.StsAudience = "k8s-api";
            o.ValidateToken = true;
        },
        b => b.AddOidcProvider()
            .AddTokenExchange(t =>
            {
                t.StsClientSecret = OidcProviderProcess.ClientSecret;
                t.StsScopes = ["k8s", "read"];
                t.StsTimeout = TimeSpan.FromSeconds(5);
            })
            .AddKubernetesTokenReview(k => k.Kubeconfig = _kubeconfig));

    [Fact]
    public async Task FullChain_64ConcurrentIdenticalRequests_OneExchangeAndOneReview()
    {
        using var pipeline = FullChain();
        var token = await _idp.IssueTokenAsync(Harness.Resource);
        _alpha.Delay = TimeSpan.FromMilliseconds(200);
        // Round 1: the cluster does not know the exchanged token, so all 64 are refused, after one exchange and one review.
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(() => pipeline.SendAsync(token))));
        var exchanges = (await _idp.StatsAsync()).Exchanges;
        exchanges.Should().ContainSingle();
        _alpha.TokenReviews.Should().ContainSingle();
        _alpha.TokenReviews.Single().Audiences.Should().Equal("k8s-api");
        outcomes.Select(o => o.Error?.Code).Distinct().Should().Equal(AuthenticationErrorCode.InvalidToken);

        // Now let the cluster know the exchanged token: a fresh token goes through, again with one exchange and one review.
        var fresh = await _idp.IssueTokenAsync(Harness.Resource, "read");
        var exchanged = (await pipeline.Get<ITokenExchangeClient>().ExchangeAsync(fresh, DateTimeOffset.UtcNow.AddMinutes(30), CancellationToken.None)).AccessToken!;
        _alpha.Users[exchanged] = "alice@alpha";
        outcomes = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(() => pipeline.SendAsync(fresh))));
        outcomes.Should().OnlyContain(o => o.Succeeded && o.Principal!.ClusterUser!.Username == "alice@alpha");
        (await _idp.StatsAsync()).Exchanges.Should().HaveCount(2);
        _alpha.TokenReviews.Should().HaveCount(2);
        _alpha.TokenReviews.Should().OnlyContain(r => r.Authorization == "Bearer server-sa-token");
        _beta.TokenReviews.Should().BeEmpty();
    }

    [Fact]
    public async Task FullChain_ReviewsTheExchangedToken_NotTheSubjectToken()
    {
        using var pipeline = FullChain();
        var token = await _idp.IssueTokenAsync(Harness.Resource);
        _beta.Authenticator = t => t == token ? "must-not-be-used" : "alice@beta";

        var outcome = await pipeline.SendAsync(token, "beta");

        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        outcome.Principal!.Exchanged.Should().BeTrue();
        outcome.Principal.ClusterUser!.Username.Should().Be("alice@beta");
        var review = _beta.TokenReviews.Should().ContainSingle().Subject;
        review.Token.Should().Be(outcome.Principal.EffectiveToken).And.NotBe(token);
        review.Audiences.Should().Equal("k8s-api");
        (await _idp.StatsAsync()).Exchanges.Should().ContainSingle().Which.SubjectToken.Should().Be(token);
    }
}
