using System.Diagnostics;
using System.Text.Json;
using McpAuth.TestPeers;
using Xunit.Abstractions;

namespace McpAuth.Host.Tests.Demo;

/// <summary>
/// The official TypeScript MCP client (@modelcontextprotocol/sdk, its OAuth client provider) against <c>--demo</c>:
/// tests/peers/ts-oauth-client.mjs records every HTTP exchange the SDK makes; the script only plays the user who opens
/// the authorization URL (consent is automatic here).
/// </summary>
public sealed class TypeScriptClientOAuthTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TypeScriptSdk_RegistersAuthorizesAndCallsWhoAmI_ThenStepsUpForAdminAction_EveryHopAsExpected()
    {
        await using var demo = await DemoHost.StartAsync(["--demo-auto-approve"]);
        var result = await RunAsync("ts-oauth-client.mjs", new() { ["MCP_URL"] = demo.Resource }, output);
        var hops = result.GetProperty("exchanges").EnumerateArray().ToList();
        output.WriteLine(string.Join('\n', hops.Select(h => $"{h.GetProperty("method")} {h.GetProperty("url")} -> {h.GetProperty("status")}")));

        // 401 → RFC 9728 → RFC 8414 → registration → authorization (user) → token → MCP with the token.
        var i = 0;
        Expect(hops[i++], "POST", demo.Resource, 401).GetProperty("wwwAuthenticate").GetString().Should()
            .Contain($"resource_metadata=\"{demo.BaseUrl}/.well-known/oauth-protected-resource/mcp\"").And.Contain("scope=\"mcp:read\"");
        Expect(hops[i++], "GET", demo.BaseUrl + "/.well-known/oauth-protected-resource/mcp", 200);
        var metadata = Expect(hops[i++], "GET", demo.BaseUrl + "/.well-known/oauth-authorization-server/demo-issuer", 200).GetProperty("response");
        metadata.GetProperty("issuer").GetString().Should().Be(demo.Issuer);
        metadata.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(e => e.GetString()).Should().Equal("S256");
        var registration = Expect(hops[i++], "POST", demo.Issuer + "/register", 201);
        registration.GetProperty("json").GetProperty("redirect_uris").EnumerateArray().Select(e => e.GetString()).Should().Equal("http://127.0.0.1:33418/callback");
        registration.GetProperty("response").GetProperty("token_endpoint_auth_method").GetString().Should().Be("none");
        var clientId = registration.GetProperty("response").GetProperty("client_id").GetString();
        var authorization = Expect(hops[i++], "GET", null, 302);
        authorization.GetProperty("user").GetBoolean().Should().BeTrue();
        authorization.GetProperty("url").GetString().Should().StartWith(demo.Issuer + "/authorize?");
        var query = authorization.GetProperty("query");
        query.GetProperty("client_id").GetString().Should().Be(clientId);
        query.GetProperty("code_challenge_method").GetString().Should().Be("S256");
        query.GetProperty("resource").GetString().Should().Be(demo.Resource);
        query.GetProperty("scope").GetString().Should().Be("mcp:read");
        authorization.GetProperty("location").GetString().Should().Be("http://127.0.0.1:33418/callback");
        authorization.GetProperty("callback").GetProperty("code").GetBoolean().Should().BeTrue();
        authorization.GetProperty("callback").GetProperty("state").GetBoolean().Should().BeTrue("the state comes back");
        authorization.GetProperty("callback").GetProperty("iss").GetString().Should().Be(demo.Issuer, "RFC 9207");
        var token = Next(hops, ref i, h => Url(h) == demo.Issuer + "/token");
        token.GetProperty("status").GetInt32().Should().Be(200);
        token.GetProperty("form").GetProperty("grant_type").GetString().Should().Be("authorization_code");
        token.GetProperty("form").GetProperty("code_verifier").GetString().Should().Be("<present>");
        token.GetProperty("form").GetProperty("resource").GetString().Should().Be(demo.Resource);
        var call = Next(hops, ref i, h => Url(h) == demo.Resource);
        call.GetProperty("authorization").GetString().Should().Be("Bearer <token>");
        call.GetProperty("status").GetInt32().Should().Be(200);
        result.GetProperty("whoami").GetProperty("subject").GetString().Should().Be("demo-user");
        result.GetProperty("whoami").GetProperty("scopes").EnumerateArray().Select(e => e.GetString()).Should().Equal("mcp:read");
        result.GetProperty("tools").EnumerateArray().Select(e => e.GetString()).Should().BeEquivalentTo(["whoami", "admin-action"]);

        // Step-up: admin-action → 403 insufficient_scope → authorization for the larger scope → token → 200.
        i = result.GetProperty("stepUpStartsAt").GetInt32();
        var forbidden = Expect(hops[i++], "POST", demo.Resource, 403);
        forbidden.GetProperty("json").GetProperty("name").GetString().Should().Be("admin-action");
        forbidden.GetProperty("wwwAuthenticate").GetString().Should().Contain("error=\"insufficient_scope\"").And.Contain("scope=\"mcp:read mcp:admin\"");
        var again = Next(hops, ref i, h => h.TryGetProperty("user", out _));
        again.GetProperty("query").GetProperty("scope").GetString().Should().Be("mcp:read mcp:admin");
        again.GetProperty("status").GetInt32().Should().Be(302);
        Next(hops, ref i, h => Url(h) == demo.Issuer + "/token").GetProperty("status").GetInt32().Should().Be(200);
        var retried = Next(hops, ref i, h => Url(h) == demo.Resource);
        retried.GetProperty("status").GetInt32().Should().Be(200);
        retried.GetProperty("json").GetProperty("name").GetString().Should().Be("admin-action");
        hops.Skip(result.GetProperty("stepUpStartsAt").GetInt32()).Should().NotContain(h => Url(h) == demo.Issuer + "/register", "the client registered once");
        result.GetProperty("admin").GetProperty("scopes").EnumerateArray().Select(e => e.GetString()).Should().Equal("mcp:read", "mcp:admin");

        // The tokens the SDK saved: at+jwt for the MCP endpoint from the demo issuer; no refresh token (no offline_access asked).
        var tokens = result.GetProperty("tokens").EnumerateArray().ToList();
        tokens.Should().HaveCount(2);
        foreach (var saved in tokens)
        {
            var claims = saved.GetProperty("claims");
            claims.GetProperty("typ").GetString().Should().Be("at+jwt");
            claims.GetProperty("iss").GetString().Should().Be(demo.Issuer);
            claims.GetProperty("aud").GetString().Should().Be(demo.Resource);
            claims.GetProperty("sub").GetString().Should().Be("demo-user");
            claims.GetProperty("client_id").GetString().Should().Be(clientId);
        }

        tokens[1].GetProperty("scope").GetString().Should().Be("mcp:read mcp:admin");
    }

    [Fact]
    public async Task TypeScriptSdk_WithAClientIdMetadataDocument_SkipsRegistration_TheServerFetchesTheDocument()
    {
        await using var documents = await MetadataDocumentServer.StartAsync("http://127.0.0.1:33418/callback");
        await using var demo = await DemoHost.StartAsync(["--demo-auto-approve"], documents.Trust);
        var result = await RunAsync("ts-oauth-client.mjs", new() { ["MCP_URL"] = demo.Resource, ["MCP_CLIENT_METADATA_URL"] = documents.Url }, output);
        var hops = result.GetProperty("exchanges").EnumerateArray().ToList();

        hops.Should().NotContain(h => Url(h) == demo.Issuer + "/register", "the client is known by its metadata document");
        var authorizations = hops.Where(h => h.TryGetProperty("user", out _)).ToList();
        authorizations.Should().HaveCount(2, "one for whoami, one for the step-up");
        authorizations.Should().OnlyContain(h => h.GetProperty("query").GetProperty("client_id").GetString() == documents.Url && h.GetProperty("status").GetInt32() == 302);
        result.GetProperty("clientId").GetString().Should().Be(documents.Url);
        result.GetProperty("whoami").GetProperty("subject").GetString().Should().Be("demo-user");
        result.GetProperty("admin").GetProperty("done").GetBoolean().Should().BeTrue();
        documents.Fetches.Should().Be(2, "the server reads the document at each authorization request");
    }

    internal static async Task<JsonElement> RunAsync(string script, Dictionary<string, string> environment, ITestOutputHelper output, int timeoutSeconds = 90)
    {
        var info = new ProcessStartInfo(Repo.Node) { WorkingDirectory = Repo.Peers, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(script);
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }

        var error = await stderr;
        var text = (await stdout).Trim();
        output.WriteLine(error);
        process.ExitCode.Should().Be(0, error + "\n" + (text.Length > 6000 ? text[^6000..] : text));
        return JsonDocument.Parse(text.Split('\n').Last()).RootElement;
    }

    private static string? Url(JsonElement hop) => hop.GetProperty("url").GetString()?.Split('?')[0];

    private static JsonElement Expect(JsonElement hop, string method, string? url, int status)
    {
        hop.GetProperty("method").GetString().Should().Be(method, hop.ToString());
        if (url is not null)
        {
            Url(hop).Should().Be(url, hop.ToString());
        }

        hop.GetProperty("status").GetInt32().Should().Be(status, hop.ToString());
        return hop;
    }

    private static JsonElement Next(List<JsonElement> hops, ref int i, Func<JsonElement, bool> predicate)
    {
        while (i < hops.Count && !predicate(hops[i]))
        {
            i++;
        }

        i.Should().BeLessThan(hops.Count, "an expected exchange is missing");
        return hops[i++];
    }
}
