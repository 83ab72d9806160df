using McpAuth.Behaviors;
using McpAuth.OpenIdConnect.Exchange;
using McpAuth.Ports;
using McpAuth.TestPeers;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.OpenIdConnect.Tests;

/// <summary>
/// <c>entra-obo</c> (#14) at a local fake of Microsoft Entra ID's v2.0 token endpoint, which cannot run here. The
/// request and the answers are those of "Microsoft identity platform and OAuth 2.0 On-Behalf-Of flow": a form POST with
/// <c>grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer</c>, <c>client_id</c>, the client's credential (secret,
/// certificate assertion with <c>x5t</c>, or a federated assertion), <c>assertion</c> (the caller's token),
/// <c>scope</c> and <c>requested_token_use=on_behalf_of</c>; the success body (token_type, scope, expires_in,
/// ext_expires_in, access_token, refresh_token) and the error body (error, error_description, error_codes, timestamp,
/// trace_id, correlation_id, error_uri, and for a claims challenge suberror/claims), one row per documented error.
/// </summary>
public sealed class EntraFakeTests : IAsyncLifetime
{
    // The application (client) id and the credential of the middle-tier API, as in Microsoft's examples.
    private const string ClientId = "535fb089-9ff3-47b6-9bfb-4f1264799865";
    private const string Secret = "sampleCredentia1s~with+plus and space";
    private const string Scope = "api://downstream/.default";
    private const string JwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";

    private readonly WorkloadKeys _keys = new();
    private FakeTokenService _entra = null!;

    public async Task InitializeAsync() => _entra = await FakeTokenService.StartAsync(FakeTokenService.EntraPath);

    public async Task DisposeAsync()
    {
        await _entra.DisposeAsync();
        _keys.Dispose();
    }

    private Harness Entra(Action<TokenExchangeOptions>? more = null, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null) =>
        ExchangeTestKit.AtFake(_entra, TokenExchangeStrategies.EntraOnBehalfOf, ClientId, "api://downstream", t =>
        {
            t.StsScopes = [Scope];
            t.StsClientAuth = StsClientAuthMethods.ClientSecretPost;
            t.StsClientSecret = Secret;
            more?.Invoke(t);
        }, services);

    [Theory]
    [MemberData(nameof(ExchangeTestKit.ClientAuthRows), MemberType = typeof(ExchangeTestKit))]
    public async Task Request_IsEntrasDocumentedOnBehalfOfForm_ForEachClientCredential(string method)
    {
        var federated = _keys.PlatformToken("system:serviceaccount:mcp:mcpauth", "api://AzureADTokenExchange", TimeSpan.FromMinutes(10));
        var keyFile = _keys.WritePem(_keys.ClientRsa, withCertificate: true);
        using var pipeline = Entra(t =>
        {
            t.UseCredential(method, Secret, keyFile, _keys.Write(federated));
        });
        var subject = ExchangeTestKit.SubjectToken();

        var result = await pipeline.ExchangeAsync(subject);

        result.Status.Should().Be(PortStatus.Accepted, result.Reason);
        var sent = _entra.Requests.Should().ContainSingle().Subject;
        sent.Method.Should().Be("POST");
        sent.ContentType.Should().StartWith("application/x-www-form-urlencoded");
        sent["grant_type"].Should().Be(JwtBearerGrant);
        sent["assertion"].Should().Be(subject, "the caller's token, issued for this API");
        sent["requested_token_use"].Should().Be("on_behalf_of");
        sent["scope"].Should().Be(Scope);
        sent["client_id"].Should().Be(ClientId, "Entra requires client_id with every credential");
        string[] common = ["assertion", "client_id", "grant_type", "requested_token_use", "scope"];
        switch (method)
        {
            case StsClientAuthMethods.ClientSecretPost:
                sent.Keys.Should().Equal(ExchangeTestKit.Sorted([.. common, "client_secret"]));
                sent["client_secret"].Should().Be(Secret);
                sent.Authorization.Should().BeNull();
                break;
            case StsClientAuthMethods.ClientSecretBasic:
                sent.Keys.Should().Equal(ExchangeTestKit.Sorted(common));
                sent.Basic().Should().Be((ClientId, Secret));
                break;
            case StsClientAuthMethods.PrivateKeyJwt:
                sent.Keys.Should().Equal(ExchangeTestKit.Sorted([.. common, "client_assertion", "client_assertion_type"]));
                sent["client_assertion_type"].Should().Be(StsClientAuthMethods.JwtBearerAssertionType);
                sent.Authorization.Should().BeNull();
                using (var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(keyFile)))
                {
                    var header = sent.AssertionHeader();
                    header.GetProperty("alg").GetString().Should().Be("RS256");
                    header.GetProperty("x5t").GetString().Should().Be(Base64UrlEncoder.Encode(certificate.GetCertHash()), "Entra finds the certificate by its SHA-1 thumbprint");
                }

                var claims = sent.AssertionClaims();
                claims.GetProperty("aud").GetString().Should().Be(_entra.TokenUrl, "Entra wants the token endpoint as the assertion's audience");
                claims.GetProperty("iss").GetString().Should().Be(ClientId);
                claims.GetProperty("sub").GetString().Should().Be(ClientId);
                (claims.GetProperty("exp").GetInt64() - claims.GetProperty("nbf").GetInt64()).Should().Be(60);
                break;
            default:
                sent.Keys.Should().Equal(ExchangeTestKit.Sorted([.. common, "client_assertion", "client_assertion_type"]));
                sent["client_assertion_type"].Should().Be(StsClientAuthMethods.JwtBearerAssertionType);
                sent["client_assertion"].Should().Be(federated, "the platform's token as it is in the file");
                break;
        }
    }

    [Fact]
    public async Task Success_TheIssuedTokenBecomesTheEffectiveToken_UntilItsExpiresIn()
    {
        var issued = _entra.Success(expiresIn: 3599);
        _entra.Answer = _ => issued;
        using var pipeline = Entra();
        var before = DateTimeOffset.UtcNow;

        var outcome = await pipeline.SendAsync(ExchangeTestKit.SubjectToken());

        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        outcome.Principal!.Exchanged.Should().BeTrue();
        (outcome.Principal.EffectiveToken == System.Text.Json.JsonDocument.Parse(issued.Body).RootElement.GetProperty("access_token").GetString()).Should().BeTrue();
        var result = await pipeline.ExchangeAsync(ExchangeTestKit.SubjectToken("bob"));
        result.ExpiresAt.Should().BeCloseTo(before.AddSeconds(3599), TimeSpan.FromSeconds(10));
        result.Actors.Should().BeEmpty("Entra's on-behalf-of tokens carry no act claim");
    }

    [Fact]
    public async Task SeveralScopes_AreOneSpaceSeparatedScope()
    {
        using var pipeline = Entra(t => t.StsScopes = ["api://downstream/Files.Read", "api://downstream/Files.Write"]);
        (await pipeline.ExchangeAsync(ExchangeTestKit.SubjectToken())).Status.Should().Be(PortStatus.Accepted);
        _entra.Requests.Single()["scope"].Should().Be("api://downstream/Files.Read api://downstream/Files.Write");
    }

    /// <summary>Entra's documented errors for this flow: status, error, first AADSTS code, and what McpAuth makes of it.</summary>
    public static TheoryData<string, int, string, long, string> ErrorRows => new()
    {
        // name,                         HTTP, error,                      AADSTS,  outcome
        { "AssertionSignatureInvalid",   400, "invalid_grant",            50013,   "refused" },
        { "AssertionExpired",            400, "invalid_grant",            500133,  "refused" },
        { "MfaRequired",                 400, "interaction_required",     50079,   "refused" },
        { "ConditionalAccess",           400, "interaction_required",     53003,   "refused" },
        { "ConsentRequired",             400, "consent_required",         65001,   "refused" },
        { "BadClientSecret",             401, "invalid_client",           7000215, "refused" },
        { "UnknownApplication",          400, "unauthorized_client",      700016,  "refused" },
        { "InvalidScope",                400, "invalid_scope",            70011,   "refused" },
        { "MissingParameter",            400, "invalid_request",          900144,  "refused" },
        { "TooBusy400",                  400, "temporarily_unavailable",  90033,   "down" },
        { "TooBusy503",                  503, "temporarily_unavailable",  90033,   "down" },
        { "ServerError500",              500, "server_error",             90033,   "down" },
        { "ServerError400",              400, "server_error",             90033,   "down" },
    };

    [Theory]
    [MemberData(nameof(ErrorRows))]
    public async Task DocumentedError_MapsToRefusedOrDown_WithASafeDescription(string row, int status, string error, long code, string expected)
    {
        _ = row;
        _entra.Answer = _ => EntraError(status, error, code);
        var logs = new CapturedLogs();
        using var pipeline = Entra(services: logs.Register);
        var subject = ExchangeTestKit.SubjectToken();

        var result = await pipeline.ExchangeAsync(subject);
        var outcome = await pipeline.SendAsync(subject);

        if (expected == "refused")
        {
            result.Status.Should().Be(PortStatus.Rejected);
            result.Reason.Should().Be($"The token exchange service refused the token ({error}).");
            outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken, "a 401 for the caller");
            outcome.Error.Description.Should().Be($"The token exchange service refused the token ({error}).");
            logs.All.Should().Contain($"error '{error}' (AADSTS{code}, trace_id {TraceId}, correlation_id {CorrelationId})");
        }
        else
        {
            result.Status.Should().Be(PortStatus.Unavailable);
            outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable, "a 503 for the caller");
            outcome.Error.Description.Should().Be("The token exchange service is unavailable; try again later.");
        }

        outcome.Error.Stage.Should().Be(StageName.Of<TokenExchangeBehavior>());
        _entra.Requests.Should().HaveCount(2, "a refusal or failure is not cached");
        // Entra's error_description names the tenant, the application and the user's situation: never passed on or logged.
        outcome.Error.Description.Should().NotContain("AADSTS").And.NotContain(TenantId);
        logs.All.Should().NotContain(TenantId).And.NotContain(subject).And.NotContain(Secret).And.NotContain("Due to a configuration change");
    }

    [Fact]
    public async Task ErrorWithAnUnsafeCode_GetsTheGenericDescription()
    {
        _entra.Answer = _ => FakeTokenService.Json(400, new { error = "invalid_grant\", error_description=\"injected", error_codes = new[] { 50013 } });
        using var pipeline = Entra();
        var result = await pipeline.ExchangeAsync(ExchangeTestKit.SubjectToken());
        result.Status.Should().Be(PortStatus.Rejected);
        result.Reason.Should().Be("The token exchange service refused the token.");
    }

    [Fact]
    public async Task HtmlErrorPage_IsUnavailable()
    {
        _entra.Answer = _ => new TokenServiceAnswer(502, "<html><body>Bad gateway</body></html>", "text/html");
        using var pipeline = Entra();
        var result = await pipeline.ExchangeAsync(ExchangeTestKit.SubjectToken());
        result.Status.Should().Be(PortStatus.Unavailable);
        result.Reason.Should().Be("HTTP 502");
    }

    [Fact]
    public void WithoutScopes_OrWithAnActorToken_RefusesToStart()
    {
        using var noScope = Entra(t => t.StsScopes = []);
        var act = () => noScope.Get<IOptions<TokenExchangeOptions>>().Value;
        act.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("McpAuth:StsScopes is required with McpAuth:StsStrategy=entra-obo");

        using var withActor = Entra(t => t.StsActorTokenFile = _keys.Write(_keys.PlatformToken("a", "b", TimeSpan.FromMinutes(5))));
        act = () => withActor.Get<IOptions<TokenExchangeOptions>>().Value;
        act.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("entra-obo takes no actor_token");
    }

    private const string TenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    private const string TraceId = "255d1aef-8c98-452f-ac51-23d051240864";
    private const string CorrelationId = "fb3d2015-bc17-4bb9-bb85-30c5cf1aaaa7";

    // Entra's error body (the documented on-behalf-of error example's fields); interaction_required adds the claims challenge.
    private static TokenServiceAnswer EntraError(int status, string error, long code)
    {
        var body = new Dictionary<string, object>
        {
            ["error"] = error,
            ["error_description"] = $"AADSTS{code}: Due to a configuration change made by your administrator, or because you moved to a new location, " +
                                    $"you must enroll in multifactor authentication to access '{TenantId}'.\r\nTrace ID: {TraceId}\r\n" +
                                    $"Correlation ID: {CorrelationId}\r\nTimestamp: 2026-05-01 22:43:20Z",
            ["error_codes"] = new[] { code },
            ["timestamp"] = "2026-05-01 22:43:20Z",
            ["trace_id"] = TraceId,
            ["correlation_id"] = CorrelationId,
            ["error_uri"] = $"https://login.microsoftonline.com/error?code={code}",
        };
        if (error == "interaction_required")
        {
            body["suberror"] = "basic_action";
            body["claims"] = "{\"access_token\":{\"polids\":{\"essential\":true,\"values\":[\"9ab03e19-ed42-4168-b6b7-7001fb3e933a\"]}}}";
        }

        return FakeTokenService.Json(status, body);
    }
}
