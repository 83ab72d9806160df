using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.IdentityModel.JsonWebTokens;
using ModelContextProtocol.Authentication;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Xunit.Abstractions;

namespace McpAuth.Host.Tests.Demo;

/// <summary>
/// The official C# MCP client (ModelContextProtocol 2.4.0, its OAuth options) against <c>--demo</c>: it does every OAuth
/// step itself; the test only plays the user who opens the authorization URL (consent is automatic here).
/// </summary>
public sealed class CSharpClientOAuthTests(ITestOutputHelper output)
{
    [Fact]
    public async Task CSharpSdk_RegistersAuthorizesAndCallsWhoAmI_ThenStepsUpForAdminAction_EveryHopAsExpected()
    {
        var watch = Stopwatch.StartNew();
        await using var demo = await DemoHost.StartAsync(["--demo-auto-approve"]);
        using var journal = new HttpJournal();
        using var http = new HttpClient(journal);
        var tokens = new RecordingTokenCache();
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(demo.Resource),
            TransportMode = HttpTransportMode.StreamableHttp,
            OAuth = new ClientOAuthOptions
            {
                RedirectUri = new Uri("http://127.0.0.1:33419/callback"),
                DynamicClientRegistration = new DynamicClientRegistrationOptions { ClientName = "McpAuth C# SDK test" },
                AuthorizationCallbackHandler = journal.AuthorizeAsync,
                TokenCache = tokens,
            },
        }, http, NullLoggerFactory.Instance, ownsHttpClient: false);
        await using var client = await McpClient.CreateAsync(transport);

        var whoami = JsonDocument.Parse(((TextContentBlock)(await client.CallToolAsync("whoami")).Content[0]).Text).RootElement;
        var stepUpFrom = journal.Hops.Count;
        var admin = JsonDocument.Parse(((TextContentBlock)(await client.CallToolAsync("admin-action")).Content[0]).Text).RootElement;
        output.WriteLine(string.Join('\n', journal.Hops));
        output.WriteLine($"{watch.ElapsedMilliseconds} ms");

        whoami.GetProperty("subject").GetString().Should().Be("demo-user");
        whoami.GetProperty("issuer").GetString().Should().Be(demo.Issuer);
        whoami.GetProperty("audiences").EnumerateArray().Select(a => a.GetString()).Should().Equal(demo.Resource);
        admin.GetProperty("done").GetBoolean().Should().BeTrue();
        admin.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()).Should().Contain(["mcp:read", "mcp:admin"]);

        var hops = journal.Hops;
        var first = hops.Take(stepUpFrom).ToList();
        // 401 → RFC 9728 → RFC 8414 → registration → authorization (user) → token → MCP with the token.
        var unauthorized = first.First(h => h.Path == "/mcp");
        // The SDK opens with server/discover (MCP 2026-07-28) or initialize; either way without a token, and gets 401.
        unauthorized.Should().Match<HttpHop>(h => h.Status == 401 && !h.Bearer && (h.Json == "initialize" || h.Json == "server/discover"));
        unauthorized.WwwAuthenticate.Should().Contain($"resource_metadata=\"{demo.BaseUrl}/.well-known/oauth-protected-resource/mcp\"").And.Contain("scope=\"mcp:read\"");
        Next(first, unauthorized, h => h.Path == "/.well-known/oauth-protected-resource/mcp").Status.Should().Be(200);
        var metadata = Next(first, unauthorized, h => h.Status == 200 && h.Path.Contains("/.well-known/oauth-authorization-server", StringComparison.Ordinal));
        metadata.Path.Should().Be("/.well-known/oauth-authorization-server/demo-issuer", "RFC 8414 puts the well-known segment before the issuer's path");
        var registration = Next(first, metadata, h => h.Path == "/demo-issuer/register");
        registration.Status.Should().Be(201);
        registration.Json.Should().Contain("http://127.0.0.1:33419/callback");
        var authorization = Next(first, registration, h => h.User);
        authorization.Status.Should().Be(302);
        authorization.Location.Should().StartWith("http://127.0.0.1:33419/callback?code=");
        authorization.Query.Should().Contain(new Dictionary<string, string>
        {
            ["response_type"] = "code", ["code_challenge_method"] = "S256", ["resource"] = demo.Resource, ["redirect_uri"] = "http://127.0.0.1:33419/callback",
        });
        authorization.Query["scope"].Split(' ').Should().Contain("mcp:read").And.NotContain("mcp:admin");
        var token = Next(first, authorization, h => h.Path == "/demo-issuer/token");
        token.Status.Should().Be(200);
        token.Form.Should().Contain(new Dictionary<string, string> { ["grant_type"] = "authorization_code", ["code_verifier"] = "<present>", ["resource"] = demo.Resource });
        var call = Next(first, token, h => h.Path == "/mcp");
        call.Should().Match<HttpHop>(h => h.Bearer && h.Status == 200 && h.Json == unauthorized.Json, "the same request is sent again with the token");
        first.Should().ContainSingle(h => h.Json == "tools/call whoami").Which.Status.Should().Be(200);

        // Step-up: admin-action → 403 insufficient_scope naming mcp:admin → authorization for the larger scope → 200.
        var second = hops.Skip(stepUpFrom).ToList();
        var forbidden = second.First();
        forbidden.Should().Match<HttpHop>(h => h.Json == "tools/call admin-action" && h.Status == 403 && h.Bearer);
        forbidden.WwwAuthenticate.Should().Contain("error=\"insufficient_scope\"").And.Contain("scope=\"mcp:read mcp:admin\"");
        var again = Next(second, forbidden, h => h.User);
        again.Status.Should().Be(302);
        again.Query["scope"].Split(' ').Should().Contain(["mcp:read", "mcp:admin"]);
        second.Should().NotContain(h => h.Path == "/demo-issuer/register", "the client registered once");
        var secondToken = Next(second, again, h => h.Path == "/demo-issuer/token");
        secondToken.Status.Should().Be(200);
        second.Last().Should().Match<HttpHop>(h => h.Json == "tools/call admin-action" && h.Status == 200 && h.Bearer);

        // The tokens: JWT access tokens for the MCP endpoint, issued by the demo, the second with the admin scope.
        tokens.Stored.Should().HaveCountGreaterThanOrEqualTo(2);
        var firstJwt = new JsonWebToken(tokens.Stored[0].AccessToken);
        firstJwt.Typ.Should().Be("at+jwt");
        firstJwt.Issuer.Should().Be(demo.Issuer);
        firstJwt.Audiences.Should().Equal(demo.Resource);
        firstJwt.Subject.Should().Be("demo-user");
        new JsonWebToken(tokens.Stored[^1].AccessToken).GetClaim("scope").Value.Split(' ').Should().Contain("mcp:admin");
    }

    [Fact]
    public async Task CSharpSdk_WithAClientIdMetadataDocument_SkipsRegistration_TheServerFetchesTheDocument()
    {
        await using var documents = await MetadataDocumentServer.StartAsync("http://127.0.0.1:33422/callback");
        await using var demo = await DemoHost.StartAsync(["--demo-auto-approve"], documents.Trust);
        using var journal = new HttpJournal();
        using var http = new HttpClient(journal);
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(demo.Resource),
            TransportMode = HttpTransportMode.StreamableHttp,
            OAuth = new ClientOAuthOptions
            {
                RedirectUri = new Uri("http://127.0.0.1:33422/callback"),
                ClientMetadataDocumentUri = new Uri(documents.Url),
                AuthorizationCallbackHandler = journal.AuthorizeAsync,
            },
        }, http, NullLoggerFactory.Instance, ownsHttpClient: false);
        await using var client = await McpClient.CreateAsync(transport);
        var whoami = JsonDocument.Parse(((TextContentBlock)(await client.CallToolAsync("whoami")).Content[0]).Text).RootElement;
        output.WriteLine(string.Join('\n', journal.Hops));

        whoami.GetProperty("subject").GetString().Should().Be("demo-user");
        journal.Hops.Should().NotContain(h => h.Path == "/demo-issuer/register", "the client is known by its metadata document");
        var authorization = journal.Hops.Single(h => h.User);
        authorization.Query["client_id"].Should().Be(documents.Url);
        authorization.Status.Should().Be(302);
        documents.Fetches.Should().BeGreaterThanOrEqualTo(1);
    }

    private static HttpHop Next(IReadOnlyList<HttpHop> hops, HttpHop after, Func<HttpHop, bool> predicate)
    {
        var start = hops.ToList().IndexOf(after);
        var next = hops.Skip(start + 1).FirstOrDefault(predicate);
        next.Should().NotBeNull($"a matching exchange follows {after}; exchanges:\n{string.Join('\n', hops)}");
        return next!;
    }

    private sealed class RecordingTokenCache : ITokenCache
    {
        private TokenContainer? _current;

        public List<TokenContainer> Stored { get; } = [];

        public ValueTask StoreTokensAsync(TokenContainer tokens, CancellationToken cancellationToken)
        {
            _current = tokens;
            lock (Stored)
            {
                Stored.Add(tokens);
            }

            return default;
        }

        public ValueTask<TokenContainer?> GetTokensAsync(CancellationToken cancellationToken) => new(_current);
    }
}
