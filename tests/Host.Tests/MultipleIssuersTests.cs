using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using McpAuth.Host;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace McpAuth.Host.Tests;

/// <summary>
/// Several issuers at once (McpAuth:Issuers), through the host, with two real authorization servers (two oidc-provider
/// processes, each with its own keys under the same kid): mixed traffic, per-issuer audiences, required scopes and
/// username prefix, the RFC 9728 document listing both, an unknown iss refused before any fetch, a token signed by A
/// that claims B's iss, and one issuer stopped while the other keeps working. Fetches are counted at each issuer.
/// </summary>
public sealed class MultipleIssuersTests : IAsyncLifetime
{
    private const string BResource = "https://b.example.com/mcp";
    private OidcProviderProcess _a = null!;
    private OidcProviderProcess _b = null!;
    private WebApplication _host = null!;
    private int _port;

    private string BaseUrl => $"http://127.0.0.1:{_port.ToString(CultureInfo.InvariantCulture)}";

    private string AResource => BaseUrl + "/mcp";

    public async Task InitializeAsync()
    {
        _a = await OidcProviderProcess.StartAsync();
        _b = await OidcProviderProcess.StartAsync();
        _port = Repo.FreePort();
        var result = McpAuthHost.Build(
            ["--port", _port.ToString(CultureInfo.InvariantCulture), "--require-oauth", "--server-url", BaseUrl],
            builder => builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["McpAuth:Issuers:0:Url"] = _a.Issuer,
                ["McpAuth:Issuers:1:Url"] = _b.Issuer,
                ["McpAuth:Issuers:1:Audiences:0"] = BResource,
                ["McpAuth:Issuers:1:RequiredScopes:0"] = "write",
                ["McpAuth:Issuers:1:ClaimMappings:Username:Prefix"] = "b:",
            }));
        result.App.Should().NotBeNull(result.Message);
        _host = result.App!;
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        await _host.DisposeAsync();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    [Fact]
    public async Task MixedTraffic_EachTokenIsCheckedByItsOwnIssuer_WithThatIssuersAudienceScopesAndPrefix()
    {
        using var http = new HttpClient();
        var fromA = await _a.IssueTokenAsync(AResource, "read");
        var fromB = await _b.IssueTokenAsync(BResource, "read write");

        for (var round = 0; round < 2; round++)
        {
            var a = await WhoAmIAsync(http, fromA);
            a.GetProperty("issuer").GetString().Should().Be(_a.Issuer);
            a.GetProperty("subject").GetString().Should().Be(OidcProviderProcess.ClientId, "issuer A has no username mapping");
            var b = await WhoAmIAsync(http, fromB);
            b.GetProperty("issuer").GetString().Should().Be(_b.Issuer);
            b.GetProperty("subject").GetString().Should().Be("b:" + OidcProviderProcess.ClientId, "issuer B's claim mapping prefixes the username");
        }

        // B's own required scope: a token of B without it is 403 naming it; A's tokens need no such scope.
        var bWithoutWrite = await _b.IssueTokenAsync(BResource, "read");
        using (var response = await http.SendAsync(Call(bWithoutWrite)))
        {
            response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
            response.Headers.WwwAuthenticate.ToString().Should().Contain("error=\"insufficient_scope\"").And.Contain("write");
        }

        // Audiences are per issuer: A's token for B's resource, and B's token for A's resource, are both refused.
        foreach (var wrong in new[] { await _a.IssueTokenAsync(BResource, "read"), await _b.IssueTokenAsync(AResource, "read write") })
        {
            using var response = await http.SendAsync(Call(wrong));
            response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            response.Headers.WwwAuthenticate.ToString().Should().Contain("audience does not match");
        }

        var metadata = await http.GetFromJsonAsync<JsonElement>(BaseUrl + "/.well-known/oauth-protected-resource/mcp");
        metadata.GetProperty("authorization_servers").EnumerateArray().Select(e => e.GetString()).Should().Equal(_a.Issuer, _b.Issuer);
    }

    [Fact]
    public async Task UnknownIssuer_Is401_WithoutAnyFetchAtEitherIssuer()
    {
        using var http = new HttpClient();
        using (var warm = await http.SendAsync(Call(await _a.IssueTokenAsync(AResource, "read"))))
        {
            warm.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        await _a.ResetAsync();
        await _b.ResetAsync();
        var forged = TestKeys.Sign(_a.Keys.Rsa, "RS256", Claims("https://unknown-issuer.example.com", AResource), kid: "rsa-1");

        using var response = await http.SendAsync(Call(forged));

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Contain("issuer is not one this server trusts");
        Fetches(await _a.StatsAsync()).Should().Be(0);
        Fetches(await _b.StatsAsync()).Should().Be(0);
    }

    [Fact]
    public async Task TokenSignedByA_ClaimingBsIssuer_IsCheckedWithBsKeysOnly_And401()
    {
        using var http = new HttpClient();
        var claimsB = Claims(_b.Issuer, BResource);
        claimsB["scope"] = "read write";
        // Same kid ("rsa-1") at both issuers, different key material: routing by iss must pick B's key, never A's.
        var forged = TestKeys.Sign(_a.Keys.Rsa, "RS256", claimsB, kid: "rsa-1");
        await _a.ResetAsync();

        using var response = await http.SendAsync(Call(forged));

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Contain("error=\"invalid_token\"");
        Fetches(await _a.StatsAsync()).Should().Be(0, "issuer A's keys are never consulted for a token claiming B");
        var genuine = TestKeys.Sign(_b.Keys.Rsa, "RS256", claimsB, kid: "rsa-1");
        using var control = await http.SendAsync(Call(genuine));
        control.StatusCode.Should().Be(HttpStatusCode.OK, "the same claims signed with B's key pass: the refusal was the key");
    }

    [Fact]
    public async Task OneIssuerStopped_TheOthersTokensKeepWorking_ItsOwnGet503()
    {
        using var http = new HttpClient();
        var fromA = await _a.IssueTokenAsync(AResource, "read");
        var fromB = await _b.IssueTokenAsync(BResource, "read write");
        await _b.DisposeAsync(); // B never answered this host: no keys cached for it

        for (var i = 0; i < 3; i++)
        {
            using var a = await http.SendAsync(Call(fromA));
            a.StatusCode.Should().Be(HttpStatusCode.OK, "issuer B being down does not touch A's tokens");
        }

        using var b = await http.SendAsync(Call(fromB));
        b.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        b.Headers.RetryAfter.Should().NotBeNull();
        _b = await OidcProviderProcess.StartAsync(); // DisposeAsync of the class disposes it again
    }

    private static int Fetches(ProviderStats stats) =>
        stats.Counts.Where(c => c.Key.Contains("well-known", StringComparison.Ordinal) || c.Key.Contains("jwks", StringComparison.Ordinal)).Sum(c => c.Value);

    private static Dictionary<string, object> Claims(string issuer, string audience)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return new Dictionary<string, object>
        {
            ["iss"] = issuer, ["sub"] = "mallory", ["aud"] = audience, ["scope"] = "read", ["iat"] = now, ["exp"] = now + 600,
        };
    }

    private async Task<JsonElement> WhoAmIAsync(HttpClient http, string token)
    {
        using var response = await http.SendAsync(Call(token));
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await HostBehaviourTests.ReadToolResult(response);
    }

    private HttpRequestMessage Call(string token) => HostHarness.Mcp(token, HostHarness.ToolCall("whoami"), path: BaseUrl + "/mcp");
}
