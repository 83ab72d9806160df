using System.Net;
using System.Text.Json;
using McpAuth.TestPeers;

namespace McpAuth.AspNetCore.Tests;

/// <summary>
/// DPoP over HTTP, embedded, with proofs made by a real client library (npm jose, tests/peers/dpop-client.mjs): the
/// challenges, the metadata, and the refusals a client sees.
/// </summary>
public sealed class DpopTests
{
    private static Task<JoseDpopClient> NewClient() => JoseDpopClient.CreateAsync();

    private static Task<string> Proof(JoseDpopClient client, string token, string? nonce = null, string htm = "POST", string htu = EmbeddedApp.Resource) =>
        client.ProofAsync(htm, htu, token, nonce);

    private static string BoundToken(JoseDpopClient client, string scope = "read") =>
        EmbeddedApp.Token(scope, extra: new Dictionary<string, object> { ["cnf"] = new Dictionary<string, object> { ["jkt"] = client.Thumbprint } });

    private static HttpRequestMessage Dpop(string token, string? proof, string body = EmbeddedApp.ToolsList)
    {
        var request = EmbeddedApp.Mcp(null, body);
        request.Headers.TryAddWithoutValidation("Authorization", "DPoP " + token);
        if (proof is not null)
        {
            request.Headers.TryAddWithoutValidation("DPoP", proof);
        }

        return request;
    }

    private const string Algs = "ES256 ES384 ES512 PS256 PS384 PS512 RS256 RS384 RS512";
    private const string Common = "realm=\"mcp\", audience=\"https://mcp.example.com/mcp\", resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\"";

    [Fact]
    public async Task JoseProof_ForABoundToken_IsAccepted_AndTheToolRuns()
    {
        await using var app = await EmbeddedApp.StartAsync(o => o.Dpop = DpopMode.Allowed);
        var client = await NewClient();
        var token = BoundToken(client);
        using var response = await app.Client.SendAsync(Dpop(token, await Proof(client, token), EmbeddedApp.ToolCall("whoami")));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        app.Runs.Count("whoami").Should().Be(1);
    }

    [Fact]
    public async Task NoCredentials_WhenAllowed_GetsBothChallenges()
    {
        await using var app = await EmbeddedApp.StartAsync(o => o.Dpop = DpopMode.Allowed);
        using var response = await app.Client.SendAsync(EmbeddedApp.Mcp(null));
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.GetValues("WWW-Authenticate").Should().Equal($"Bearer {Common}", $"DPoP {Common}, algs=\"{Algs}\"");
    }

    [Fact]
    public async Task NoCredentials_WhenRequired_GetsOnlyTheDpopChallenge_AndTheMetadataSaysSo()
    {
        await using var app = await EmbeddedApp.StartAsync(o => o.Dpop = DpopMode.Required);
        using var response = await app.Client.SendAsync(EmbeddedApp.Mcp(null));
        response.Headers.GetValues("WWW-Authenticate").Should().Equal($"DPoP {Common}, algs=\"{Algs}\"");
        var metadata = JsonDocument.Parse(await app.Client.GetStringAsync("/.well-known/oauth-protected-resource/mcp")).RootElement;
        metadata.GetProperty("dpop_bound_access_tokens_required").GetBoolean().Should().BeTrue();
        metadata.GetProperty("dpop_signing_alg_values_supported").EnumerateArray().Select(e => e.GetString()).Should().Contain("ES256").And.NotContain("HS256");
    }

    [Fact]
    public async Task DpopOff_MetadataHasNoDpopFields_AndTheDpopSchemeIsNotUnderstood()
    {
        await using var app = await EmbeddedApp.StartAsync();
        var metadata = JsonDocument.Parse(await app.Client.GetStringAsync("/.well-known/oauth-protected-resource/mcp")).RootElement;
        metadata.TryGetProperty("dpop_bound_access_tokens_required", out _).Should().BeFalse();
        using var response = await app.Client.SendAsync(Dpop(EmbeddedApp.Token(), null));
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.GetValues("WWW-Authenticate").Should().Equal($"Bearer {Common}");
        app.Oidc.Calls.Should().Be(0, "an Authorization scheme the server does not take is no credentials");
    }

    public static TheoryData<string, string, string> Refusals => new()
    {
        { "BoundTokenAsBearer", "Bearer", "invalid_token" },
        { "MissingProof", "DPoP", "invalid_dpop_proof" },
        { "ProofForAnotherUri", "DPoP", "invalid_dpop_proof" },
        { "ProofForAnotherMethod", "DPoP", "invalid_dpop_proof" },
        { "ProofOfAnotherClient", "DPoP", "invalid_dpop_proof" },
        { "ReplayedProof", "DPoP", "invalid_dpop_proof" },
        { "StolenTokenWithTheThiefsProof", "DPoP", "invalid_dpop_proof" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Refusal_Is401_WithTheErrorOnTheSchemeTheClientUsed(string name, string scheme, string error)
    {
        await using var app = await EmbeddedApp.StartAsync(o => o.Dpop = DpopMode.Allowed);
        var client = await NewClient();
        var token = BoundToken(client);
        HttpRequestMessage request;
        switch (name)
        {
            case "BoundTokenAsBearer":
                request = EmbeddedApp.Mcp(token, EmbeddedApp.ToolCall("whoami"));
                break;
            case "MissingProof":
                request = Dpop(token, null, EmbeddedApp.ToolCall("whoami"));
                break;
            case "ProofForAnotherUri":
                request = Dpop(token, await Proof(client, token, htu: "https://mcp.example.com/other"), EmbeddedApp.ToolCall("whoami"));
                break;
            case "ProofForAnotherMethod":
                request = Dpop(token, await Proof(client, token, htm: "GET"), EmbeddedApp.ToolCall("whoami"));
                break;
            case "ProofOfAnotherClient":
            case "StolenTokenWithTheThiefsProof":
                request = Dpop(token, await Proof(await NewClient(), token), EmbeddedApp.ToolCall("whoami"));
                break;
            default:
                var proof = await Proof(client, token);
                (await app.Client.SendAsync(Dpop(token, proof))).StatusCode.Should().Be(HttpStatusCode.OK);
                request = Dpop(token, proof, EmbeddedApp.ToolCall("whoami"));
                break;
        }

        using var response = await app.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized, name);
        var challenges = response.Headers.GetValues("WWW-Authenticate").ToList();
        challenges.Should().HaveCount(2);
        challenges.Single(c => c.StartsWith(scheme + " ", StringComparison.Ordinal)).Should().Contain($"error=\"{error}\"");
        challenges.Single(c => !c.StartsWith(scheme + " ", StringComparison.Ordinal)).Should().NotContain("error=");
        app.Runs.All.Should().BeEmpty();
    }

    [Fact]
    public async Task Nonces_FirstRequestGetsUseDpopNonce_AndTheClientRetriesWithIt()
    {
        await using var app = await EmbeddedApp.StartAsync(o => { o.Dpop = DpopMode.Required; o.DpopNonces = true; });
        var client = await NewClient();
        var token = BoundToken(client);
        using var first = await app.Client.SendAsync(Dpop(token, await Proof(client, token)));
        first.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        first.Headers.GetValues("WWW-Authenticate").Single().Should().Contain("error=\"use_dpop_nonce\"");
        var nonce = first.Headers.GetValues("DPoP-Nonce").Single();
        nonce.Should().NotBeNullOrEmpty();

        using var second = await app.Client.SendAsync(Dpop(token, await Proof(client, token, nonce), EmbeddedApp.ToolCall("whoami")));
        second.StatusCode.Should().Be(HttpStatusCode.OK);
        app.Runs.Count("whoami").Should().Be(1);
    }
}
