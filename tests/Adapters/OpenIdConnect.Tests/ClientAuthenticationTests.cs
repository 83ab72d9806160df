using System.Net;
using System.Text;
using System.Text.Json;
using McpAuth.Behaviors;
using McpAuth.OpenIdConnect.Exchange;
using McpAuth.Ports;
using McpAuth.TestPeers;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.OpenIdConnect.Tests;

/// <summary>
/// How McpAuth authenticates to the token service (#14), each method against the real oidc-provider (RFC 8693 grant):
/// the provider itself verifies <c>client_secret_basic</c>/<c>client_secret_post</c> and the <c>private_key_jwt</c>
/// assertions (signature, audience, expiry, <c>jti</c> replay); the federated assertion is checked by the peer script
/// (signature, iss, sub, aud, exp) before the provider sees the request. One provider process per test.
/// </summary>
public sealed class ClientAuthenticationTests : IAsyncLifetime
{
    private const string TokenExchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange";
    private const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";
    private const string JwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    private static readonly string[] Rfc8693Fields = ["audience", "grant_type", "requested_token_type", "scope", "subject_token", "subject_token_type"];

    private readonly WorkloadKeys _keys = new();
    private OidcProviderProcess _idp = null!;

    public async Task InitializeAsync()
    {
        _idp = await OidcProviderProcess.StartAsync();
        await _idp.SetUpExchangeClientsAsync(_keys);
    }

    public async Task DisposeAsync()
    {
        await _idp.DisposeAsync();
        _keys.Dispose();
    }

    private string TokenEndpoint => _idp.Issuer + "/token";

    [Fact]
    public async Task ClientSecretBasic_IdAndSecretInTheHeaderOnly_ProviderAccepts()
    {
        using var pipeline = ExchangeTestKit.AtProvider(_idp, OidcProviderProcess.ClientId, t =>
        {
            t.StsClientAuth = StsClientAuthMethods.ClientSecretBasic;
            t.StsClientSecret = OidcProviderProcess.ClientSecret;
        });

        var outcome = await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource));

        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        var sent = (await _idp.ExchangeDetailsAsync()).Exchanges.Should().ContainSingle().Subject;
        sent.ClientAuthMethod.Should().Be("client_secret_basic");
        sent.Authorization.Should().Be("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("mcp-client:mcp-secret")));
        sent.FormKeys.Should().Equal(Rfc8693Fields, "neither client_id nor client_secret goes in the form with Basic");
    }

    [Theory]
    [InlineData("FromSetting")]
    [InlineData("FromFile")]
    public async Task ClientSecretPost_IdAndSecretInTheForm_NoHeader_ProviderAccepts(string source)
    {
        using var pipeline = ExchangeTestKit.AtProvider(_idp, OidcProviderExchange.PostClientId, t =>
        {
            t.StsClientAuth = StsClientAuthMethods.ClientSecretPost;
            if (source == "FromFile")
            {
                t.StsClientSecretFile = _keys.Write(OidcProviderExchange.PostClientSecret + "\n");
            }
            else
            {
                t.StsClientSecret = OidcProviderExchange.PostClientSecret;
            }
        });

        var outcome = await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource));

        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        var sent = (await _idp.ExchangeDetailsAsync()).Exchanges.Should().ContainSingle().Subject;
        sent.ClientAuthMethod.Should().Be("client_secret_post", "the provider authenticated the client by the secret in the form (spaces and '+' included)");
        sent.ClientId.Should().Be(OidcProviderExchange.PostClientId);
        sent.Authorization.Should().BeNullOrEmpty();
        sent.FormKeys.Should().Equal(Sorted([.. Rfc8693Fields, "client_id", "client_secret"]));
    }

    [Fact]
    public async Task ClientSecretPost_WrongSecret_IsRefused_AndTheSecretIsNeverLogged()
    {
        var logs = new CapturedLogs();
        using var pipeline = ExchangeTestKit.AtProvider(
            _idp, OidcProviderExchange.PostClientId,
            t =>
            {
                t.StsClientAuth = StsClientAuthMethods.ClientSecretPost;
                t.StsClientSecret = "wrong-secret-do-not-log";
            },
            services: logs.Register);
        var token = await _idp.IssueTokenAsync(Harness.Resource);

        var outcome = await pipeline.SendAsync(token);

        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        outcome.Error.Stage.Should().Be(StageName.Of<TokenExchangeBehavior>());
        outcome.Error.Description.Should().Be("The token exchange service refused the token (invalid_client).");
        logs.All.Should().Contain("invalid_client").And.NotContain("wrong-secret-do-not-log").And.NotContain(token);
    }

    public static TheoryData<string> KeyRows => new() { "RsaPem", "EcPem", "RsaJwk", "EcJwk", "RsaPemWithCertificate" };

    [Theory]
    [MemberData(nameof(KeyRows))]
    public async Task PrivateKeyJwt_ProviderVerifiesTheAssertion_ItsShapeIsRfc7523_AndAReusedJtiIsRefused(string row)
    {
        var ec = row.StartsWith("Ec", StringComparison.Ordinal);
        AsymmetricSecurityKey key = ec ? _keys.ClientEc : _keys.ClientRsa;
        var clientId = ec ? OidcProviderExchange.EcKeyClientId : OidcProviderExchange.RsaKeyClientId;
        var file = row.EndsWith("Jwk", StringComparison.Ordinal) ? _keys.WriteJwk(key) : _keys.WritePem(key, withCertificate: row == "RsaPemWithCertificate");
        using var pipeline = ExchangeTestKit.AtProvider(_idp, clientId, t =>
        {
            t.StsClientKeyFile = file; // the method follows from the credential
            if (!row.EndsWith("Jwk", StringComparison.Ordinal))
            {
                t.StsClientKeyId = key.KeyId; // a PEM has no kid: the one registered with the provider
            }
        });

        var first = await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource));
        var second = await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource, "read"));

        first.Succeeded.Should().BeTrue(first.ToString());
        second.Succeeded.Should().BeTrue(second.ToString());
        var exchanges = (await _idp.ExchangeDetailsAsync()).Exchanges;
        exchanges.Should().HaveCount(2);
        foreach (var sent in exchanges)
        {
            sent.ClientAuthMethod.Should().Be("private_key_jwt", "oidc-provider authenticated the client by its signed assertion");
            sent.ClientId.Should().Be(clientId);
            sent.Authorization.Should().BeNullOrEmpty();
            sent.ClientAssertionType.Should().Be(JwtBearer);
            sent.FormKeys.Should().Equal(Sorted([.. Rfc8693Fields, "client_assertion", "client_assertion_type", "client_id"]));
        }

        var header = Part(exchanges[0].ClientAssertion!, 0);
        header.GetProperty("alg").GetString().Should().Be(ec ? "ES256" : "RS256");
        header.GetProperty("kid").GetString().Should().Be(key.KeyId);
        header.TryGetProperty("x5t#S256", out var x5t).Should().Be(row == "RsaPemWithCertificate");
        if (row == "RsaPemWithCertificate")
        {
            using var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(file));
            x5t.GetString().Should().Be(Base64UrlEncoder.Encode(certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256)));
            header.GetProperty("x5t").GetString().Should().Be(Base64UrlEncoder.Encode(certificate.GetCertHash()), "Entra ID finds the certificate by x5t");
        }

        var claims = exchanges.Select(e => Part(e.ClientAssertion!, 1)).ToList();
        foreach (var c in claims)
        {
            c.GetProperty("iss").GetString().Should().Be(clientId);
            c.GetProperty("sub").GetString().Should().Be(clientId);
            c.GetProperty("aud").GetString().Should().Be(TokenEndpoint);
            (c.GetProperty("exp").GetInt64() - c.GetProperty("iat").GetInt64()).Should().Be(60);
            c.GetProperty("nbf").GetInt64().Should().Be(c.GetProperty("iat").GetInt64());
            c.GetProperty("jti").GetString().Should().HaveLength(22, "128 random bits, base64url");
        }

        claims[0].GetProperty("jti").GetString().Should().NotBe(claims[1].GetProperty("jti").GetString(), "a new assertion for each request");

        // The same assertion again (well within its 60 s): the provider refuses the reused jti.
        var (status, error) = await ReplayAsync(clientId, exchanges[0].ClientAssertion!, await _idp.IssueTokenAsync(Harness.Resource, "write"));
        status.Should().Be(HttpStatusCode.Unauthorized);
        error.Should().Be("invalid_client");
        (await _idp.ExchangeDetailsAsync()).Exchanges.Should().HaveCount(2, "the replay never reached the grant");
    }

    [Fact]
    public async Task PrivateKeyJwt_ControlRow_AFreshAssertionSentByHand_IsAccepted()
    {
        // The replay row above must fail because of the jti, not because a hand-sent request is refused anyway.
        var assertion = ClientAssertion(OidcProviderExchange.RsaKeyClientId, _keys.ClientRsa);
        var (status, error) = await ReplayAsync(OidcProviderExchange.RsaKeyClientId, assertion, await _idp.IssueTokenAsync(Harness.Resource));
        status.Should().Be(HttpStatusCode.OK, error);
        (await ReplayAsync(OidcProviderExchange.RsaKeyClientId, assertion, await _idp.IssueTokenAsync(Harness.Resource))).Status.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task PrivateKeyJwt_KeyTheProviderDoesNotKnow_IsRefused_ThenTheRotatedFileIsUsedWithoutRestart()
    {
        var stranger = new RsaSecurityKey(System.Security.Cryptography.RSA.Create(2048)) { KeyId = "client-rsa" };
        var file = _keys.WritePem(stranger);
        using var pipeline = ExchangeTestKit.AtProvider(_idp, OidcProviderExchange.RsaKeyClientId, t =>
        {
            t.StsClientKeyFile = file;
            t.StsClientKeyId = "client-rsa";
        });
        var token = await _idp.IssueTokenAsync(Harness.Resource);

        var refused = await pipeline.ExchangeAsync(token);
        refused.Status.Should().Be(PortStatus.Rejected);
        refused.Reason.Should().Be("The token exchange service refused the token (invalid_client).");

        await File.WriteAllTextAsync(file, _keys.ClientRsa.Rsa.ExportPkcs8PrivateKeyPem());
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(1));
        var accepted = await pipeline.ExchangeAsync(token);
        accepted.Status.Should().Be(PortStatus.Accepted, accepted.Reason);
        (await _idp.ExchangeDetailsAsync()).Exchanges.Should().ContainSingle().Which.ClientAuthMethod.Should().Be("private_key_jwt");
    }

    [Fact]
    public async Task FederatedAssertion_PeerChecksThePlatformToken_AndARotatedFileIsReadAtTheNextExchange()
    {
        var first = _keys.PlatformToken(OidcProviderExchange.FederatedSubject, OidcProviderExchange.FederatedAudience, TimeSpan.FromMinutes(10), jti: "platform-token-1");
        var file = _keys.Write(first);
        using var pipeline = ExchangeTestKit.AtProvider(_idp, OidcProviderExchange.FederatedClientId, t => t.StsClientAssertionFile = file);

        (await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource))).Succeeded.Should().BeTrue();
        // The platform rotates the projected token (a new file content, like the kubelet does).
        await File.WriteAllTextAsync(file, _keys.PlatformToken(OidcProviderExchange.FederatedSubject, OidcProviderExchange.FederatedAudience, TimeSpan.FromMinutes(10), jti: "platform-token-2"));
        (await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource, "read"))).Succeeded.Should().BeTrue();

        var details = await _idp.ExchangeDetailsAsync();
        details.FederatedChecks.Select(c => (c.Ok, c.Subject, c.Jti)).Should().Equal(
            (true, OidcProviderExchange.FederatedSubject, "platform-token-1"),
            (true, OidcProviderExchange.FederatedSubject, "platform-token-2"));
        details.Exchanges.Should().HaveCount(2).And.OnlyContain(e => e.ClientAuthMethod == "federated_assertion" && e.ClientId == OidcProviderExchange.FederatedClientId);
    }

    [Theory]
    [InlineData("Expired", -60)]
    [InlineData("ExpiresWithinFiveSeconds", 3)]
    public async Task FederatedAssertion_PastOrAtItsExp_IsNeverSent_Unavailable_UntilThePlatformRotatesIt(string row, int expiresInSeconds)
    {
        _ = row;
        var file = _keys.Write(_keys.PlatformToken(OidcProviderExchange.FederatedSubject, OidcProviderExchange.FederatedAudience, TimeSpan.FromSeconds(expiresInSeconds)));
        var logs = new CapturedLogs();
        using var pipeline = ExchangeTestKit.AtProvider(_idp, OidcProviderExchange.FederatedClientId, t => t.StsClientAssertionFile = file, services: logs.Register);
        var token = await _idp.IssueTokenAsync(Harness.Resource);

        var outcome = await pipeline.SendAsync(token);

        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable, "our own credential is stale: the caller is not at fault");
        outcome.Error.Stage.Should().Be(StageName.Of<TokenExchangeBehavior>());
        outcome.Error.Description.Should().Be("The token exchange service is unavailable; try again later.");
        var details = await _idp.ExchangeDetailsAsync();
        details.FederatedChecks.Should().BeEmpty("the expired assertion never left McpAuth");
        details.Exchanges.Should().BeEmpty();
        _idp.Count(await _idp.StatsAsync(), "/token").Should().Be(1, "only the test's own client_credentials request");
        logs.All.Should().Contain("McpAuth:StsClientAssertionFile holds a JWT past its exp").And.NotContain(File.ReadAllText(file));

        await File.WriteAllTextAsync(file, _keys.PlatformToken(OidcProviderExchange.FederatedSubject, OidcProviderExchange.FederatedAudience, TimeSpan.FromMinutes(10)));
        (await pipeline.SendAsync(token)).Succeeded.Should().BeTrue("the unavailable answer was not cached and the rotated file is read");
        (await _idp.ExchangeDetailsAsync()).FederatedChecks.Should().ContainSingle().Which.Ok.Should().BeTrue();
    }

    [Theory]
    [InlineData("NotAJwt")]
    [InlineData("JwtWithoutExp")]
    [InlineData("Missing")]
    public async Task FederatedAssertion_FileThatHoldsNoUsableJwt_IsNeverSent(string row)
    {
        var file = _keys.Write(row switch
        {
            "NotAJwt" => "just-some-opaque-value",
            _ => TestKeys.Sign(_keys.Platform, "RS256", new Dictionary<string, object>
            {
                ["iss"] = _keys.PlatformIssuer, ["sub"] = OidcProviderExchange.FederatedSubject, ["aud"] = OidcProviderExchange.FederatedAudience,
            }),
        });
        using var pipeline = ExchangeTestKit.AtProvider(_idp, OidcProviderExchange.FederatedClientId, t => t.StsClientAssertionFile = file);
        if (row == "Missing")
        {
            _ = pipeline.Get<Microsoft.Extensions.Options.IOptions<TokenExchangeOptions>>().Value; // validated while the file exists
            File.Delete(file);
        }

        var result = await pipeline.ExchangeAsync(await _idp.IssueTokenAsync(Harness.Resource));

        result.Status.Should().Be(PortStatus.Unavailable);
        result.Reason.Should().Be("The token exchange is not possible now: McpAuth:StsClientAssertionFile " + row switch
        {
            "NotAJwt" => "does not hold a JWT.",
            "JwtWithoutExp" => "holds a JWT without exp.",
            _ => "does not exist.",
        });
        (await _idp.ExchangeDetailsAsync()).FederatedChecks.Should().BeEmpty();
    }

    [Fact]
    public async Task FederatedAssertion_ForAnotherWorkload_IsRefusedByThePeer()
    {
        var file = _keys.Write(_keys.PlatformToken("system:serviceaccount:other:intruder", OidcProviderExchange.FederatedAudience, TimeSpan.FromMinutes(10)));
        using var pipeline = ExchangeTestKit.AtProvider(_idp, OidcProviderExchange.FederatedClientId, t => t.StsClientAssertionFile = file);

        var result = await pipeline.ExchangeAsync(await _idp.IssueTokenAsync(Harness.Resource));

        result.Status.Should().Be(PortStatus.Rejected);
        result.Reason.Should().Be("The token exchange service refused the token (invalid_client).");
        (await _idp.ExchangeDetailsAsync()).FederatedChecks.Should().ContainSingle().Which.Ok.Should().BeFalse();
    }

    // An RFC 8693 request sent by hand as the private_key_jwt client with the given assertion.
    private async Task<(HttpStatusCode Status, string? Error)> ReplayAsync(string clientId, string assertion, string subjectToken)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync(TokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = TokenExchangeGrant,
            ["subject_token"] = subjectToken,
            ["subject_token_type"] = AccessTokenType,
            ["audience"] = "k8s-api",
            ["client_id"] = clientId,
            ["client_assertion_type"] = JwtBearer,
            ["client_assertion"] = assertion,
        }));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return (response.StatusCode, body.TryGetProperty("error", out var e) ? e.GetString() : null);
    }

    private string ClientAssertion(string clientId, SecurityKey key)
    {
        var now = DateTimeOffset.UtcNow;
        return TestKeys.Sign(key, "RS256", new Dictionary<string, object>
        {
            ["iss"] = clientId, ["sub"] = clientId, ["aud"] = TokenEndpoint, ["jti"] = Guid.NewGuid().ToString("N"),
            ["iat"] = now.ToUnixTimeSeconds(), ["exp"] = now.AddSeconds(60).ToUnixTimeSeconds(),
        });
    }

    private static string[] Sorted(string[] keys) => [.. keys.Order(StringComparer.Ordinal)];

    private static JsonElement Part(string jwt, int index) => JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(jwt.Split('.')[index])).RootElement;
}
