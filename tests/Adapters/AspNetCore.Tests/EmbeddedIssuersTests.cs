using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using McpAuth.OpenIdConnect;
using McpAuth.Ports;
using McpAuth.TestPeers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace McpAuth.AspNetCore.Tests;

/// <summary>
/// Several issuers and opaque tokens through the embedding API only (<c>AddAuthentication().AddMcpAuth(o =&gt; …)</c>
/// in a web app, real OIDC adapters), against two real authorization servers (two oidc-provider processes; the first
/// also issues opaque tokens and introspects them).
/// </summary>
public sealed class EmbeddedIssuersTests : IAsyncLifetime
{
    private const string OpaqueResource = EmbeddedApp.ServerUrl + "/opaque/mcp";
    private OidcProviderProcess _a = null!;
    private OidcProviderProcess _b = null!;
    private EmbeddedApp _app = null!;

    public async Task InitializeAsync()
    {
        _a = await OidcProviderProcess.StartAsync();
        _b = await OidcProviderProcess.StartAsync();
        _app = await EmbeddedApp.StartAsync(o =>
        {
            o.AuthorizationUrl = null;
            o.Issuers.Add(new IssuerOptions { Url = _a.Issuer, Audiences = [EmbeddedApp.Resource, OpaqueResource] });
            o.Issuers.Add(new IssuerOptions { Url = _b.Issuer, ClaimMappings = new IssuerClaimMappings { Username = new ClaimMapping { Prefix = "b:" } } });
            o.IntrospectionClientId = "mcp-server";
        }, services: b =>
        {
            b.Services.Configure<IntrospectionOptions>(i => i.IntrospectionClientSecret = "server-secret");
            // EmbeddedApp fakes the issuer port; this test uses the real one.
            b.Services.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(sp => sp.GetRequiredService<MultiIssuerTokenValidator>()));
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    [Fact]
    public async Task JwtsOfBothIssuers_AndAnOpaqueTokenOfTheFirst_AllReachTheTool_EachAsItsIssuerSays()
    {
        var fromA = await _a.IssueTokenAsync(EmbeddedApp.Resource, "read");
        var fromB = await _b.IssueTokenAsync(EmbeddedApp.Resource, "read");
        var opaque = await _a.IssueTokenAsync(OpaqueResource, "read");
        opaque.Should().NotContain(".");

        (await SubjectAsync(fromA)).Should().Be(OidcProviderProcess.ClientId);
        (await SubjectAsync(fromB)).Should().Be("b:" + OidcProviderProcess.ClientId);
        (await SubjectAsync(opaque)).Should().BeNull("a client_credentials token's introspection answer has no sub");
        _app.Runs.Count("whoami").Should().Be(3);

        _app.App.Services.GetRequiredService<IOidcTokenValidator>().Should().BeOfType<MultiIssuerTokenValidator>()
            .Which.Stores.Keys.Should().BeEquivalentTo([_a.Issuer, _b.Issuer]);
        _app.App.Services.GetRequiredService<ITokenIntrospector>().Should().BeOfType<CachingTokenIntrospector>()
            .Which.Introspections.Should().Be(1);
        var metadata = await _app.Client.GetFromJsonAsync<JsonElement>(EmbeddedApp.Metadata);
        metadata.GetProperty("authorization_servers").EnumerateArray().Select(e => e.GetString()).Should().Equal(_a.Issuer, _b.Issuer);
    }

    [Fact]
    public async Task TokenOfAnUnlistedIssuer_Is401_AndNeitherIssuerIsAsked()
    {
        var other = await OidcProviderProcess.StartAsync();
        try
        {
            var token = await other.IssueTokenAsync(EmbeddedApp.Resource, "read");
            await _a.ResetAsync();
            await _b.ResetAsync();

            using var response = await _app.Client.SendAsync(EmbeddedApp.Mcp(token, EmbeddedApp.ToolCall("whoami")));

            response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            response.Headers.WwwAuthenticate.ToString().Should().Contain("issuer is not one this server trusts");
            (await _a.StatsAsync()).Counts.Values.Sum().Should().Be(0);
            (await _b.StatsAsync()).Counts.Values.Sum().Should().Be(0);
            _app.Runs.Count("whoami").Should().Be(0);
        }
        finally
        {
            await other.DisposeAsync();
        }
    }

    private async Task<string?> SubjectAsync(string token)
    {
        using var response = await _app.Client.SendAsync(EmbeddedApp.Mcp(token, EmbeddedApp.ToolCall("whoami")));
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        var data = text.Split('\n').First(l => l.StartsWith("data:", StringComparison.Ordinal))["data:".Length..].Trim();
        var content = JsonDocument.Parse(data).RootElement.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString()!;
        var subject = JsonDocument.Parse(content).RootElement.GetProperty("subject");
        return subject.ValueKind == JsonValueKind.Null ? null : subject.GetString();
    }
}
