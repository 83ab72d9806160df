using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using McpAuth.Host.Demo;
using McpAuth.TestPeers;
using Microsoft.IdentityModel.JsonWebTokens;

namespace McpAuth.Host.Tests.Demo;

/// <summary>
/// <c>--demo-dpop</c>: the demo authorization server binds a token to the key of the DPoP proof its token request
/// carried (RFC 9449 §5), and McpAuth, with DPoP allowed, accepts that token only with a fresh proof of the same key.
/// Proofs are made by a real client library (npm jose).
/// </summary>
public sealed class DpopDemoTests
{
    [Fact]
    public async Task TokenRequestWithAJoseProof_GetsABoundToken_UsableOnlyWithProofsOfThatKey()
    {
        await using var demo = await DemoHost.StartAsync(["--demo-auto-approve", "--demo-dpop"]);
        using var probe = new OAuthProbe(demo);
        var client = await JoseDpopClient.CreateAsync();
        var metadata = await probe.Http.GetFromJsonAsync<JsonElement>(demo.Issuer + "/.well-known/openid-configuration");
        metadata.GetProperty("dpop_signing_alg_values_supported").EnumerateArray().Select(e => e.GetString()).Should().Contain("ES256");
        var resourceMetadata = await probe.Http.GetFromJsonAsync<JsonElement>(demo.BaseUrl + "/.well-known/oauth-protected-resource/mcp");
        resourceMetadata.GetProperty("dpop_bound_access_tokens_required").GetBoolean().Should().BeFalse("DPoP is allowed next to Bearer");

        using var tokenResponse = await probe.CodeFlowResponseAsync(
            await probe.RegisterClientAsync(), DemoAuthorizationServer.ReadScope, dpopProof: await client.TokenRequestProofAsync(demo.Issuer + "/token"));

        tokenResponse.StatusCode.Should().Be(HttpStatusCode.OK, await tokenResponse.Content.ReadAsStringAsync());
        var body = await tokenResponse.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("token_type").GetString().Should().Be("DPoP");
        var token = body.GetProperty("access_token").GetString()!;
        var payload = JsonDocument.Parse(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(new JsonWebToken(token).EncodedPayload)).RootElement;
        payload.TryGetProperty("cnf", out var cnf).Should().BeTrue(payload.GetRawText());
        cnf.GetProperty("jkt").GetString().Should().Be(client.Thumbprint);

        using var bound = await probe.Http.SendAsync(DpopCall(demo, token, await client.ProofAsync("POST", demo.Resource, token)));
        bound.StatusCode.Should().Be(HttpStatusCode.OK, await bound.Content.ReadAsStringAsync());
        (await HostBehaviourTests.ReadToolResult(bound)).GetProperty("subject").GetString().Should().Be(DemoAuthorizationServer.Subject);

        using var asBearer = await probe.CallToolAsync(token, "whoami");
        asBearer.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "a bound token sent as Bearer is refused (no downgrade)");
        var thief = await JoseDpopClient.CreateAsync();
        using var stolen = await probe.Http.SendAsync(DpopCall(demo, token, await thief.ProofAsync("POST", demo.Resource, token)));
        stolen.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "a proof of another key does not fit the token's cnf.jkt");
        stolen.Headers.WwwAuthenticate.ToString().Should().Contain("DPoP").And.Contain("invalid_dpop_proof");
    }

    [Fact]
    public async Task TokenRequest_WithoutAProof_GetsABearerToken_WithABadProof_InvalidDpopProof()
    {
        await using var demo = await DemoHost.StartAsync(["--demo-auto-approve", "--demo-dpop"]);
        using var probe = new OAuthProbe(demo);
        var client = await JoseDpopClient.CreateAsync();

        var plain = await probe.CodeFlowAsync(await probe.RegisterClientAsync(), DemoAuthorizationServer.ReadScope);
        plain.GetProperty("token_type").GetString().Should().Be("Bearer");
        new JsonWebToken(plain.GetProperty("access_token").GetString()).TryGetPayloadValue<JsonElement>("cnf", out _).Should().BeFalse();
        using var whoami = await probe.CallToolAsync(plain.GetProperty("access_token").GetString(), "whoami");
        whoami.StatusCode.Should().Be(HttpStatusCode.OK, "Bearer stays allowed");

        // A proof for another URI (htu) is refused at the token endpoint, and no token is issued.
        using var refused = await probe.CodeFlowResponseAsync(
            await probe.RegisterClientAsync(), DemoAuthorizationServer.ReadScope, dpopProof: await client.TokenRequestProofAsync(demo.Issuer + "/authorize"));
        refused.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var error = await refused.Content.ReadFromJsonAsync<JsonElement>();
        error.GetProperty("error").GetString().Should().Be("invalid_dpop_proof");
        error.TryGetProperty("access_token", out _).Should().BeFalse();
    }

    private static HttpRequestMessage DpopCall(DemoHost demo, string token, string proof)
    {
        var request = HostHarness.Mcp(null, HostHarness.ToolCall("whoami"), path: demo.Resource);
        request.Headers.TryAddWithoutValidation("Authorization", "DPoP " + token);
        request.Headers.TryAddWithoutValidation("DPoP", proof);
        return request;
    }
}
