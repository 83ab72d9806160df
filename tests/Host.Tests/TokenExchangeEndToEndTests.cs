using System.Net;
using System.Text.Json;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;

namespace McpAuth.Host.Tests;

/// <summary>
/// Token exchange through the host (#14), configured by its flags only: each strategy and each client authentication
/// method end to end, from a token oidc-provider issued to the whoami tool's answer (exchanged, and who acts). RFC 8693
/// at the real oidc-provider (which verifies signed and federated assertions and actor tokens); Entra on-behalf-of and
/// Keycloak at a local fake of their token endpoints (their exact shapes: McpAuth.OpenIdConnect.Tests). The issuer
/// side is always the real oidc-provider. One provider per test.
/// </summary>
public sealed class TokenExchangeEndToEndTests : IAsyncLifetime
{
    private const string Resource = "https://mcp.example.com/mcp";
    private const string Challenge =
        "Bearer realm=\"Kubernetes MCP Server\", audience=\"https://mcp.example.com/mcp\", resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\"";

    private const string McpAuthWorkload = "system:serviceaccount:mcp:mcpauth";

    private readonly WorkloadKeys _keys = new();
    private readonly List<WebApplication> _hosts = [];
    private OidcProviderProcess _idp = null!;

    public async Task InitializeAsync()
    {
        _idp = await OidcProviderProcess.StartAsync();
        await _idp.SetUpExchangeClientsAsync(_keys);
    }

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.StopAsync();
            await host.DisposeAsync();
        }

        await _idp.DisposeAsync();
        _keys.Dispose();
    }

    /// <summary>The host on a TestServer with its real ports: the issuer is oidc-provider, the exchange as the flags say.</summary>
    private async Task<HttpClient> HostAsync(params string[] exchangeFlags)
    {
        var result = McpAuthHost.Build(
            ["--require-oauth", "--authorization-url", _idp.Issuer, "--server-url", "https://mcp.example.com", .. exchangeFlags],
            b => b.WebHost.UseTestServer());
        result.App.Should().NotBeNull(result.Message);
        await result.App!.StartAsync();
        _hosts.Add(result.App);
        return result.App.GetTestClient();
    }

    private static async Task<JsonElement> WhoAmIAsync(HttpClient host, string token)
    {
        using var response = await host.SendAsync(HostHarness.Mcp(token, HostHarness.ToolCall("whoami")));
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await HostBehaviourTests.ReadToolResult(response);
    }

    private static List<(string? Sub, string? Iss)> Actors(JsonElement whoami) =>
        whoami.GetProperty("actors").EnumerateArray()
            .Select(a => (a.GetProperty("sub").GetString(), a.GetProperty("iss").GetString())).ToList();

    [Fact]
    public async Task Rfc8693_ClientSecretBasic()
    {
        var host = await HostAsync(
            "--sts-client-id", OidcProviderProcess.ClientId, "--sts-client-secret", OidcProviderProcess.ClientSecret, "--sts-audience", "k8s-api");

        var whoami = await WhoAmIAsync(host, await _idp.IssueTokenAsync(Resource));

        whoami.GetProperty("exchanged").GetBoolean().Should().BeTrue();
        var sent = (await _idp.ExchangeDetailsAsync()).Exchanges.Should().ContainSingle().Subject;
        sent.ClientAuthMethod.Should().Be("client_secret_basic");
        sent.Audience.Should().Be("k8s-api");
    }

    [Fact]
    public async Task Rfc8693_ClientSecretPost_SecretFromAFile()
    {
        var host = await HostAsync(
            "--sts-client-id", OidcProviderExchange.PostClientId, "--sts-client-auth", "client_secret_post",
            "--sts-client-secret-file", _keys.Write(OidcProviderExchange.PostClientSecret), "--sts-audience", "k8s-api", "--sts-scopes", "k8s,read");

        var whoami = await WhoAmIAsync(host, await _idp.IssueTokenAsync(Resource));

        whoami.GetProperty("exchanged").GetBoolean().Should().BeTrue();
        var sent = (await _idp.ExchangeDetailsAsync()).Exchanges.Should().ContainSingle().Subject;
        sent.ClientAuthMethod.Should().Be("client_secret_post");
        sent.Scope.Should().Be("k8s read");
    }

    [Theory]
    [InlineData("Rsa")]
    [InlineData("Ec")]
    public async Task Rfc8693_PrivateKeyJwt(string kind)
    {
        var clientId = kind == "Rsa" ? OidcProviderExchange.RsaKeyClientId : OidcProviderExchange.EcKeyClientId;
        Microsoft.IdentityModel.Tokens.AsymmetricSecurityKey key = kind == "Rsa" ? _keys.ClientRsa : _keys.ClientEc;
        var host = await HostAsync(
            "--sts-client-id", clientId, "--sts-client-auth", "private_key_jwt", "--sts-client-key-file", _keys.WritePem(key),
            "--sts-client-key-id", key.KeyId, "--sts-audience", "k8s-api");
        var token = await _idp.IssueTokenAsync(Resource);

        var whoami = await WhoAmIAsync(host, token);
        await WhoAmIAsync(host, token);

        whoami.GetProperty("exchanged").GetBoolean().Should().BeTrue();
        whoami.GetProperty("subject").GetString().Should().Be(OidcProviderProcess.ClientId);
        var sent = (await _idp.ExchangeDetailsAsync()).Exchanges.Should().ContainSingle("the second call reuses the cached exchange").Subject;
        sent.ClientAuthMethod.Should().Be("private_key_jwt", "oidc-provider verified the host's signed assertion");
        sent.ClientId.Should().Be(clientId);
    }

    [Fact]
    public async Task Rfc8693_FederatedAssertion_WithActorToken_WhoAmIShowsWhoActs()
    {
        var host = await HostAsync(
            "--sts-client-id", OidcProviderExchange.FederatedClientId,
            "--sts-client-assertion-file", _keys.Write(_keys.PlatformToken(OidcProviderExchange.FederatedSubject, OidcProviderExchange.FederatedAudience, TimeSpan.FromMinutes(10))),
            "--sts-actor-token-file", _keys.Write(_keys.PlatformToken(McpAuthWorkload, "mcp-token-service", TimeSpan.FromMinutes(10))),
            "--sts-audience", "k8s-api");

        var whoami = await WhoAmIAsync(host, await _idp.IssueTokenAsync(Resource));

        whoami.GetProperty("exchanged").GetBoolean().Should().BeTrue();
        Actors(whoami).Should().Equal((McpAuthWorkload, _keys.PlatformIssuer));
        var details = await _idp.ExchangeDetailsAsync();
        details.FederatedChecks.Should().ContainSingle().Which.Ok.Should().BeTrue();
        var sent = details.Exchanges.Should().ContainSingle().Subject;
        sent.ClientAuthMethod.Should().Be("federated_assertion");
        sent.ActorTokenType.Should().Be("urn:ietf:params:oauth:token-type:jwt");
    }

    [Fact]
    public async Task Rfc8693_ExpiredFederatedAssertion_Is503_AndNothingIsSent()
    {
        var host = await HostAsync(
            "--sts-client-id", OidcProviderExchange.FederatedClientId,
            "--sts-client-assertion-file", _keys.Write(_keys.PlatformToken(OidcProviderExchange.FederatedSubject, OidcProviderExchange.FederatedAudience, TimeSpan.FromMinutes(-5))),
            "--sts-audience", "k8s-api");

        using var response = await host.SendAsync(HostHarness.Mcp(await _idp.IssueTokenAsync(Resource), HostHarness.ToolCall("whoami")));

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await _idp.ExchangeDetailsAsync()).FederatedChecks.Should().BeEmpty();
    }

    [Fact]
    public async Task EntraOnBehalfOf_ExchangesAtEntrasEndpoint_RefusalIs401_OutageIs503()
    {
        await using var entra = await FakeTokenService.StartAsync(FakeTokenService.EntraPath);
        var host = await HostAsync(
            "--sts-strategy", "entra-obo", "--sts-token-url", entra.TokenUrl, "--sts-client-id", "535fb089-9ff3-47b6-9bfb-4f1264799865",
            "--sts-client-auth", "client_secret_post", "--sts-client-secret", "entra-secret", "--sts-audience", "api://downstream",
            "--sts-scopes", "api://downstream/.default");
        var token = await _idp.IssueTokenAsync(Resource);

        var whoami = await WhoAmIAsync(host, token);

        whoami.GetProperty("exchanged").GetBoolean().Should().BeTrue();
        var sent = entra.Requests.Should().ContainSingle().Subject;
        sent["grant_type"].Should().Be("urn:ietf:params:oauth:grant-type:jwt-bearer");
        sent["requested_token_use"].Should().Be("on_behalf_of");
        sent["scope"].Should().Be("api://downstream/.default");
        sent["client_id"].Should().Be("535fb089-9ff3-47b6-9bfb-4f1264799865");
        (sent["assertion"] == token).Should().BeTrue("the caller's token is the on-behalf-of assertion");

        entra.Answer = _ => FakeTokenService.Json(400, new { error = "interaction_required", error_codes = new[] { 50079 }, error_description = "AADSTS50079: MFA required." });
        using (var refused = await host.SendAsync(HostHarness.Mcp(await _idp.IssueTokenAsync(Resource, "read"))))
        {
            refused.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            refused.Headers.GetValues("WWW-Authenticate").Should().Equal(
                Challenge + ", error=\"invalid_token\", error_description=\"The token exchange service refused the token (interaction_required).\"");
        }

        entra.Answer = _ => FakeTokenService.Json(503, new { error = "temporarily_unavailable", error_codes = new[] { 90033 } });
        using (var down = await host.SendAsync(HostHarness.Mcp(await _idp.IssueTokenAsync(Resource, "write"))))
        {
            down.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        }

        entra.Requests.Should().HaveCount(3);
    }

    [Fact]
    public async Task Keycloak_ExchangesWithASignedAssertion_AudienceIsTheTargetClient_RefusalIs401()
    {
        await using var keycloak = await FakeTokenService.StartAsync(FakeTokenService.KeycloakPath);
        keycloak.Shape = "keycloak";
        var host = await HostAsync(
            "--sts-strategy", "keycloak", "--sts-token-url", keycloak.TokenUrl, "--sts-client-id", "mcp-server",
            "--sts-client-key-file", _keys.WriteJwk(_keys.ClientEc), "--sts-audience", "kubernetes-api");

        var whoami = await WhoAmIAsync(host, await _idp.IssueTokenAsync(Resource));

        whoami.GetProperty("exchanged").GetBoolean().Should().BeTrue();
        var sent = keycloak.Requests.Should().ContainSingle().Subject;
        sent["grant_type"].Should().Be("urn:ietf:params:oauth:grant-type:token-exchange");
        sent["audience"].Should().Be("kubernetes-api");
        sent["requested_token_type"].Should().Be("urn:ietf:params:oauth:token-type:access_token");
        sent["client_assertion_type"].Should().Be("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        sent.Keys.Should().NotContain("client_id");
        TokenServiceRequest.Payload(sent["client_assertion"]!).GetProperty("sub").GetString().Should().Be("mcp-server");

        keycloak.Answer = _ => FakeTokenService.Json(403, new { error = "access_denied", error_description = "Client is not within the token audience" });
        using var refused = await host.SendAsync(HostHarness.Mcp(await _idp.IssueTokenAsync(Resource, "read")));
        refused.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        refused.Headers.GetValues("WWW-Authenticate").Should().Equal(
            Challenge + ", error=\"invalid_token\", error_description=\"The token exchange service refused the token (access_denied).\"");
    }

    [Theory]
    [InlineData(new[] { "--sts-strategy", "nope" }, "--sts-strategy (McpAuth:StsStrategy) must be one of rfc8693, entra-obo, keycloak")]
    [InlineData(new[] { "--sts-strategy", "keycloak", "--sts-actor-token-file", "/etc/hostname" }, "keycloak takes no actor_token")]
    [InlineData(new[] { "--sts-client-auth", "private_key_jwt" }, "--sts-client-auth (McpAuth:StsClientAuth)=private_key_jwt needs --sts-client-key-file (McpAuth:StsClientKeyFile)")]
    public void WrongExchangeFlags_RefuseToStart_NamingTheFlag(string[] flags, string expected)
    {
        var result = McpAuthHost.Build(
            ["--require-oauth", "--authorization-url", "https://issuer.test", "--server-url", "https://mcp.example.com", "--sts-client-id", "c", "--sts-audience", "a", .. flags],
            b => b.WebHost.UseTestServer());
        result.App.Should().BeNull();
        result.ExitCode.Should().Be(2);
        result.Message.Should().Contain(expected);
    }
}
