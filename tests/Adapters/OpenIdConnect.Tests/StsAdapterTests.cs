using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics;
using System.Text;
using McpAuth.Adapters.Kubernetes;
using McpAuth.Adapters.Sts;
using McpAuth.Behaviors;
using McpAuth.Ports;
using McpAuth.TestPeers;

namespace McpAuth.Adapters.Tests;

/// <summary>STS (the oidc-provider's token-exchange grant) and TokenReview (the real KubernetesClient against fake API servers).</summary>
public sealed class StsAndTokenReviewAdapterTests : IAsyncLifetime
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

    // Timeouts: 5 s (the default) so a cold first call on a loaded CI machine is not mistaken for a failing peer; the
    // hang tests use 1 s to prove the timeout.
    private Harness Sts(Action<McpAuthOptions>? more = null, bool review = false, double stsTimeoutSeconds = 5) => new(o =>
    {
        o.AuthorizationUrl = _idp.Issuer;
        o.OAuthAudience = Harness.Resource;
        o.StsClientId = OidcProviderProcess.ClientId;
        o.StsClientSecret = OidcProviderProcess.ClientSecret;
        o.StsAudience = "k8s-api";
        o.StsScopes = ["k8s", "read"];
        o.ValidateToken = review;
        more?.Invoke(o);
    }, b => b.AddOidcProvider().AddTokenExchange(t => t.StsTimeout = TimeSpan.FromSeconds(stsTimeoutSeconds)).AddKubernetesTokenReview(k => k.Kubeconfig = _kubeconfig));

    private Harness Review(Action<McpAuthOptions>? more = null, double timeoutSeconds = 5) => new(o =>
    {
        o.ValidateToken = true;
        more?.Invoke(o);
    }, b => b.AddKubernetesTokenReview(k => { k.Kubeconfig = _kubeconfig; k.TokenReviewTimeout = TimeSpan.FromSeconds(timeoutSeconds); }));

    private static string RawToken(string audience = "https://kubernetes.default.svc") =>
        TestKeys.Sign(new TestKeys().Rsa, "RS256", Claims.For("https://cluster.test", audience: audience));

    [Fact]
    public async Task Sts_SendsTheOriginalsExactFormWithBasicAuth()
    {
        using var pipeline = Sts();
        var token = await _idp.IssueTokenAsync(Harness.Resource);

        var outcome = await pipeline.SendAsync(token);

        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        outcome.Principal!.Exchanged.Should().BeTrue();
        outcome.Principal.EffectiveToken.Should().NotBe(token);
        var exchanged = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(outcome.Principal.EffectiveToken);
        exchanged.Audiences.Should().Equal("k8s-api");
        var stats = await _idp.StatsAsync();
        var sent = stats.Exchanges.Should().ContainSingle().Subject;
        sent.GrantType.Should().Be("urn:ietf:params:oauth:grant-type:token-exchange");
        sent.SubjectToken.Should().Be(token);
        sent.SubjectTokenType.Should().Be("urn:ietf:params:oauth:token-type:access_token");
        sent.RequestedTokenType.Should().Be("urn:ietf:params:oauth:token-type:access_token");
        sent.Audience.Should().Be("k8s-api");
        sent.Scope.Should().Be("k8s read");
        sent.Authorization.Should().Be("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("mcp-client:mcp-secret")));
        _idp.Count(stats, "/token").Should().Be(2, "one client_credentials for the test token, one exchange");
    }

    [Fact]
    public async Task Sts_TokenUrlSetting_OverridesDiscovery()
    {
        using var pipeline = Sts(o => o.StsTokenUrl = _idp.Issuer + "/token");
        (await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource))).Succeeded.Should().BeTrue();
        (await _idp.StatsAsync()).Exchanges.Should().ContainSingle();
    }

    [Fact]
    public async Task Sts_400_IsRefused()
    {
        using var pipeline = Sts();
        var result = await pipeline.Get<StsTokenExchangeClient>().ExchangeAsync("not-a-token-the-sts-accepts", null, CancellationToken.None);
        result.Status.Should().Be(PortStatus.Rejected);
        result.Reason.Should().Be("The token exchange service refused the token (invalid_grant).");
        (await _idp.StatsAsync()).Exchanges.Should().ContainSingle();
    }

    [Fact]
    public async Task Sts_WrongClientSecret_401_IsRefused()
    {
        using var pipeline = Sts(o => o.StsClientSecret = "wrong");
        var outcome = await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        outcome.Error.Stage.Should().Be(Stage.TokenExchange);
        outcome.Error.Description.Should().NotContain("wrong");
    }

    [Fact]
    public async Task Sts_500_IsUnavailable()
    {
        using var pipeline = Sts();
        var token = await _idp.IssueTokenAsync(Harness.Resource);
        await _idp.SetStsModeAsync("fail500");
        var outcome = await pipeline.SendAsync(token);
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        outcome.Error.Stage.Should().Be(Stage.TokenExchange);
        await pipeline.SendAsync(token);
        (await _idp.StatsAsync()).Exchanges.Should().HaveCount(2, "failures are not cached");
    }

    [Fact]
    public async Task Sts_Hang_IsUnavailableWithinTheTimeout()
    {
        using var pipeline = Sts(stsTimeoutSeconds: 1);
        (await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource))).Succeeded.Should().BeTrue("warm-up: discovery, keys, connection");
        var token = await _idp.IssueTokenAsync(Harness.Resource, "read");
        await _idp.SetStsModeAsync("hang");
        var watch = Stopwatch.StartNew();
        var outcome = await pipeline.SendAsync(token);
        watch.Stop();
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        outcome.Error.Stage.Should().Be(Stage.TokenExchange);
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(3), "StsTimeout is 1 s");
    }

    [Fact]
    public async Task Sts_Down_IsUnavailable()
    {
        using var pipeline = Sts(o => o.StsTokenUrl = $"http://127.0.0.1:{Repo.FreePort()}/token");
        var outcome = await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
    }

    [Fact]
    public async Task Sts_OpaqueExchangedToken_IsFine()
    {
        await _idp.SetStsModeAsync("opaque");
        using var pipeline = Sts();
        var outcome = await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource));
        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        outcome.Principal!.EffectiveToken.Should().StartWith("opaque-");
    }

    [Fact]
    public async Task Sts_ExchangedTokenIsCached_FiveRequestsOneExchange()
    {
        using var pipeline = Sts();
        var token = await _idp.IssueTokenAsync(Harness.Resource);
        for (var i = 0; i < 5; i++)
        {
            (await pipeline.SendAsync(token)).Principal!.Exchanged.Should().BeTrue();
        }

        (await _idp.StatsAsync()).Exchanges.Should().ContainSingle();
        (await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource, "read"))).Succeeded.Should().BeTrue();
        (await _idp.StatsAsync()).Exchanges.Should().HaveCount(2, "another subject token is another exchange");
    }

    [Fact]
    public async Task FullChain_64ConcurrentIdenticalRequests_OneExchangeAndOneReview()
    {
        using var pipeline = Sts(review: true);
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
    }

    [Fact]
    public async Task Review_RoutesToTheRightContextWithServerCredentialsAndAudience()
    {
        var token = RawToken("mcp-server");
        _beta.Users[token] = "alice@beta";
        using var pipeline = Review(o => o.OAuthAudience = "mcp-server");
        var outcome = await pipeline.SendAsync(token, "beta");
        outcome.Error.Should().BeNull();
        outcome.Principal!.ClusterUser!.Username.Should().Be("alice@beta");
        outcome.Principal.ClusterUser.Groups.Should().Equal("system:authenticated", "beta-users");
        var review = _beta.TokenReviews.Should().ContainSingle().Subject;
        review.Authorization.Should().Be("Bearer server-sa-token");
        review.Token.Should().Be(token);
        review.Audiences.Should().Equal("mcp-server");
        _alpha.TokenReviews.Should().BeEmpty();
    }

    [Fact]
    public async Task Review_EmptyTargetUsesTheCurrentContext_AndSendsNoAudiencesWhenNoneConfigured()
    {
        var token = RawToken();
        _alpha.Users[token] = "alice@alpha";
        using var pipeline = Review();
        var outcome = await pipeline.SendAsync(token);
        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        var review = _alpha.TokenReviews.Should().ContainSingle().Subject;
        review.Audiences.Should().BeNull();
        review.Body.Should().NotContain("audiences");
        _beta.TokenReviews.Should().BeEmpty();
    }

    [Fact]
    public async Task Review_NotAuthenticated_IsInvalidToken_AndTheRejectionIsCached()
    {
        using var pipeline = Review();
        var token = RawToken();
        (await pipeline.SendAsync(token)).Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        (await pipeline.SendAsync(token)).Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        _alpha.TokenReviews.Should().ContainSingle();
    }

    [Fact]
    public async Task Review_AudiencesNotIntersecting_IsInvalidToken()
    {
        var token = RawToken("mcp-server");
        _alpha.Users[token] = "alice";
        _alpha.AudiencesOverride = ["https://kubernetes.default.svc"];
        using var pipeline = Review(o => o.OAuthAudience = "mcp-server");
        var outcome = await pipeline.SendAsync(token);
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        outcome.Error.Description.Should().Be("The cluster did not confirm the token's audience.");
    }

    [Fact]
    public async Task Review_ApiServer500_IsUnavailable_AndNotCached()
    {
        _alpha.FailWith = 500;
        using var pipeline = Review();
        var token = RawToken();
        (await pipeline.SendAsync(token)).Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        (await pipeline.SendAsync(token)).Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        _alpha.TokenReviews.Should().HaveCount(2);
    }

    [Fact]
    public async Task Review_ApiServerDown_IsUnavailable()
    {
        await _alpha.DisposeAsync();
        using var pipeline = Review();
        var watch = Stopwatch.StartNew();
        (await pipeline.SendAsync(RawToken())).Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
        _alpha = await FakeKubeApiServer.StartAsync("alpha");
    }

    [Fact]
    public async Task Review_ApiServerHangs_IsUnavailableWithinTheTimeout()
    {
        using var pipeline = Review(timeoutSeconds: 1);
        (await pipeline.SendAsync(RawToken())).Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken, "warm-up: client built, connection open");
        _alpha.Delay = TimeSpan.FromSeconds(10);
        var watch = Stopwatch.StartNew();
        (await pipeline.SendAsync(RawToken())).Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(4), "TokenReviewTimeout is 1 s");
    }

    [Fact]
    public async Task Review_UnknownContext_IsInvalidRequest_AndNothingIsReviewed()
    {
        using var pipeline = Review();
        var outcome = await pipeline.SendAsync(RawToken(), "gamma");
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidRequest);
        outcome.Error.Description.Should().Be("Unknown cluster context 'gamma'.");
        _alpha.TokenReviews.Should().BeEmpty();
        _beta.TokenReviews.Should().BeEmpty();
    }

    [Fact]
    public async Task Review_AuthenticatedResultIsCachedPerContext()
    {
        var token = RawToken();
        _alpha.Users[token] = "a";
        _beta.Users[token] = "b";
        using var pipeline = Review();
        for (var i = 0; i < 3; i++)
        {
            (await pipeline.SendAsync(token, "alpha")).Principal!.ClusterUser!.Username.Should().Be("a");
            (await pipeline.SendAsync(token, "beta")).Principal!.ClusterUser!.Username.Should().Be("b");
        }

        _alpha.TokenReviews.Should().ContainSingle();
        _beta.TokenReviews.Should().ContainSingle();
        ((CachingTokenReviewClient)pipeline.Get<ITokenReviewClient>()).Reviews.Should().Be(2);
    }
}
