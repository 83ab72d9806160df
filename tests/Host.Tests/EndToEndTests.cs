using System.Diagnostics;
using System.Net;
using System.Text.Json;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Builder;
using Microsoft.IdentityModel.JsonWebTokens;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpAuth.Host.Tests;

/// <summary>
/// The host on Kestrel with real peers: oidc-provider (issuer and STS), two fake API servers driven by the real
/// KubernetesClient, and the official C# and TypeScript MCP clients.
/// </summary>
public sealed class EndToEndTests : IAsyncLifetime
{
    private OidcProviderProcess _idp = null!;
    private FakeKubeApiServer _alpha = null!;
    private FakeKubeApiServer _beta = null!;
    private string _kubeconfig = null!;
    private WebApplication _host = null!;
    private int _port;

    private string BaseUrl => $"http://127.0.0.1:{_port}";

    public async Task InitializeAsync()
    {
        _idp = await OidcProviderProcess.StartAsync();
        _alpha = await FakeKubeApiServer.StartAsync("alpha");
        _beta = await FakeKubeApiServer.StartAsync("beta");
        // The clusters authenticate tokens meant for them (audience k8s-api): i.e. exchanged tokens, never the client's own.
        foreach (var cluster in new[] { _alpha, _beta })
        {
            var name = cluster.Name;
            cluster.Authenticator = token => TryAudience(token) == "k8s-api" ? "alice@" + name : null;
        }

        _kubeconfig = FakeKubeApiServer.WriteKubeconfig(Path.Combine(Path.GetTempPath(), $"mcpauth-e2e-{Guid.NewGuid():N}"), _alpha, _beta);
        _port = Repo.FreePort();
        var result = McpAuthHost.Build(
        [
            "--port", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--require-oauth",
            "--authorization-url", _idp.Issuer, "--server-url", BaseUrl, "--validate-token", "--kubeconfig", _kubeconfig,
            "--sts-client-id", OidcProviderProcess.ClientId, "--sts-client-secret", OidcProviderProcess.ClientSecret,
            "--sts-audience", "k8s-api", "--sts-scopes", "k8s",
        ]);
        result.App.Should().NotBeNull(result.Message);
        _host = result.App!;
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        await _host.DisposeAsync();
        await _idp.DisposeAsync();
        await _alpha.DisposeAsync();
        await _beta.DisposeAsync();
        File.Delete(_kubeconfig);
    }

    [Fact]
    public async Task CSharpClient_WhoAmIOnBeta_ExchangedTokenReachesBeta_ClientTokenNeverDoes()
    {
        var clientToken = await _idp.IssueTokenAsync(BaseUrl + "/mcp", "read");
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(BaseUrl + "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + clientToken },
        });
        await using var client = await McpClient.CreateAsync(transport);

        var tools = await client.ListToolsAsync();
        tools.Select(t => t.Name).Should().Contain("whoami");
        var result = await client.CallToolAsync("whoami", new Dictionary<string, object?> { ["context"] = "beta" });

        var whoami = JsonDocument.Parse(((TextContentBlock)result.Content[0]).Text).RootElement;
        whoami.GetProperty("exchanged").GetBoolean().Should().BeTrue();
        whoami.GetProperty("context").GetString().Should().Be("beta");
        whoami.GetProperty("subject").GetString().Should().Be(OidcProviderProcess.ClientId);
        whoami.GetProperty("cluster").GetProperty("username").GetString().Should().Be("alice@beta");

        var exchanged = _beta.SelfSubjectReviews.Should().ContainSingle().Subject.Token;
        TryAudience(exchanged).Should().Be("k8s-api");
        _beta.SelfSubjectReviews.Single().Authorization.Should().Be("Bearer " + exchanged);
        _beta.TokenReviews.Should().Contain(r => r.Token == exchanged && r.Audiences!.SequenceEqual(new[] { "k8s-api" }));
        _beta.TokenReviews.Should().OnlyContain(r => r.Authorization == "Bearer server-sa-token");
        var everything = _alpha.TokenReviews.Concat(_beta.TokenReviews).Concat(_alpha.SelfSubjectReviews).Concat(_beta.SelfSubjectReviews).ToList();
        everything.Should().NotContain(r => r.Token == clientToken || r.Body.Contains(clientToken) || r.Authorization.Contains(clientToken));
        (await _idp.StatsAsync()).Exchanges.Should().ContainSingle("the exchanged token is cached across the client's requests");
    }

    [Fact]
    public async Task NoToken_Is401WithResourceMetadata_AndTheMetadataLeadsToTheIssuer()
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync(BaseUrl + "/mcp", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.GetValues("WWW-Authenticate").Should().Equal(
            $"Bearer realm=\"Kubernetes MCP Server\", audience=\"{BaseUrl}/mcp\", resource_metadata=\"{BaseUrl}/.well-known/oauth-protected-resource/mcp\"");

        var issuerMetadata = JsonDocument.Parse(await http.GetStringAsync(BaseUrl + "/.well-known/oauth-authorization-server")).RootElement;
        issuerMetadata.GetProperty("issuer").GetString().Should().Be(_idp.Issuer);
        issuerMetadata.GetProperty("token_endpoint").GetString().Should().Be(_idp.Issuer + "/token");
        using var oidc = await http.GetAsync(BaseUrl + "/.well-known/openid-configuration");
        oidc.Headers.GetValues("Access-Control-Allow-Origin").Should().Equal("*");
        oidc.Headers.Contains("Set-Cookie").Should().BeFalse();
        _idp.Count(await _idp.StatsAsync(), "/.well-known/openid-configuration").Should().Be(1, "the host serves the document it discovered once");
    }

    [Fact]
    public async Task TypeScriptSdk_DiscoversMetadataFrom401_ThenCallsWhoAmIWithABearerToken()
    {
        var token = await _idp.IssueTokenAsync(BaseUrl + "/mcp", "read write");
        var info = new ProcessStartInfo(Repo.Node) { WorkingDirectory = Repo.Peers, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("ts-client.mjs");
        info.Environment["MCP_URL"] = BaseUrl + "/mcp";
        info.Environment["MCP_TOKEN"] = token;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        (await Task.WhenAny(process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)))).Should().NotBeNull();
        process.HasExited.Should().BeTrue();
        process.ExitCode.Should().Be(0, await stderr);

        var output = JsonDocument.Parse((await stdout).Trim().Split('\n').Last()).RootElement;
        output.GetProperty("unauthenticatedStatus").GetInt32().Should().Be(401);
        output.GetProperty("resourceMetadataUrl").GetString().Should().Be(BaseUrl + "/.well-known/oauth-protected-resource/mcp");
        output.GetProperty("resource").GetString().Should().Be(BaseUrl + "/mcp");
        output.GetProperty("authorizationServers").EnumerateArray().Select(e => e.GetString()).Should().Equal(_idp.Issuer);
        output.GetProperty("tokenEndpoint").GetString().Should().Be(_idp.Issuer + "/token");
        output.GetProperty("tools").EnumerateArray().Select(e => e.GetString()).Should().Contain("whoami");
        var whoami = output.GetProperty("whoami");
        whoami.GetProperty("scopes").EnumerateArray().Select(e => e.GetString()).Should().BeEquivalentTo(["read", "write"]);
        whoami.GetProperty("exchanged").GetBoolean().Should().BeTrue();
        whoami.GetProperty("cluster").GetProperty("username").GetString().Should().Be("alice@alpha");
    }

    private static string? TryAudience(string token)
    {
        try
        {
            return new JsonWebToken(token).Audiences.FirstOrDefault();
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
