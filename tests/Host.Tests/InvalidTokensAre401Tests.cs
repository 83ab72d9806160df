using System.Net;
using System.Security.Cryptography;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Builder;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.Host.Tests;

/// <summary>
/// MCP authorization conformance: tokens with no <c>aud</c>, another audience, expired, or signed by an untrusted key
/// under a trusted <c>kid</c> get exactly 401, never 403, even when scopes are required; the audience is the resource
/// URL derived from <c>--server-url</c>. Real issuer (oidc-provider), real adapters, Kestrel.
/// </summary>
public sealed class InvalidTokensAre401Tests : IAsyncLifetime
{
    private OidcProviderProcess _idp = null!;
    private WebApplication _host = null!;
    private string _baseUrl = "";

    public async Task InitializeAsync()
    {
        _idp = await OidcProviderProcess.StartAsync();
        var port = Repo.FreePort();
        _baseUrl = $"http://127.0.0.1:{port}";
        var result = McpAuthHost.Build(["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--require-oauth",
            "--authorization-url", _idp.Issuer, "--server-url", _baseUrl, "--required-scopes", "admin"]);
        _host = result.App!;
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        await _host.DisposeAsync();
        await _idp.DisposeAsync();
    }

    private Dictionary<string, object> Claims(string? audience, int expiresIn = 600)
    {
        var now = DateTimeOffset.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["iss"] = _idp.Issuer, ["sub"] = "alice", ["scope"] = "read",
            ["exp"] = now.AddSeconds(expiresIn).ToUnixTimeSeconds(), ["iat"] = now.AddSeconds(-60).ToUnixTimeSeconds(),
        };
        if (audience is not null)
        {
            claims["aud"] = audience;
        }

        return claims;
    }

    [Theory]
    [InlineData("NoAudience")]
    [InlineData("OtherAudience")]
    [InlineData("Expired")]
    [InlineData("UntrustedKeyUnderTrustedKid")]
    public async Task InvalidToken_IsExactly401_WithJsonBodyAndAbsoluteResourceMetadata(string name)
    {
        var resource = _baseUrl + "/mcp";
        var token = name switch
        {
            "NoAudience" => TestKeys.Sign(_idp.Keys.Rsa, "RS256", Claims(null)),
            "OtherAudience" => TestKeys.Sign(_idp.Keys.Rsa, "RS256", Claims("https://other.example.com/mcp")),
            "Expired" => TestKeys.Sign(_idp.Keys.Rsa, "RS256", Claims(resource, -600)),
            _ => TestKeys.Sign(new RsaSecurityKey(RSA.Create(2048)) { KeyId = _idp.Keys.Rsa.KeyId }, "RS256", Claims(resource), kid: _idp.Keys.Rsa.KeyId),
        };
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, resource) { Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", System.Text.Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        using var response = await http.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized, name);
        var challenge = response.Headers.GetValues("WWW-Authenticate").Single();
        challenge.Should().StartWith($"Bearer realm=\"Kubernetes MCP Server\", audience=\"{resource}\", resource_metadata=\"{_baseUrl}/.well-known/oauth-protected-resource/mcp\", scope=\"admin\", error=\"invalid_token\"");
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        (await response.Content.ReadAsStringAsync()).Should().Contain("\"error\":\"invalid_token\"");
    }

    [Fact]
    public async Task ValidTokenForTheResourceWithoutTheRequiredScope_Is403()
    {
        var token = await _idp.IssueTokenAsync(_baseUrl + "/mcp", "read");
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, _baseUrl + "/mcp") { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        using var response = await http.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        response.Headers.GetValues("WWW-Authenticate").Single().Should().Contain("error=\"insufficient_scope\"").And.Contain("scope=\"admin\"");
    }
}
