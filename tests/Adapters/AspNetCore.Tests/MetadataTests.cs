using System.Net;
using System.Text.Json;
using McpAuth.OpenIdConnect;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace McpAuth.AspNetCore.Tests;

/// <summary>MapMcpAuthMetadata: the RFC 9728 document the challenges name, the issuer's metadata, and nothing else.</summary>
public sealed class MetadataTests
{
    [Theory]
    [InlineData("/.well-known/oauth-protected-resource")]
    [InlineData("/.well-known/oauth-protected-resource/mcp")]
    public async Task ProtectedResourceMetadata_IsTheRfc9728Document(string path)
    {
        await using var app = await EmbeddedApp.StartAsync(o => { o.RequiredScopes = ["read"]; o.ToolScopes["admin-action"] = ["mcp:admin"]; });
        using var response = await app.Client.GetAsync(path);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.GetValues("Access-Control-Allow-Origin").Should().Equal("*");
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        json.GetProperty("resource").GetString().Should().Be(EmbeddedApp.Resource);
        json.GetProperty("authorization_servers").EnumerateArray().Select(e => e.GetString()).Should().Equal("https://issuer.test");
        json.GetProperty("scopes_supported").EnumerateArray().Select(e => e.GetString()).Should().Equal("read", "mcp:admin");
        json.GetProperty("bearer_methods_supported").EnumerateArray().Select(e => e.GetString()).Should().Equal("header");
        json.GetProperty("resource_name").GetString().Should().Be("mcp");
    }

    [Fact]
    public async Task ChallengesResourceMetadata_ResolvesToTheDocument_AtTheConfiguredMcpPath()
    {
        await using var app = await EmbeddedApp.StartAsync(http: s => s.McpPath = "/api/mcp", endpoints: a => a.MapMcp("/api/mcp").RequireMcpAuth());
        var request = EmbeddedApp.Mcp(null);
        request.RequestUri = new Uri("/api/mcp", UriKind.Relative);
        using var challenge = await app.Client.SendAsync(request);
        challenge.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var header = challenge.Headers.GetValues("WWW-Authenticate").Single();
        var url = header.Split("resource_metadata=\"")[1].Split('"')[0];
        url.Should().Be("https://mcp.example.com/.well-known/oauth-protected-resource/api/mcp");
        var document = JsonDocument.Parse(await app.Client.GetStringAsync(new Uri(url).PathAndQuery)).RootElement;
        document.GetProperty("resource").GetString().Should().Be("https://mcp.example.com/api/mcp");
        header.Should().Contain("audience=\"https://mcp.example.com/api/mcp\"", "the resource URL is the expected audience");
    }

    [Fact]
    public async Task WithoutServerUrl_TheResourceIsDerivedFromTheRequest()
    {
        await using var app = await EmbeddedApp.StartAsync(o => o.Audience = "mcp-server", s => s.ServerUrl = null);
        var json = JsonDocument.Parse(await app.Client.GetStringAsync("/.well-known/oauth-protected-resource/mcp")).RootElement;
        json.GetProperty("resource").GetString().Should().Be("http://localhost/mcp");
    }

    [Theory]
    [InlineData("/.well-known/anything-else")]
    [InlineData("/.well-known/jwks.json")]
    [InlineData("/healthz")]
    public async Task OtherPaths_AreNotMapped(string path)
    {
        await using var app = await EmbeddedApp.StartAsync();
        (await app.Client.GetAsync(path)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("/.well-known/oauth-protected-resource/mcp")]
    [InlineData("/.well-known/oauth-authorization-server")]
    public async Task CorsPreflight(string path)
    {
        await using var app = await EmbeddedApp.StartAsync();
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.TryAddWithoutValidation("Origin", "https://app.example.com");
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Method", "GET");
        using var response = await app.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        response.Headers.GetValues("Access-Control-Allow-Origin").Should().Equal("*");
        response.Headers.GetValues("Access-Control-Allow-Methods").Should().Equal("GET, OPTIONS");
    }

    [Theory]
    [InlineData("/.well-known/oauth-protected-resource/mcp")]
    [InlineData("/.well-known/oauth-authorization-server")]
    public async Task WithoutAnIssuer_Is404(string path)
    {
        await using var app = await EmbeddedApp.StartAsync(o => { o.AuthorizationUrl = null; o.ValidateToken = true; });
        (await app.Client.GetAsync(path)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task IssuerMetadata_IssuerUnreachable_Is503WithRetryAfter_NotAProxyOfClientHeaders()
    {
        await using var app = await EmbeddedApp.StartAsync(o => o.AuthorizationUrl = "http://127.0.0.1:9", services: b =>
            b.Services.Configure<OidcProviderOptions>(p => { p.IssuerTimeout = TimeSpan.FromSeconds(1); }));
        var request = new HttpRequestMessage(HttpMethod.Get, "/.well-known/oauth-authorization-server");
        request.Headers.TryAddWithoutValidation("Cookie", "session=secret");
        using var response = await app.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Headers.GetValues("Retry-After").Should().Equal("5");
    }

    [Fact]
    public async Task Metadata_NeedsNoToken_AndNeverRunsThePipeline()
    {
        await using var app = await EmbeddedApp.StartAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, "/.well-known/oauth-protected-resource/mcp");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + EmbeddedApp.Token());
        (await app.Client.SendAsync(request)).StatusCode.Should().Be(HttpStatusCode.OK);
        app.Oidc.Calls.Should().Be(0);
    }
}
