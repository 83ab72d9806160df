using System.Security.Claims;
using System.Text.Json;
using McpAuth.Tokens;

namespace McpAuth.Core.Tests;

/// <summary>The access-token policy of the parser (typ, crit) and the exact edges of its structural pre-check.</summary>
public class ParsedTokenPolicyTests
{
    private const string Signature = "c2lnbmF0dXJl";
    private const string NotAccessToken = "The bearer token is not an access token (its typ is not at+jwt or JWT).";
    private const string Critical = "The bearer token names critical header parameters this server does not understand.";
    private const string NotBase64UrlJson = "The bearer token is not a JWT (its parts are not base64url JSON).";

    private static string WithHeader(object header) =>
        $"{Tokens.B64(JsonSerializer.Serialize(header))}.{Tokens.B64(JsonSerializer.Serialize(Tokens.Valid()))}.{Signature}";

    private static ParsedToken? Parse(string token, out string? error) => ParsedToken.TryParse(token, 16 * 1024, out error);

    [Theory]
    [InlineData("at+jwt")]
    [InlineData("AT+JWT")]
    [InlineData("application/at+jwt")]
    [InlineData("Application/AT+JWT")]
    [InlineData("JWT")]
    [InlineData("jwt")]
    [InlineData("")]
    public void Typ_OfAnAccessToken_IsAccepted(string typ)
    {
        Parse(WithHeader(new { alg = "RS256", typ, kid = "k1" }), out var error).Should().NotBeNull(typ);
        error.Should().BeNull();
        ParsedToken.IsAccessTokenType(typ).Should().BeTrue();
    }

    [Fact]
    public void Typ_Absent_IsAccepted()
    {
        Parse(WithHeader(new { alg = "RS256", kid = "k1" }), out var error).Should().NotBeNull();
        error.Should().BeNull();
        ParsedToken.IsAccessTokenType(null).Should().BeTrue();
    }

    [Theory]
    [InlineData("IdToken", "id_token+jwt")]
    [InlineData("Logout", "logout+jwt")]
    [InlineData("DPoP", "dpop+jwt")]
    [InlineData("SecurityEvent", "secevent+jwt")]
    [InlineData("JwtWithSuffix", "JWTx")]
    [InlineData("AtJwtPrefix", "at+jw")]
    [InlineData("ApplicationJwt", "application/jwt")]
    public void Typ_OfAnythingElse_IsRefused(string name, string typ)
    {
        Parse(WithHeader(new { alg = "RS256", typ, kid = "k1" }), out var error).Should().BeNull(name);
        error.Should().Be(NotAccessToken, name);
        ParsedToken.IsAccessTokenType(typ).Should().BeFalse(name);
    }

    [Theory]
    [InlineData("Extension", new[] { "exp" })]
    [InlineData("EmptyList", new string[0])]
    public void Crit_AnyValue_IsRefused(string name, string[] crit)
    {
        Parse(WithHeader(new { alg = "RS256", typ = "at+jwt", kid = "k1", crit, exp = 1 }), out var error).Should().BeNull(name);
        error.Should().Be(Critical, name);
    }

    [Fact]
    public void AlgorithmIsCheckedBeforeCrit_AndCritBeforeTyp()
    {
        Parse(WithHeader(new { alg = "none", typ = "dpop+jwt", crit = new[] { "x" } }), out var first);
        first.Should().Be("The bearer token's signing algorithm is not accepted.");
        Parse(WithHeader(new { alg = "RS256", typ = "dpop+jwt", crit = new[] { "x" } }), out var second);
        second.Should().Be(Critical);
    }

    [Fact]
    public void Alg_Absent_IsAnAlgorithmRefusal_NotAParseError()
    {
        Parse(WithHeader(new { typ = "at+jwt", kid = "k1" }), out var error).Should().BeNull();
        error.Should().Be("The bearer token's signing algorithm is not accepted.");
    }

    [Fact]
    public void Precheck_PartWhoseLengthIsOneMoreThanAMultipleOfFour_IsNotBase64Url()
    {
        var parts = Tokens.Create().Split('.');
        Parse($"{parts[0]}.{parts[1]}.abcde", out var error).Should().BeNull();
        error.Should().Be(NotBase64UrlJson);
        Parse($"{parts[0]}.{parts[1]}.abcdef", out var ok).Should().NotBeNull("6 characters are valid base64url");
        ok.Should().BeNull();
    }

    [Theory]
    [InlineData("Plus", "ab+d")]
    [InlineData("Slash", "ab/d")]
    [InlineData("Padding", "abc=")]
    public void Precheck_StandardBase64Characters_AreNotBase64Url(string name, string signature)
    {
        var parts = Tokens.Create().Split('.');
        Parse($"{parts[0]}.{parts[1]}.{signature}", out var error).Should().BeNull(name);
        error.Should().Be(NotBase64UrlJson, name);
    }

    [Fact]
    public void Precheck_UrlSafeCharacters_AreBase64Url()
    {
        var parts = Tokens.Create().Split('.');
        Parse($"{parts[0]}.{parts[1]}.a-_b", out var error).Should().NotBeNull();
        error.Should().BeNull();
    }

    [Fact]
    public void Precheck_FourCharacterPayload_ThatIsAJsonObject_IsAccepted()
    {
        var header = Tokens.Create().Split('.')[0];
        var payload = Tokens.B64("{ }");
        payload.Should().HaveLength(4);
        var token = Parse($"{header}.{payload}.{Signature}", out var error);
        error.Should().BeNull();
        token!.Claims.Should().BeEmpty();
        token.ExpiresAt.Should().BeNull();
    }

    [Fact]
    public void Precheck_PayloadThatIsNotAJsonObject_IsRefusedBeforeParsing()
    {
        var header = Tokens.Create().Split('.')[0];
        Parse($"{header}.{Tokens.B64("\"ab\"")}.{Signature}", out var error).Should().BeNull();
        error.Should().Be(NotBase64UrlJson);
        Parse($"{Tokens.B64("[\"alg\"]")}.{Tokens.B64("{ }")}.{Signature}", out var headerError).Should().BeNull();
        headerError.Should().Be(NotBase64UrlJson, "the header must be a JSON object too");
    }

    [Fact]
    public void Scope_SentAsAnArray_IsSplitAndDeduplicated()
    {
        var token = Tokens.Parse(Tokens.Create(new Dictionary<string, object> { ["scope"] = new[] { "read write", "admin", "read" } }));
        token.Scopes.Should().Equal("read", "write", "admin");
        token.Claims.Where(c => c.Type == "scope").Select(c => c.Value).Should().Equal("read", "write", "admin");
    }

    [Fact]
    public void ScopeClaims_OfATokenWithoutIssuer_HaveTheDefaultIssuer()
    {
        var token = Tokens.Parse(Tokens.Create(new Dictionary<string, object> { ["scope"] = "read" }));
        token.Claims.Should().ContainSingle().Which.Issuer.Should().Be(ClaimsIdentity.DefaultIssuer);
    }

    [Fact]
    public void KeyId_Empty_IsNull()
    {
        Tokens.Parse(WithHeader(new { alg = "RS256", typ = "JWT", kid = "" })).KeyId.Should().BeNull();
        Tokens.Parse(WithHeader(new { alg = "RS256", typ = "JWT" })).KeyId.Should().BeNull();
    }

    [Fact]
    public void ToString_ShowsKidAndExpiry_Only()
    {
        var token = Tokens.Parse(Tokens.Create());
        token.ToString().Should().Be($"ParsedToken {{ Kid = k1, ExpiresAt = {Tokens.Now.AddMinutes(10)} }}");
    }
}
