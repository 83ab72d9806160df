using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using McpAuth.Host.Demo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using OpenIddict.Server;

namespace McpAuth.Host.Tests.Demo;

/// <summary>
/// The demo authorization server's documents and rules, and the refusal rows no real client would produce: PKCE
/// missing or <c>plain</c>, a redirect URI that was not registered, a token for another resource (refused by McpAuth),
/// a refresh token reused after rotation; registration's redirect-URI rules; the consent page; token exchange.
/// </summary>
public sealed class DemoAuthorizationServerTests(DemoAuthorizationServerTests.SharedHost shared) : IClassFixture<DemoAuthorizationServerTests.SharedHost>
{
    /// <summary>One auto-approving demo for the tests that need nothing else (each registers its own client).</summary>
    public sealed class SharedHost : IAsyncLifetime
    {
        public DemoHost Demo { get; private set; } = null!;

        public async Task InitializeAsync() => Demo = await DemoHost.StartAsync(["--demo-auto-approve"]);

        public async Task DisposeAsync() => await Demo.DisposeAsync();
    }

    [Fact]
    public async Task Metadata_Rfc8414AndOidcPaths_S256Only_RegistrationAndDocuments_AndMcpAuthDiscoversTheSameIssuer()
    {
        var demo = shared.Demo;
        using var probe = new OAuthProbe(demo);
        var rfc8414 = await probe.Http.GetFromJsonAsync<JsonElement>(demo.BaseUrl + "/.well-known/oauth-authorization-server/demo-issuer");
        var oidc = await probe.Http.GetFromJsonAsync<JsonElement>(demo.Issuer + "/.well-known/openid-configuration");

        foreach (var document in new[] { rfc8414, oidc })
        {
            document.GetProperty("issuer").GetString().Should().Be(demo.Issuer);
            document.GetProperty("authorization_endpoint").GetString().Should().Be(demo.Issuer + "/authorize");
            document.GetProperty("token_endpoint").GetString().Should().Be(demo.Issuer + "/token");
            document.GetProperty("registration_endpoint").GetString().Should().Be(demo.Issuer + "/register");
            document.GetProperty("client_id_metadata_document_supported").GetBoolean().Should().BeTrue();
            document.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(e => e.GetString()).Should().Equal("S256");
            document.GetProperty("response_types_supported").EnumerateArray().Select(e => e.GetString()).Should().Equal("code");
            document.GetProperty("grant_types_supported").EnumerateArray().Select(e => e.GetString()).Should().BeEquivalentTo(["authorization_code", "refresh_token"]);
            document.GetProperty("scopes_supported").EnumerateArray().Select(e => e.GetString()).Should().Contain(["mcp:read", "mcp:admin", "offline_access"]);
            document.GetProperty("token_endpoint_auth_methods_supported").EnumerateArray().Select(e => e.GetString()).Should().Contain("none");
        }

        var resource = await probe.Http.GetFromJsonAsync<JsonElement>(demo.BaseUrl + "/.well-known/oauth-protected-resource/mcp");
        resource.GetProperty("resource").GetString().Should().Be(demo.Resource);
        resource.GetProperty("authorization_servers").EnumerateArray().Select(e => e.GetString()).Should().Equal(demo.Issuer);
        resource.GetProperty("scopes_supported").EnumerateArray().Select(e => e.GetString()).Should().Equal("mcp:read", "mcp:admin");
        // McpAuth found the issuer by its own discovery ({issuer}/.well-known/openid-configuration) and serves that document.
        var discovered = await probe.Http.GetFromJsonAsync<JsonElement>(demo.BaseUrl + "/.well-known/oauth-authorization-server");
        discovered.GetProperty("issuer").GetString().Should().Be(demo.Issuer);
        discovered.GetProperty("jwks_uri").GetString().Should().Be(demo.Issuer + "/jwks");
    }

    // OpenIddict checks these before it has matched the redirect URI to the client, so it answers with an error page
    // and never redirects (RFC 6749 §4.1.2.1 allows either; not redirecting an unchecked redirect URI is the safe one).
    public static TheoryData<string, string> AuthorizationRefusals => new()
    {
        { "PkceMissing", "invalid_request" },
        { "PkcePlain", "invalid_request" },
        { "RedirectUriNotRegistered", "invalid_request" },
        { "ResourceNotServed", "invalid_target" },
        { "ScopeUnknown", "invalid_scope" },
        { "ClientUnknown", "invalid_request" },
    };

    [Theory]
    [MemberData(nameof(AuthorizationRefusals))]
    public async Task Authorization_Refused_NoCodeIsIssued_NoRedirect(string row, string error)
    {
        var demo = shared.Demo;
        using var probe = new OAuthProbe(demo);
        var clientId = await probe.RegisterClientAsync();
        var (_, challenge) = OAuthProbe.Pkce();
        var parameters = OAuthProbe.AuthorizationParameters(clientId, challenge, "mcp:read", demo.Resource);
        switch (row)
        {
            case "PkceMissing":
                parameters.Remove("code_challenge");
                parameters.Remove("code_challenge_method");
                break;
            case "PkcePlain":
                parameters["code_challenge"] = "plain-verifier-of-at-least-43-characters-0123456789";
                parameters["code_challenge_method"] = "plain";
                break;
            case "RedirectUriNotRegistered":
                parameters["redirect_uri"] = "http://127.0.0.1:33421/elsewhere";
                break;
            case "ResourceNotServed":
                parameters["resource"] = "https://other.example/mcp";
                break;
            case "ScopeUnknown":
                parameters["scope"] = "mcp:root";
                break;
            case "ClientUnknown":
                parameters["client_id"] = "demo-client-nobody";
                break;
        }

        using var response = await probe.AuthorizeAsync(parameters);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest, row);
        response.Headers.Location.Should().BeNull(row);
        (await response.Content.ReadAsStringAsync()).Split('\n').Should().Contain("error:" + error, row);
    }

    [Fact]
    public async Task Authorization_WithS256AndRegisteredRedirect_IsAccepted_TheControlRow()
    {
        var demo = shared.Demo;
        using var probe = new OAuthProbe(demo);
        var token = await probe.CodeFlowAsync(await probe.RegisterClientAsync(), "mcp:read");
        var jwt = new JsonWebToken(token.GetProperty("access_token").GetString());
        jwt.Typ.Should().Be("at+jwt");
        jwt.Alg.Should().Be("RS256");
        jwt.Audiences.Should().Equal(demo.Resource);
        token.TryGetProperty("refresh_token", out _).Should().BeFalse("no offline_access was asked for");
        using var call = await probe.CallToolAsync(jwt.EncodedToken, "whoami");
        call.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task TokenForAnotherResource_IsRefusedByMcpAuth_401()
    {
        const string other = "https://another-mcp.example/mcp";
        await using var demo = await DemoHost.StartAsync(["--demo-auto-approve"], b => b.Services.Configure<OpenIddictServerOptions>(o =>
        {
            // The same authorization server also serves another resource (RFC 8707): its tokens name that one.
            o.Resources.Add(new Uri(other));
            o.IgnoreResourcePermissions = true;
        }));
        using var probe = new OAuthProbe(demo);
        var clientId = await probe.RegisterClientAsync();

        var foreign = await probe.CodeFlowAsync(clientId, "mcp:read mcp:admin", other);
        var token = foreign.GetProperty("access_token").GetString()!;
        new JsonWebToken(token).Audiences.Should().Equal(other);
        new JsonWebToken(token).Issuer.Should().Be(demo.Issuer);

        using var refused = await probe.CallToolAsync(token, "whoami");
        refused.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        refused.Headers.WwwAuthenticate.ToString().Should().Contain("error=\"invalid_token\"");
        var own = await probe.CodeFlowAsync(clientId, "mcp:read");
        using var accepted = await probe.CallToolAsync(own.GetProperty("access_token").GetString(), "whoami");
        accepted.StatusCode.Should().Be(HttpStatusCode.OK, "the same client, user and issuer, for this resource");
    }

    [Fact]
    public async Task RefreshToken_IsRotated_AndOneReusedAfterRotationIsRefused_RevokingTheGrant()
    {
        var demo = shared.Demo;
        using var probe = new OAuthProbe(demo);
        var clientId = await probe.RegisterClientAsync();
        var first = await probe.CodeFlowAsync(clientId, "mcp:read offline_access");
        var refresh1 = first.GetProperty("refresh_token").GetString()!;

        using var rotated = await probe.TokenAsync(Refresh(clientId, refresh1, demo.Resource));
        rotated.StatusCode.Should().Be(HttpStatusCode.OK, await rotated.Content.ReadAsStringAsync());
        var second = await rotated.Content.ReadFromJsonAsync<JsonElement>();
        var refresh2 = second.GetProperty("refresh_token").GetString()!;
        refresh2.Should().NotBe(refresh1, "refresh tokens rotate");
        using (var call = await probe.CallToolAsync(second.GetProperty("access_token").GetString(), "whoami"))
        {
            call.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        using var reused = await probe.TokenAsync(Refresh(clientId, refresh1, demo.Resource));
        reused.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await reused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString().Should().Be("invalid_grant");
        using var afterReuse = await probe.TokenAsync(Refresh(clientId, refresh2, demo.Resource));
        afterReuse.StatusCode.Should().Be(HttpStatusCode.BadRequest, "reuse detection revokes the whole grant, the newest refresh token too");
    }

    public static TheoryData<string, string, string> RegistrationRefusals => new()
    {
        { "HttpsOffLoopback", """{"redirect_uris":["https://client.example/callback"]}""", "invalid_redirect_uri" },
        { "HttpOffLoopback", """{"redirect_uris":["http://192.0.2.1/callback"]}""", "invalid_redirect_uri" },
        { "JavaScriptScheme", """{"redirect_uris":["javascript:alert(1)"]}""", "invalid_redirect_uri" },
        { "Fragment", """{"redirect_uris":["http://127.0.0.1:9/cb#x"]}""", "invalid_redirect_uri" },
        { "Relative", """{"redirect_uris":["/callback"]}""", "invalid_redirect_uri" },
        { "NoRedirectUris", """{"client_name":"x"}""", "invalid_redirect_uri" },
        { "PrivateKeyJwt", """{"redirect_uris":["http://127.0.0.1:9/cb"],"token_endpoint_auth_method":"private_key_jwt"}""", "invalid_client_metadata" },
        { "ClientCredentials", """{"redirect_uris":["http://127.0.0.1:9/cb"],"grant_types":["client_credentials"]}""", "invalid_client_metadata" },
        { "ImplicitResponseType", """{"redirect_uris":["http://127.0.0.1:9/cb"],"response_types":["token"]}""", "invalid_client_metadata" },
        { "NotJson", "redirect_uris=http://127.0.0.1:9/cb", "invalid_client_metadata" },
    };

    [Theory]
    [MemberData(nameof(RegistrationRefusals))]
    public async Task Registration_Refused_WithTheRfc7591Error(string row, string metadata, string error)
    {
        var demo = shared.Demo;
        using var probe = new OAuthProbe(demo);
        using var response = await probe.Http.PostAsync(demo.Issuer + "/register", new StringContent(metadata, System.Text.Encoding.UTF8, "application/json"));
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest, row);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString().Should().Be(error, row);
    }

    [Theory]
    [InlineData("http://127.0.0.1:33420/callback", null)]
    [InlineData("http://localhost:6274/oauth/callback", null)]
    [InlineData("http://[::1]:8000/cb", null)]
    [InlineData("com.example.app:/oauth2redirect", null)]
    [InlineData("myapp://callback", "client_secret_post")]
    public async Task Registration_LoopbackOrCustomScheme_IsAPublicClient(string redirectUri, string? requestedMethod)
    {
        var demo = shared.Demo;
        using var probe = new OAuthProbe(demo);
        using var response = await probe.RegisterAsync(new Dictionary<string, object?>
        {
            ["redirect_uris"] = new[] { redirectUri }, ["client_name"] = "Probe", ["token_endpoint_auth_method"] = requestedMethod,
        }.Where(p => p.Value is not null).ToDictionary());
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        response.Headers.CacheControl!.NoStore.Should().BeTrue();
        var registered = await response.Content.ReadFromJsonAsync<JsonElement>();
        registered.GetProperty("client_id").GetString().Should().StartWith("demo-client-");
        registered.GetProperty("token_endpoint_auth_method").GetString().Should().Be("none", "a secret is never issued: the client is public");
        registered.TryGetProperty("client_secret", out _).Should().BeFalse();
        registered.GetProperty("redirect_uris").EnumerateArray().Select(e => e.GetString()).Should().Equal(redirectUri);
    }

    public static TheoryData<string, string> MetadataDocumentRefusals => new()
    {
        { "ClientIdIsNotItsUrl", "its client_id is not the URL it was fetched from" },
        { "RedirectOffLoopback", "not on loopback" },
        { "SecretAuthMethod", "public clients only" },
    };

    [Theory]
    [MemberData(nameof(MetadataDocumentRefusals))]
    public async Task ClientIdMetadataDocument_Refused_TheAuthorizationGetsNoCodeAndNoRedirect(string row, string reason)
    {
        await using var documents = await MetadataDocumentServer.StartAsync(OAuthProbe.RedirectUri, url => row switch
        {
            "ClientIdIsNotItsUrl" => new { client_id = url + "?other", redirect_uris = new[] { OAuthProbe.RedirectUri } },
            "RedirectOffLoopback" => new { client_id = url, redirect_uris = new[] { "https://client.example/callback" } },
            _ => new { client_id = url, redirect_uris = new[] { OAuthProbe.RedirectUri }, token_endpoint_auth_method = "client_secret_basic" },
        });
        await using var demo = await DemoHost.StartAsync(["--demo-auto-approve"], documents.Trust);
        using var probe = new OAuthProbe(demo);
        var (_, challenge) = OAuthProbe.Pkce();

        using var response = await probe.AuthorizeAsync(OAuthProbe.AuthorizationParameters(documents.Url, challenge, "mcp:read", demo.Resource));

        documents.Fetches.Should().Be(1, row);
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized, row); // OpenIddict answers invalid_client with 401
        response.Headers.Location.Should().BeNull(row);
        var body = await response.Content.ReadAsStringAsync();
        body.Should().Contain("error:invalid_client", row).And.Contain(reason, row);
    }

    [Fact]
    public async Task ConsentPage_NamesClientUserAndScopes_AllowGivesACode_DenyGivesAccessDenied_ForgedGivesNothing()
    {
        await using var demo = await DemoHost.StartAsync([]);
        using var probe = new OAuthProbe(demo);
        var clientId = await probe.RegisterClientAsync(name: "Probe <b>client</b>");
        var (_, challenge) = OAuthProbe.Pkce();
        using var page = await probe.AuthorizeAsync(OAuthProbe.AuthorizationParameters(clientId, challenge, "mcp:read mcp:admin", demo.Resource));

        page.StatusCode.Should().Be(HttpStatusCode.OK);
        page.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        page.Headers.GetValues("X-Frame-Options").Should().Equal("DENY");
        var html = await page.Content.ReadAsStringAsync();
        html.Should().Contain("Allow Probe &lt;b&gt;client&lt;/b&gt; to act as <code>demo-user</code> with scopes mcp:read mcp:admin?");
        html.Should().Contain("development only");
        var fields = Regex.Matches(html, "<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">")
            .Select(m => new KeyValuePair<string, string>(WebUtility.HtmlDecode(m.Groups[1].Value), WebUtility.HtmlDecode(m.Groups[2].Value))).ToList();
        fields.Select(f => f.Key).Should().Contain(["client_id", "code_challenge", "redirect_uri", "resource", "demo_csrf"]);

        using var allowed = await probe.Http.PostAsync(demo.Issuer + "/authorize", new FormUrlEncodedContent([.. fields, new("demo_consent", "allow")]));
        allowed.StatusCode.Should().Be(HttpStatusCode.Found);
        OAuthProbe.Callback(allowed).Should().ContainKey("code").WhoseValue.Should().NotBeNullOrEmpty();

        using var denied = await probe.Http.PostAsync(demo.Issuer + "/authorize", new FormUrlEncodedContent([.. fields, new("demo_consent", "deny")]));
        denied.StatusCode.Should().Be(HttpStatusCode.Found);
        OAuthProbe.Callback(denied)["error"].Should().Be("access_denied");

        var forged = fields.Select(f => f.Key == "demo_csrf" ? new KeyValuePair<string, string>(f.Key, new string('0', 64)) : f).Append(new("demo_consent", "allow"));
        using var refused = await probe.Http.PostAsync(demo.Issuer + "/authorize", new FormUrlEncodedContent(forged));
        refused.StatusCode.Should().Be(HttpStatusCode.OK, "a consent this process did not render only shows the page again");
        refused.Headers.Location.Should().BeNull();

        var silent = OAuthProbe.AuthorizationParameters(clientId, challenge, "mcp:read", demo.Resource);
        silent["prompt"] = "none";
        using var noInteraction = await probe.AuthorizeAsync(silent);
        noInteraction.StatusCode.Should().Be(HttpStatusCode.Found);
        OAuthProbe.Callback(noInteraction)["error"].Should().Be("consent_required");
    }

    [Fact]
    public async Task BannerToken_CallsWhoAmIAsDemoUser_AndAdminActionIs403InsufficientScope()
    {
        var demo = shared.Demo;
        using var probe = new OAuthProbe(demo);
        var token = demo.Server.CreateAccessToken(demo.App.Services, [DemoAuthorizationServer.ReadScope], TimeSpan.FromHours(1));
        demo.Server.Banner(token).Should().Contain("TOKEN=" + token).And.Contain("DEVELOPMENT ONLY").And.Contain("curl -s " + demo.Resource);

        using var whoami = await probe.CallToolAsync(token, "whoami");
        whoami.StatusCode.Should().Be(HttpStatusCode.OK);
        var result = await HostBehaviourTests.ReadToolResult(whoami);
        result.GetProperty("subject").GetString().Should().Be("demo-user");
        result.GetProperty("issuer").GetString().Should().Be(demo.Issuer);
        using var admin = await probe.CallToolAsync(token, "admin-action");
        admin.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        admin.Headers.WwwAuthenticate.ToString().Should().Contain("scope=\"mcp:read mcp:admin\"").And.Contain("error=\"insufficient_scope\"");
    }

    [Fact]
    public async Task TokenExchange_McpAuthExchangesTheClientsToken_WhoAmIShowsTheExchangedToken()
    {
        await using var demo = await DemoHost.StartAsync(["--demo-auto-approve", "--demo-exchange"]);
        using var probe = new OAuthProbe(demo);
        var metadata = await probe.Http.GetFromJsonAsync<JsonElement>(demo.Issuer + "/.well-known/openid-configuration");
        metadata.GetProperty("grant_types_supported").EnumerateArray().Select(e => e.GetString()).Should().Contain("urn:ietf:params:oauth:grant-type:token-exchange");
        var token = (await probe.CodeFlowAsync(await probe.RegisterClientAsync(), "mcp:read")).GetProperty("access_token").GetString();

        using var whoami = await probe.CallToolAsync(token, "whoami");
        whoami.StatusCode.Should().Be(HttpStatusCode.OK, await whoami.Content.ReadAsStringAsync());
        var result = await HostBehaviourTests.ReadToolResult(whoami);
        result.GetProperty("exchanged").GetBoolean().Should().BeTrue();
        result.GetProperty("subject").GetString().Should().Be("demo-user");

        // The exchange client is confidential: a wrong secret gets nothing.
        using var wrongSecret = await probe.TokenAsync(new()
        {
            ["grant_type"] = "urn:ietf:params:oauth:grant-type:token-exchange", ["client_id"] = demo.Server.ExchangeClientId,
            ["client_secret"] = "wrong", ["subject_token"] = token!, ["subject_token_type"] = "urn:ietf:params:oauth:token-type:access_token",
            ["audience"] = DemoAuthorizationServer.ExchangeAudience,
        });
        wrongSecret.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await wrongSecret.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString().Should().Be("invalid_client");
        // What McpAuth receives: a token for the downstream audience, same subject, scopes no wider than the subject token's.
        using var exchanged = await probe.TokenAsync(new()
        {
            ["grant_type"] = "urn:ietf:params:oauth:grant-type:token-exchange", ["client_id"] = demo.Server.ExchangeClientId,
            ["client_secret"] = demo.Server.ExchangeClientSecret!, ["subject_token"] = token!, ["subject_token_type"] = "urn:ietf:params:oauth:token-type:access_token",
            ["requested_token_type"] = "urn:ietf:params:oauth:token-type:access_token", ["audience"] = DemoAuthorizationServer.ExchangeAudience, ["scope"] = "mcp:read",
        });
        exchanged.StatusCode.Should().Be(HttpStatusCode.OK, await exchanged.Content.ReadAsStringAsync());
        var jwt = new JsonWebToken((await exchanged.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString());
        jwt.Audiences.Should().Equal(DemoAuthorizationServer.ExchangeAudience);
        jwt.Subject.Should().Be("demo-user");
        jwt.GetClaim("scope").Value.Should().Be("mcp:read");
        using var downstreamTokenHere = await probe.CallToolAsync(jwt.EncodedToken, "whoami");
        downstreamTokenHere.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "a token for the downstream audience is not one for this MCP server");
    }

    [Theory]
    [InlineData("/demo-issuer/authorize?client_id=x")]
    [InlineData("/demo-issuer/register")]
    [InlineData("/.well-known/oauth-authorization-server/demo-issuer")]
    [InlineData("/demo-issuer/.well-known/openid-configuration")]
    public async Task ForeignHost_IsRefusedBeforeTheAuthorizationServer_DnsRebinding(string path)
    {
        var demo = shared.Demo;
        using var probe = new OAuthProbe(demo);
        using var request = new HttpRequestMessage(path.EndsWith("register", StringComparison.Ordinal) ? HttpMethod.Post : HttpMethod.Get, demo.BaseUrl + path);
        request.Headers.Host = "rebound.example:" + demo.Port;
        using var response = await probe.Http.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString().Should().Be("forbidden_host");

        using var local = new HttpRequestMessage(HttpMethod.Get, demo.BaseUrl + "/.well-known/oauth-authorization-server/demo-issuer");
        local.Headers.Host = "localhost:" + demo.Port;
        (await probe.Http.SendAsync(local)).StatusCode.Should().Be(HttpStatusCode.OK, "loopback names are served");
    }

    public static TheoryData<string, string[], string> FlagRefusals => new()
    {
        { "AutoApproveWithoutDemo", ["--demo-auto-approve"], "--demo-auto-approve (McpAuth:DemoAutoApprove) only takes effect with --demo." },
        { "ExchangeWithoutDemo", ["--demo-exchange"], "--demo-exchange (McpAuth:DemoExchange) only takes effect with --demo." },
        { "DemoOnPublicBind", ["--demo", "--demo-auto-approve", "--bind-address", "0.0.0.0"], "--demo runs a development issuer and is refused on a non-loopback --bind-address." },
    };

    [Theory]
    [MemberData(nameof(FlagRefusals))]
    public void Build_DemoFlagRefused_ExitsWithItsReason(string row, string[] args, string message)
    {
        var result = McpAuthHost.Build(args);
        result.App.Should().BeNull(row);
        result.ExitCode.Should().Be(2);
        result.Message.Should().Be(message);
    }

    [Fact]
    public void Help_ListsTheDemoFlags()
    {
        var help = McpAuthHost.Build(["--help"]).Message;
        help.Should().Contain("--demo ").And.Contain("--demo-auto-approve").And.Contain("--demo-exchange");
    }

    private static Dictionary<string, string> Refresh(string clientId, string refreshToken, string resource) => new()
    {
        ["grant_type"] = "refresh_token", ["client_id"] = clientId, ["refresh_token"] = refreshToken, ["resource"] = resource,
    };
}
