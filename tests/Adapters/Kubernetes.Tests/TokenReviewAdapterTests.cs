using System.Diagnostics;
using McpAuth.Behaviors;
using McpAuth.Ports;
using McpAuth.TestPeers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace McpAuth.Kubernetes.Tests;

/// <summary>TokenReview: the real KubernetesClient against two fake API servers, one kubeconfig context each.</summary>
public sealed class TokenReviewAdapterTests : IAsyncLifetime
{
    private FakeKubeApiServer _alpha = null!;
    private FakeKubeApiServer _beta = null!;
    private string _kubeconfig = null!;

    public async Task InitializeAsync()
    {
        _alpha = await FakeKubeApiServer.StartAsync("alpha");
        _beta = await FakeKubeApiServer.StartAsync("beta");
        _kubeconfig = FakeKubeApiServer.WriteKubeconfig(Path.Combine(Path.GetTempPath(), $"mcpauth-kubeconfig-{Guid.NewGuid():N}"), _alpha, _beta);
    }

    public async Task DisposeAsync()
    {
        await _alpha.DisposeAsync();
        await _beta.DisposeAsync();
        File.Delete(_kubeconfig);
    }

    // Timeout 5 s (the default) so a cold first call on a loaded CI machine is not mistaken for a failing peer; the hang
    // test uses 1 s to prove the timeout.
    private Harness Review(Action<McpAuthOptions>? more = null, double timeoutSeconds = 5) => new(o =>
    {
        o.ValidateToken = true;
        more?.Invoke(o);
    }, b => b.AddKubernetesTokenReview(k => { k.Kubeconfig = _kubeconfig; k.TokenReviewTimeout = TimeSpan.FromSeconds(timeoutSeconds); }));

    private static string RawToken(string audience = "https://kubernetes.default.svc") =>
        TestKeys.Sign(new TestKeys().Rsa, "RS256", Claims.For("https://cluster.test", audience: audience));

    [Fact]
    public async Task RevocationWindow_ZeroTtl_TurnsTheReviewCacheOff_EveryRequestIsReviewed()
    {
        var token = RawToken();
        _alpha.Users[token] = "alice";
        using var pipeline = new Harness(o => o.ValidateToken = true, b => b.AddKubernetesTokenReview(k =>
        {
            k.Kubeconfig = _kubeconfig;
            k.ReviewCacheAuthenticatedTtl = TimeSpan.Zero;
        }));
        for (var i = 0; i < 3; i++)
        {
            (await pipeline.SendAsync(token)).Succeeded.Should().BeTrue();
        }

        _alpha.TokenReviews.Should().HaveCount(3, "a zero TTL keeps nothing");
        _alpha.Users.TryRemove(token, out _); // revoked at the cluster
        (await pipeline.SendAsync(token)).Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken, "the revocation is seen at once");
    }

    [Fact]
    public async Task RevocationWindow_DefaultTtl_KeepsARevokedTokenWorkingUntilItExpires()
    {
        var token = RawToken();
        _alpha.Users[token] = "alice";
        using var pipeline = Review();
        (await pipeline.SendAsync(token)).Succeeded.Should().BeTrue();
        _alpha.Users.TryRemove(token, out _);
        (await pipeline.SendAsync(token)).Succeeded.Should().BeTrue("the trade-off of the 2-minute cache: documented in the README");
        _alpha.TokenReviews.Should().ContainSingle();
    }

    [Fact]
    public async Task Review_RoutesToTheRightContextWithServerCredentialsAndAudience()
    {
        var token = RawToken("mcp-server");
        _beta.Users[token] = "alice@beta";
        using var pipeline = Review(o => o.Audience = "mcp-server");
        var outcome = await pipeline.SendAsync(token, "beta");
        outcome.Error.Should().BeNull();
        outcome.Principal!.ClusterUser!.Username.Should().Be("alice@beta");
        outcome.Principal.ClusterUser.Groups.Should().Equal("system:authenticated", "beta-users");
        outcome.Principal.ClusterUsers.Keys.Should().Equal("beta");
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
    public async Task Review_EveryTargetOfTheCalls_IsReviewed()
    {
        var token = RawToken();
        _alpha.Users[token] = "a";
        _beta.Users[token] = "b";
        using var pipeline = Review();
        var outcome = await pipeline.SendAsync(new AuthenticateRequest("Bearer " + token,
        [
            new McpCall(McpCall.ToolsCall, "whoami", "alpha"),
            new McpCall(McpCall.ToolsCall, "whoami", "beta"),
            new McpCall(McpCall.ToolsCall, "whoami", "alpha"),
        ]));
        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        outcome.Principal!.ClusterUsers.Should().HaveCount(2);
        outcome.Principal.ClusterUsers["alpha"].Username.Should().Be("a");
        outcome.Principal.ClusterUsers["beta"].Username.Should().Be("b");
        _alpha.TokenReviews.Should().ContainSingle();
        _beta.TokenReviews.Should().ContainSingle();
    }

    [Fact]
    public async Task Review_CallsNotSupplied_IsUnavailable_AndNothingIsReviewed()
    {
        var token = RawToken();
        _alpha.Users[token] = "alice@alpha";
        using var pipeline = Review();
        var outcome = await pipeline.SendAsync(new AuthenticateRequest("Bearer " + token));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        outcome.Error.Stage.Should().Be(StageName.Of<TokenReviewBehavior>());
        _alpha.TokenReviews.Should().BeEmpty();
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
    public async Task Review_AuthenticatedResultIsNotReusedPastTheTokensExpiry()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var pipeline = new Harness(
            o => o.ValidateToken = true,
            b => b.AddKubernetesTokenReview(k => k.Kubeconfig = _kubeconfig),
            s => s.AddSingleton<TimeProvider>(time));
        var token = TestKeys.Sign(new TestKeys().Rsa, "RS256", Claims.For("https://cluster.test", expiresInSeconds: 10));
        _alpha.Users[token] = "alice@alpha";
        (await pipeline.SendAsync(token)).Succeeded.Should().BeTrue();

        time.Advance(TimeSpan.FromSeconds(30)); // past exp, within the 60 s ClockSkew, well within the 2 min TTL
        (await pipeline.SendAsync(token)).Succeeded.Should().BeTrue("the cluster still authenticates it here");

        _alpha.TokenReviews.Should().HaveCount(2, "a cached review must not outlive the token's exp");
    }

    [Fact]
    public async Task Review_AudiencesNotIntersecting_IsInvalidToken()
    {
        var token = RawToken("mcp-server");
        _alpha.Users[token] = "alice";
        _alpha.AudiencesOverride = ["https://kubernetes.default.svc"];
        using var pipeline = Review(o => o.Audience = "mcp-server");
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
