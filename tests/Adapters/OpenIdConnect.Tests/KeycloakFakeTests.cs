using McpAuth.Behaviors;
using McpAuth.OpenIdConnect.Exchange;
using McpAuth.Ports;
using McpAuth.TestPeers;
using Microsoft.Extensions.Options;

namespace McpAuth.OpenIdConnect.Tests;

/// <summary>
/// <c>keycloak</c> (#14) at a local fake of Keycloak's token endpoint (<c>/realms/{realm}/protocol/openid-connect/token</c>),
/// which cannot run here. The request is Keycloak's standard token exchange (V2) as its "Using token exchange" guide
/// shows it: <c>grant_type</c> token-exchange, <c>subject_token</c>, <c>subject_token_type</c> access_token (the only
/// type Keycloak accepts), <c>requested_token_type</c> access_token, <c>audience</c> = the target client's id, a
/// confidential client's credential (no <c>client_id</c> next to a signed JWT), <c>scope</c> only when set, never
/// <c>actor_token</c> or <c>resource</c>. The answers are Keycloak's success body and its errors, one row each.
/// </summary>
public sealed class KeycloakFakeTests : IAsyncLifetime
{
    private const string ClientId = "mcp-server";
    private const string Secret = "keycloak client secret+";
    private const string TargetClient = "kubernetes-api";
    private const string TokenExchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange";
    private const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";

    private readonly WorkloadKeys _keys = new();
    private FakeTokenService _keycloak = null!;

    public async Task InitializeAsync()
    {
        _keycloak = await FakeTokenService.StartAsync(FakeTokenService.KeycloakPath);
        _keycloak.Shape = "keycloak";
    }

    public async Task DisposeAsync()
    {
        await _keycloak.DisposeAsync();
        _keys.Dispose();
    }

    private Harness Keycloak(Action<TokenExchangeOptions>? more = null, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null) =>
        ExchangeTestKit.AtFake(_keycloak, TokenExchangeStrategies.Keycloak, ClientId, TargetClient, t =>
        {
            t.StsClientAuth = StsClientAuthMethods.ClientSecretPost;
            t.StsClientSecret = Secret;
            more?.Invoke(t);
        }, services);

    [Theory]
    [MemberData(nameof(ExchangeTestKit.ClientAuthRows), MemberType = typeof(ExchangeTestKit))]
    public async Task Request_IsKeycloaksStandardTokenExchange_ForEachClientCredential(string method)
    {
        var federated = _keys.PlatformToken("system:serviceaccount:mcp:mcpauth", "https://keycloak.test/realms/mcp", TimeSpan.FromMinutes(10));
        using var pipeline = Keycloak(t =>
        {
            t.UseCredential(method, Secret, _keys.WriteJwk(_keys.ClientRsa), _keys.Write(federated));
            t.StsScopes = [];
        });
        var subject = ExchangeTestKit.SubjectToken();

        var result = await pipeline.ExchangeAsync(subject);

        result.Status.Should().Be(PortStatus.Accepted, result.Reason);
        var sent = _keycloak.Requests.Should().ContainSingle().Subject;
        sent.Method.Should().Be("POST");
        sent.ContentType.Should().StartWith("application/x-www-form-urlencoded");
        sent["grant_type"].Should().Be(TokenExchangeGrant);
        sent["subject_token"].Should().Be(subject);
        sent["subject_token_type"].Should().Be(AccessTokenType, "Keycloak accepts no other subject token type");
        sent["requested_token_type"].Should().Be(AccessTokenType);
        sent["audience"].Should().Be(TargetClient, "the target client's id");
        string[] common = ["audience", "grant_type", "requested_token_type", "subject_token", "subject_token_type"];
        switch (method)
        {
            case StsClientAuthMethods.ClientSecretPost:
                sent.Keys.Should().Equal(ExchangeTestKit.Sorted([.. common, "client_id", "client_secret"]), "as the guide's curl example: client_id and client_secret in the form");
                sent["client_id"].Should().Be(ClientId);
                sent["client_secret"].Should().Be(Secret);
                sent.Authorization.Should().BeNull();
                break;
            case StsClientAuthMethods.ClientSecretBasic:
                sent.Keys.Should().Equal(ExchangeTestKit.Sorted(common));
                sent.Basic().Should().Be((ClientId, Secret));
                break;
            case StsClientAuthMethods.PrivateKeyJwt:
                sent.Keys.Should().Equal(ExchangeTestKit.Sorted([.. common, "client_assertion", "client_assertion_type"]), "Keycloak: no client_id next to a signed JWT");
                sent["client_assertion_type"].Should().Be(StsClientAuthMethods.JwtBearerAssertionType);
                var claims = sent.AssertionClaims();
                claims.GetProperty("sub").GetString().Should().Be(ClientId, "Keycloak finds the client by the assertion's sub");
                claims.GetProperty("iss").GetString().Should().Be(ClientId);
                claims.GetProperty("aud").GetString().Should().Be(_keycloak.TokenUrl);
                sent.AssertionHeader().GetProperty("kid").GetString().Should().Be(_keys.ClientRsa.KeyId);
                break;
            default:
                sent.Keys.Should().Equal(ExchangeTestKit.Sorted([.. common, "client_assertion", "client_assertion_type", "client_id"]));
                sent["client_id"].Should().Be(ClientId);
                sent["client_assertion"].Should().Be(federated);
                break;
        }
    }

    [Fact]
    public async Task Scopes_AreSentOnlyWhenSet_AsOneSpaceSeparatedScope()
    {
        using (var none = Keycloak(t => t.StsScopes = []))
        {
            (await none.ExchangeAsync(ExchangeTestKit.SubjectToken())).Status.Should().Be(PortStatus.Accepted);
        }

        using (var some = Keycloak(t => t.StsScopes = ["k8s", "profile"]))
        {
            (await some.ExchangeAsync(ExchangeTestKit.SubjectToken())).Status.Should().Be(PortStatus.Accepted);
        }

        var requests = _keycloak.Requests.ToList();
        requests[0].Keys.Should().NotContain("scope", "omitted: the client's default scopes");
        requests[1]["scope"].Should().Be("k8s profile");
        requests.Should().OnlyContain(r => !r.Keys.Contains("resource") && !r.Keys.Contains("actor_token") && !r.Keys.Contains("requested_subject"));
    }

    [Fact]
    public async Task Success_KeycloaksBody_IsTheEffectiveToken_ForItsExpiresIn()
    {
        var issued = _keycloak.Success(expiresIn: 300);
        _keycloak.Answer = _ => issued;
        using var pipeline = Keycloak();
        var before = DateTimeOffset.UtcNow;

        var outcome = await pipeline.SendAsync(ExchangeTestKit.SubjectToken());
        var result = await pipeline.ExchangeAsync(ExchangeTestKit.SubjectToken("bob"));

        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        outcome.Principal!.Exchanged.Should().BeTrue();
        (outcome.Principal.EffectiveToken == System.Text.Json.JsonDocument.Parse(issued.Body).RootElement.GetProperty("access_token").GetString()).Should().BeTrue();
        result.ExpiresAt.Should().BeCloseTo(before.AddSeconds(300), TimeSpan.FromSeconds(10));
    }

    /// <summary>Keycloak's token-exchange errors (status, error, its error_description) and what McpAuth makes of them.</summary>
    public static TheoryData<string, int, string, string, string> ErrorRows => new()
    {
        { "MissingSubjectToken",        400, "invalid_request",     "Parameter 'subject_token' required",                             "refused" },
        { "WrongSubjectTokenType",      400, "invalid_request",     "Invalid subject token type",                                     "refused" },
        { "BadClientCredentials",       401, "invalid_client",      "Invalid client or Invalid client credentials",                   "refused" },
        { "PublicClient",               400, "invalid_client",      "Public client is not allowed to exchange token",                 "refused" },
        { "NotInTheTokenAudience",      403, "access_denied",       "Client is not within the token audience",                        "refused" },
        { "AudienceNotAvailable",       400, "invalid_request",     "Requested audience not available: kubernetes-api",               "refused" },
        { "SubjectTokenInvalid",        400, "invalid_token",       "Invalid token",                                                  "refused" },
        { "SubjectTokenSessionGone",    400, "invalid_grant",       "Token not active",                                               "refused" },
        { "ExchangeNotEnabled",         400, "unauthorized_client", "Standard token exchange is not enabled for the requested client", "refused" },
        { "InvalidScopes",              400, "invalid_scope",       "Invalid scopes: k8s",                                            "refused" },
        { "Unexpected500",              500, "unknown_error",       "For more on this error consult the server log.",                 "down" },
        { "Starting503",                503, "temporarily_unavailable", "Keycloak is starting",                                       "down" },
    };

    [Theory]
    [MemberData(nameof(ErrorRows))]
    public async Task DocumentedError_MapsToRefusedOrDown_WithASafeDescription(string row, int status, string error, string description, string expected)
    {
        _ = row;
        _keycloak.Answer = _ => FakeTokenService.Json(status, new { error, error_description = description });
        var logs = new CapturedLogs();
        using var pipeline = Keycloak(services: logs.Register);
        var subject = ExchangeTestKit.SubjectToken();

        var result = await pipeline.ExchangeAsync(subject);
        var outcome = await pipeline.SendAsync(subject);

        if (expected == "refused")
        {
            result.Status.Should().Be(PortStatus.Rejected);
            result.Reason.Should().Be($"The token exchange service refused the token ({error}).");
            outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken, "a 401 for the caller");
            outcome.Error.Description.Should().Be($"The token exchange service refused the token ({error}).");
            logs.All.Should().Contain($"HTTP {status}").And.Contain(error);
        }
        else
        {
            result.Status.Should().Be(PortStatus.Unavailable);
            result.Reason.Should().Be($"HTTP {status}");
            outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable, "a 503 for the caller");
        }

        outcome.Error.Stage.Should().Be(StageName.Of<TokenExchangeBehavior>());
        outcome.Error.Description.Should().NotContain(description, "Keycloak's free text is neither passed on");
        logs.All.Should().NotContain(description, "nor logged").And.NotContain(subject).And.NotContain(Secret);
        _keycloak.Requests.Should().HaveCount(2, "a refusal or failure is not cached");
    }

    [Fact]
    public void ActorToken_RefusesToStart_KeycloakTakesNone()
    {
        using var pipeline = Keycloak(t => t.StsActorTokenFile = _keys.Write(_keys.PlatformToken("a", "b", TimeSpan.FromMinutes(5))));
        var act = () => pipeline.Get<IOptions<TokenExchangeOptions>>().Value;
        act.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("keycloak takes no actor_token");
    }

    [Fact]
    public void PublicClient_RefusesToStart_KeycloakOnlyLetsConfidentialClientsExchange()
    {
        using var pipeline = Keycloak(t =>
        {
            t.StsClientAuth = null;
            t.StsClientSecret = null;
        });
        var act = () => pipeline.Get<IOptions<TokenExchangeOptions>>().Value;
        act.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("McpAuth:StsStrategy=keycloak needs a confidential client");
    }
}
