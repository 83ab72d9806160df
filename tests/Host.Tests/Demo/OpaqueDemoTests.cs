using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using McpAuth.Host.Demo;
using McpAuth.OpenIdConnect;
using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection;

namespace McpAuth.Host.Tests.Demo;

/// <summary>
/// <c>--demo-opaque</c>: the demo authorization server (OpenIddict) issues reference access tokens and McpAuth asks its
/// RFC 7662 introspection endpoint about them, as the MCP server's confidential client.
/// </summary>
public sealed class OpaqueDemoTests
{
    [Fact]
    public async Task CodeFlowToken_IsOpaque_McpAuthIntrospectsIt_WhoAmIAsDemoUser_StepUpStill403()
    {
        await using var demo = await DemoHost.StartAsync(["--demo-auto-approve", "--demo-opaque"]);
        using var probe = new OAuthProbe(demo);
        var metadata = await probe.Http.GetFromJsonAsync<JsonElement>(demo.Issuer + "/.well-known/openid-configuration");
        metadata.GetProperty("introspection_endpoint").GetString().Should().Be(demo.Issuer + "/introspect");
        var token = (await probe.CodeFlowAsync(await probe.RegisterClientAsync(), "mcp:read")).GetProperty("access_token").GetString()!;
        token.Split('.').Length.Should().NotBe(3, "a reference token is not a JWS");

        using var whoami = await probe.CallToolAsync(token, "whoami");
        whoami.StatusCode.Should().Be(HttpStatusCode.OK, await whoami.Content.ReadAsStringAsync());
        var result = await HostBehaviourTests.ReadToolResult(whoami);
        result.GetProperty("subject").GetString().Should().Be(DemoAuthorizationServer.Subject);
        result.GetProperty("issuer").GetString().Should().Be(demo.Issuer);
        result.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()).Should().Equal(DemoAuthorizationServer.ReadScope);
        using var again = await probe.CallToolAsync(token, "whoami");
        again.StatusCode.Should().Be(HttpStatusCode.OK);
        var introspector = demo.App.Services.GetRequiredService<ITokenIntrospector>().Should().BeOfType<CachingTokenIntrospector>().Subject;
        introspector.Introspections.Should().Be(1, "the second call reuses the cached answer");

        using var admin = await probe.CallToolAsync(token, "admin-action");
        admin.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        admin.Headers.WwwAuthenticate.ToString().Should().Contain("error=\"insufficient_scope\"").And.Contain("scope=\"mcp:read mcp:admin\"");

        // The introspection endpoint answers only an authenticated client: without the MCP server's secret, nothing.
        using var anonymous = await probe.Http.PostAsync(demo.Issuer + "/introspect", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = token, ["client_id"] = demo.Server.IntrospectionClientId, ["client_secret"] = "wrong",
        }));
        anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await anonymous.Content.ReadAsStringAsync()).Should().Contain("invalid_client").And.NotContain("demo-user");
    }

    [Fact]
    public async Task MadeUpReferenceToken_Is401NotActive()
    {
        await using var demo = await DemoHost.StartAsync(["--demo-auto-approve", "--demo-opaque"]);
        using var probe = new OAuthProbe(demo);

        using var response = await probe.CallToolAsync("ThisIsNotAReferenceTokenTheServerIssued0123456789", "whoami");

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Contain("error=\"invalid_token\"").And.Contain("not active");
    }
}
