using System.Globalization;
using System.Net;
using System.Text.Json;
using FluentAssertions;
using McpAuth.Host;
using McpAuth.OpenIdConnect;
using McpAuth.Ports;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpAuth.Host.Tests;

/// <summary>
/// Opaque access tokens end to end (RFC 7662): the host started from its command line, a real authorization server
/// (npm oidc-provider: opaque tokens for resources under /opaque/, introspection for the client mcp-server) and the
/// official C# MCP client. What the issuer is asked is counted at the issuer.
/// </summary>
public sealed class IntrospectionEndToEndTests : IAsyncLifetime
{
    private const string Resource = "https://mcp.example.com/opaque/mcp";
    private const string IntrospectionPath = "/token/introspection";
    private OidcProviderProcess _idp = null!;
    private WebApplication _host = null!;
    private int _port;

    private string BaseUrl => $"http://127.0.0.1:{_port}";

    public async Task InitializeAsync()
    {
        _idp = await OidcProviderProcess.StartAsync();
        (_host, _port) = await StartHostAsync(_idp.Issuer);
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        await _host.DisposeAsync();
        await _idp.DisposeAsync();
    }

    [Fact]
    public async Task CSharpClient_WithAnOpaqueToken_CallsWhoAmI_TheIssuerIsAskedOnceForAllItsRequests()
    {
        var token = await _idp.IssueTokenAsync(Resource, "read write");
        token.Should().NotContain(".", "oidc-provider issues opaque tokens for resources under /opaque/");
        await _idp.ResetAsync();
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(BaseUrl + "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + token },
        });
        await using var client = await McpClient.CreateAsync(transport);

        (await client.ListToolsAsync()).Select(t => t.Name).Should().Contain("whoami");
        var result = await client.CallToolAsync("whoami", new Dictionary<string, object?>());

        var whoami = JsonDocument.Parse(((TextContentBlock)result.Content[0]).Text).RootElement;
        whoami.GetProperty("issuer").GetString().Should().Be(_idp.Issuer, "the introspection answer's iss");
        whoami.GetProperty("audiences").EnumerateArray().Select(a => a.GetString()).Should().Equal(Resource);
        whoami.GetProperty("scopes").EnumerateArray().Select(a => a.GetString()).Should().Equal("read", "write");
        whoami.GetProperty("exchanged").GetBoolean().Should().BeFalse();
        var stats = await _idp.StatsAsync();
        _idp.Count(stats, IntrospectionPath).Should().Be(1, "initialize, tools/list and tools/call share one cached answer");
    }

    [Fact]
    public async Task UnknownOpaqueToken_Is401InvalidToken_AndTheInactiveAnswerIsCachedBriefly()
    {
        await _idp.ResetAsync();
        var unknown = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        using var http = new HttpClient();
        for (var i = 0; i < 3; i++)
        {
            using var response = await http.SendAsync(Mcp(unknown));
            response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            var challenge = response.Headers.WwwAuthenticate.Should().ContainSingle().Subject;
            challenge.Scheme.Should().Be("Bearer");
            challenge.Parameter.Should().Contain("error=\"invalid_token\"").And.Contain("error_description=\"The token is not active.\"")
                .And.Contain($"resource_metadata=\"{BaseUrl}/.well-known/oauth-protected-resource/mcp\"");
        }

        _idp.Count(await _idp.StatsAsync(), IntrospectionPath).Should().Be(1, "a not-active answer is reused for IntrospectionInactiveCacheTtl");
    }

    [Fact]
    public async Task OpaqueTokenForAnotherResource_IsActive_ButRefusedByTheAudienceCheck()
    {
        var other = await _idp.IssueTokenAsync("https://other.example.com/opaque/api", "read");
        await _idp.ResetAsync();

        using var http = new HttpClient();
        using var response = await http.SendAsync(Mcp(other));

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Contain("error=\"invalid_token\"").And.Contain("audience");
        _idp.Count(await _idp.StatsAsync(), IntrospectionPath).Should().Be(1);
    }

    [Fact]
    public async Task IntrospectionEndpointDown_Is503WithRetryAfter_NeverA401()
    {
        var closed = Repo.FreePort();
        var (host, port) = await StartHostAsync(_idp.Issuer, "--introspection-endpoint", $"http://127.0.0.1:{closed.ToString(CultureInfo.InvariantCulture)}/introspect");
        try
        {
            var token = await _idp.IssueTokenAsync(Resource, "read");
            using var http = new HttpClient();
            using var response = await http.SendAsync(Mcp(token, $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/mcp"));

            response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            response.Headers.RetryAfter.Should().NotBeNull();
            (await response.Content.ReadAsStringAsync()).Should().NotContain(token);
            host.Services.GetRequiredService<ITokenIntrospector>().Should().BeOfType<CachingTokenIntrospector>()
                .Which.Introspections.Should().Be(1);
        }
        finally
        {
            await host.StopAsync();
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task WithoutIntrospection_AnOpaqueToken_IsRefusedAtParse_AndTheIssuerIsNeverAsked()
    {
        var port = Repo.FreePort();
        var result = McpAuthHost.Build(
        [
            "--port", port.ToString(CultureInfo.InvariantCulture), "--require-oauth", "--authorization-url", _idp.Issuer,
            "--oauth-audience", Resource,
        ]);
        result.App.Should().NotBeNull(result.Message);
        await using var host = result.App!;
        await host.StartAsync();
        var token = await _idp.IssueTokenAsync(Resource, "read");
        await _idp.ResetAsync();

        using var http = new HttpClient();
        using var response = await http.SendAsync(Mcp(token, $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/mcp"));

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Contain("error=\"invalid_token\"").And.Contain("not a JWT");
        _idp.Count(await _idp.StatsAsync(), IntrospectionPath).Should().Be(0);
        await host.StopAsync();
    }

    private HttpRequestMessage Mcp(string token, string? url = null) => HostHarness.Mcp(token, path: url ?? BaseUrl + "/mcp");

    private static async Task<(WebApplication Host, int Port)> StartHostAsync(string issuer, params string[] extra)
    {
        var port = Repo.FreePort();
        var result = McpAuthHost.Build(
        [
            "--port", port.ToString(CultureInfo.InvariantCulture), "--require-oauth", "--authorization-url", issuer,
            "--server-url", $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", "--oauth-audience", Resource,
            "--introspection-client-id", "mcp-server", "--introspection-client-secret", "server-secret", .. extra,
        ]);
        result.App.Should().NotBeNull(result.Message);
        await result.App!.StartAsync();
        return (result.App, port);
    }
}
