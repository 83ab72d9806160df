using System.Security.Claims;
using McpAuth.Tokens;

namespace McpAuth.Core.Tests;

public class ParsedTokenTests
{
    private const string NotAJwt = "The bearer token is not a JWT (its header or payload is not valid base64url JSON).";

    private static ParsedToken Parse(object payload) => Tokens.Parse(Tokens.Create(payload));

    [Fact]
    public void TryParse_ValidToken_ReadsTheRegisteredClaims()
    {
        var raw = Tokens.Create(Tokens.Valid(("nbf", Tokens.Now.AddMinutes(-2).ToUnixTimeSeconds())));
        var token = ParsedToken.TryParse(raw, 16 * 1024, out var error);
        error.Should().BeNull();
        token!.Raw.Should().Be(raw);
        token.Jwt!.Alg.Should().Be("RS256");
        token.KeyId.Should().Be("k1");
        token.Subject.Should().Be("alice");
        token.Issuer.Should().Be("https://issuer.test");
        token.Audiences.Should().Equal("mcp-server");
        token.ExpiresAt.Should().Be(Tokens.Now.AddMinutes(10));
        token.NotBefore.Should().Be(Tokens.Now.AddMinutes(-2));
        token.IssuedAt.Should().Be(Tokens.Now.AddMinutes(-1));
        token.Scopes.Should().Equal("read", "write");
        token.ToString().Should().NotContain(raw[..20], "a token's ToString must never show the token");
    }

    [Fact]
    public void TryParse_MissingOrEmptyOptionalClaims_AreNull()
    {
        var token = Parse(new Dictionary<string, object> { ["iss"] = "", ["sub"] = "", ["scope"] = "" });
        token.Subject.Should().BeNull();
        token.Issuer.Should().BeNull();
        token.ExpiresAt.Should().BeNull();
        token.NotBefore.Should().BeNull();
        token.IssuedAt.Should().BeNull();
        token.Audiences.Should().BeEmpty();
        token.Scopes.Should().BeEmpty();
        token.Claims.Should().NotContain(c => c.Type == "scope");
    }

    public static TheoryData<string, Dictionary<string, object>, string[]> ScopeRows => new()
    {
        { "SpaceSeparated", new() { ["scope"] = "read write" }, ["read", "write"] },
        { "OddWhitespace", new() { ["scope"] = "  read \t write\n\r admin  " }, ["read", "write", "admin"] },
        { "DuplicatesInScope", new() { ["scope"] = "read read write read" }, ["read", "write"] },
        { "ScpArray", new() { ["scp"] = new[] { "read", "write" } }, ["read", "write"] },
        { "ScpString", new() { ["scp"] = "read  write" }, ["read", "write"] },
        { "ScopeThenScpArray_Deduplicated", new() { ["scope"] = "read", ["scp"] = new[] { "write", "read", "admin" } }, ["read", "write", "admin"] },
        { "ScopeThenScpString_Deduplicated", new() { ["scope"] = "read write", ["scp"] = "write admin" }, ["read", "write", "admin"] },
        { "ScpArrayElementsWithBlanks", new() { ["scp"] = new[] { "", "  ", "read" } }, ["read"] },
        { "WhitespaceOnly", new() { ["scope"] = " \t " }, [] },
        { "None", new() { ["sub"] = "alice" }, [] },
    };

    [Theory]
    [MemberData(nameof(ScopeRows))]
    public void Scopes_FromScopeAndScp_SplitOnWhitespace_InTokenOrder_Deduplicated(string name, Dictionary<string, object> payload, string[] expected)
    {
        Parse(payload).Scopes.Should().Equal(expected, name);
    }

    [Fact]
    public void Claims_HaveOneScopeClaimPerScope_AndEveryOtherClaimUnderItsOwnType()
    {
        var token = Parse(new Dictionary<string, object>
        {
            ["iss"] = "https://issuer.test",
            ["sub"] = "alice",
            ["aud"] = new[] { "mcp-server", "other" },
            ["tenant"] = "contoso",
            ["scope"] = " read\twrite read ",
            ["exp"] = Tokens.Now.AddMinutes(10).ToUnixTimeSeconds(),
        });

        var claims = token.Claims.Select(c => (c.Type, c.Value)).ToList();
        claims.Where(c => c.Type == "scope").Should().Equal(("scope", "read"), ("scope", "write"));
        claims.Should().Contain(("sub", "alice"));
        claims.Should().Contain(("iss", "https://issuer.test"));
        claims.Where(c => c.Type == "aud").Should().Equal(("aud", "mcp-server"), ("aud", "other"));
        claims.Should().Contain(("tenant", "contoso"));
        claims.Should().Contain(("exp", Tokens.Now.AddMinutes(10).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)));
        claims.Should().HaveCount(8, "iss, sub, 2 × aud, tenant, exp and 2 × scope; the space-joined scope string is not a claim");

        // Types as in the token (MapInboundClaims = false): no long URI types.
        token.Claims.Should().NotContain(c => c.Type == ClaimTypes.NameIdentifier || c.Type.StartsWith("http", StringComparison.Ordinal));
        token.Claims.Single(c => c.Type == "tenant").ValueType.Should().Be(ClaimValueTypes.String);
        token.Claims.Where(c => c.Type == "scope").Should().OnlyContain(c => c.ValueType == ClaimValueTypes.String && c.Issuer == "https://issuer.test");
    }

    [Fact]
    public void Claims_ScpClaimsAreKeptAsSent_NextToTheScopeClaims()
    {
        var token = Parse(new Dictionary<string, object> { ["scp"] = new[] { "read", "write" } });
        token.Claims.Select(c => (c.Type, c.Value)).Should().Equal(("scp", "read"), ("scp", "write"), ("scope", "read"), ("scope", "write"));
    }

    public static TheoryData<string, string, DateTimeOffset?> ExpRows => new()
    {
        { "Integer", "{\"exp\":1795867200}", DateTimeOffset.FromUnixTimeSeconds(1795867200) },
        { "Int32Range", "{\"exp\":2147483647}", DateTimeOffset.FromUnixTimeSeconds(2147483647) },
        { "DoubleWhole", "{\"exp\":1795867200.0}", DateTimeOffset.FromUnixTimeSeconds(1795867200) },
        { "DoubleFraction", "{\"exp\":1795867200.4}", DateTimeOffset.FromUnixTimeSeconds(1795867200) },
        { "Negative_ClampedToEpoch", "{\"exp\":-5}", DateTimeOffset.UnixEpoch },
        { "PastYear9999_Clamped", "{\"exp\":253402300800}", new DateTimeOffset(9999, 12, 31, 23, 59, 59, TimeSpan.Zero) },
        { "LongMax_Clamped", "{\"exp\":9223372036854775807}", new DateTimeOffset(9999, 12, 31, 23, 59, 59, TimeSpan.Zero) },
        { "Absent", "{\"sub\":\"alice\"}", null },
    };

    [Theory]
    [MemberData(nameof(ExpRows))]
    public void ExpiresAt_NumericForms(string name, string payload, DateTimeOffset? expected)
    {
        var token = ParsedToken.TryParse(Tokens.FromJson(payload), 16 * 1024, out var error);
        error.Should().BeNull(name);
        token!.ExpiresAt.Should().Be(expected, name);
    }

    [Theory]
    [InlineData("ExpWord", "{\"exp\":\"tomorrow\"}")]
    [InlineData("ExpBoolean", "{\"exp\":true}")]
    [InlineData("ExpObject", "{\"exp\":{}}")]
    [InlineData("ExpNull", "{\"exp\":null}")]
    [InlineData("NbfArray", "{\"nbf\":[1]}")]
    [InlineData("IatWord", "{\"iat\":\"yesterday\"}")]
    public void TryParse_NonNumericTimeClaim_IsRefusedAsNotAJwt(string name, string payload)
    {
        var token = ParsedToken.TryParse(Tokens.FromJson(payload), 16 * 1024, out var error);
        token.Should().BeNull(name);
        error.Should().Be(NotAJwt, name);
    }

    public static TheoryData<string, string, int, string> RefusedRows => new()
    {
        { "Empty", "", 100, "The bearer token is empty." },
        { "TooLong", Tokens.Create(), 10, "The bearer token is longer than 10 bytes." },
        { "OnePart", "abc", 100, "The bearer token is not a JWT (it must have exactly three dot-separated parts)." },
        { "EmptyParts", "..", 100, "The bearer token is not a JWT (its parts are not base64url JSON)." },
        { "AlgorithmNotAccepted", Tokens.Create(alg: "none"), 16 * 1024, "The bearer token's signing algorithm is not accepted." },
    };

    [Theory]
    [MemberData(nameof(RefusedRows))]
    public void TryParse_BadInput_ReturnsNullAndASafeReason(string name, string token, int maxLength, string reason)
    {
        ParsedToken.TryParse(token, maxLength, out var error).Should().BeNull(name);
        error.Should().Be(reason, name);
    }

    [Fact]
    public void TryParse_ExactlyMaxLength_IsAccepted()
    {
        var raw = Tokens.Create();
        ParsedToken.TryParse(raw, raw.Length, out _).Should().NotBeNull();
        ParsedToken.TryParse(raw, raw.Length - 1, out var error).Should().BeNull();
        error.Should().Be($"The bearer token is longer than {raw.Length - 1} bytes.");
    }

    [Fact]
    public void SupportedAlgorithms_AreTheOriginalsList()
    {
        ParsedToken.SupportedAlgorithms.Should().BeEquivalentTo(
            ["EdDSA", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"]);
    }
}
