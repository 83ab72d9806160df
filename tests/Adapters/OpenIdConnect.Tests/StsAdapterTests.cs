using System.Diagnostics;
using System.Text;
using McpAuth.Behaviors;
using McpAuth.Ports;
using McpAuth.TestPeers;
using Microsoft.Extensions.DependencyInjection;

namespace McpAuth.OpenIdConnect.Tests;

/// <summary>
/// STS: the oidc-provider's token-exchange grant, one provider process per test (tests change its state). The outbound-URL
/// rule for the token endpoint is in <see cref="OutboundUrlPolicyTests"/>; the STS + TokenReview chain in
/// McpAuth.Kubernetes.Tests.
/// </summary>
public sealed class StsAdapterTests : IAsyncLifetime
{
    private OidcProviderProcess _idp = null!;

    public async Task InitializeAsync() => _idp = await OidcProviderProcess.StartAsync();

    public async Task DisposeAsync() => await _idp.DisposeAsync();

    // Timeouts: 5 s (the default) so a cold first call on a loaded CI machine is not mistaken for a failing peer; the
    // hang test uses 1 s to prove the timeout.
    private Harness Sts(Action<TokenExchangeOptions>? exchange = null, double stsTimeoutSeconds = 5) =>
        new(
            o =>
            {
                o.AuthorizationUrl = _idp.Issuer;
                o.Audience = Harness.Resource;
                o.StsClientId = OidcProviderProcess.ClientId;
                o.StsAudience = "k8s-api";
            },
            b => b.AddOidcProvider().AddTokenExchange(t =>
            {
                t.StsClientSecret = OidcProviderProcess.ClientSecret;
                t.StsScopes = ["k8s", "read"];
                t.StsTimeout = TimeSpan.FromSeconds(stsTimeoutSeconds);
                exchange?.Invoke(t);
            }));

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
        using var pipeline = Sts(t => t.StsTokenUrl = _idp.Issuer + "/token");
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
        using var pipeline = Sts(t => t.StsClientSecret = "wrong");
        var outcome = await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        outcome.Error.Stage.Should().Be(StageName.Of<TokenExchangeBehavior>());
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
        outcome.Error.Stage.Should().Be(StageName.Of<TokenExchangeBehavior>());
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
        outcome.Error.Stage.Should().Be(StageName.Of<TokenExchangeBehavior>());
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(3), "StsTimeout is 1 s");
    }

    [Fact]
    public async Task Sts_Down_IsUnavailable()
    {
        using var pipeline = Sts(t => t.StsTokenUrl = $"http://127.0.0.1:{Repo.FreePort()}/token");
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
}
