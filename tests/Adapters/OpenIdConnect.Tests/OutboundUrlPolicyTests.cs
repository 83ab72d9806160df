using System.Collections.Concurrent;
using McpAuth.Behaviors;
using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace McpAuth.OpenIdConnect.Tests;

/// <summary>
/// <see cref="OutboundUrlPolicy"/>: https, or plain http on loopback only, unless <c>AllowInsecureHttp</c>; and the STS
/// client applying it to the token endpoint, configured or discovered, before anything is sent.
/// </summary>
public sealed class OutboundUrlPolicyTests
{
    private const string OffLoopbackTokenUrl = "http://sts.mcpauth.invalid/token";

    [Theory]
    [InlineData("Https", "https://idp.example.com/token", false, true)]
    [InlineData("HttpsWithPort", "https://idp.example.com:8443/realms/mcp", false, true)]
    [InlineData("HttpLoopbackIPv4", "http://127.0.0.1:8080/token", false, true)]
    [InlineData("HttpLoopbackIPv4Range", "http://127.0.0.2:8080/token", false, true)]
    [InlineData("HttpLoopbackIPv6", "http://[::1]:8080/token", false, true)]
    [InlineData("HttpLocalhost", "http://localhost:8080/token", false, true)]
    [InlineData("HttpOffLoopback", "http://idp.example.com/token", false, false)]
    [InlineData("HttpOffLoopbackIp", "http://10.0.0.1/token", false, false)]
    [InlineData("HttpLoopbackLookalike", "http://127.0.0.1.example.com/token", false, false)]
    [InlineData("HttpOffLoopbackAllowInsecureHttp", "http://idp.example.com/token", true, true)]
    [InlineData("OtherScheme", "ftp://idp.example.com/token", false, false)]
    [InlineData("OtherSchemeAllowInsecureHttp", "ftp://idp.example.com/token", true, false)]
    [InlineData("Relative", "/token", false, false)]
    [InlineData("Empty", "", false, false)]
    public void Allows_Rows(string name, string url, bool allowInsecureHttp, bool allowed)
    {
        var policy = new OutboundUrlPolicy(Options.Create(new OidcProviderOptions { AllowInsecureHttp = allowInsecureHttp }));
        policy.Allows(url).Should().Be(allowed, name);
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            policy.Allows(uri).Should().Be(allowed, name + " (Uri overload)");
        }
    }

    [Fact]
    public void Allows_Null_IsFalse()
    {
        new OutboundUrlPolicy(Options.Create(new OidcProviderOptions { AllowInsecureHttp = true })).Allows((string?)null).Should().BeFalse();
    }

    [Theory]
    [InlineData("Configured")]
    [InlineData("Discovered")]
    public async Task PlainHttpTokenEndpointOffLoopback_IsUnavailable_AndNothingIsSent(string source)
    {
        await using var issuer = await FakeIssuer.StartAsync();
        var sent = new ConcurrentQueue<Uri>();
        using var pipeline = Exchanging(issuer, source, allowInsecureHttp: false, sent);

        var outcome = await pipeline.SendAsync(issuer.Token());

        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable, outcome.ToString());
        outcome.Error.Stage.Should().Be(StageName.Of<TokenExchangeBehavior>());
        sent.Select(u => u.AbsolutePath).Should().Equal(["/.well-known/openid-configuration", "/jwks"],
            "the handler sees the issuer's requests, so it would have seen an exchange");
        sent.Should().OnlyContain(u => u.IsLoopback);
        issuer.Count("/token").Should().Be(0);

        var direct = await pipeline.Get<StsTokenExchangeClient>().ExchangeAsync(issuer.Token(), null, CancellationToken.None);
        direct.Status.Should().Be(PortStatus.Unavailable);
        direct.Reason.Should().Be("The token endpoint is not an allowed URL (https, or http on loopback).");
        sent.Should().OnlyContain(u => u.IsLoopback);
    }

    [Theory]
    [InlineData("Configured")]
    [InlineData("Discovered")]
    public async Task PlainHttpTokenEndpointOffLoopback_WithAllowInsecureHttp_IsUsed(string source)
    {
        await using var issuer = await FakeIssuer.StartAsync();
        var sent = new ConcurrentQueue<Uri>();
        using var pipeline = Exchanging(issuer, source, allowInsecureHttp: true, sent);

        var outcome = await pipeline.SendAsync(issuer.Token());

        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        outcome.Principal!.EffectiveToken.Should().Be("opaque-from-sts.mcpauth.invalid");
        sent.Where(u => !u.IsLoopback).Should().Equal([new Uri(OffLoopbackTokenUrl)]);
        issuer.Count("/token").Should().Be(0);
    }

    // An exchange whose token endpoint is plain http off loopback: set (StsTokenUrl) or published by the issuer.
    private static Harness Exchanging(FakeIssuer issuer, string source, bool allowInsecureHttp, ConcurrentQueue<Uri> sent)
    {
        if (source == "Discovered")
        {
            issuer.TokenEndpoint = OffLoopbackTokenUrl;
        }

        return new Harness(
            o =>
            {
                o.AuthorizationUrl = issuer.Issuer;
                o.Audience = Harness.Resource;
                o.StsClientId = "mcp-client";
                o.StsAudience = "k8s-api";
            },
            b => b.AddOidcProvider(p => p.AllowInsecureHttp = allowInsecureHttp).AddTokenExchange(t =>
            {
                t.StsClientSecret = "mcp-secret";
                if (source == "Configured")
                {
                    t.StsTokenUrl = OffLoopbackTokenUrl;
                }
            }),
            services => services.AddHttpClient(IssuerMetadataStore.HttpClientName).AddHttpMessageHandler(() => new RecordingHandler(sent)));
    }
}
