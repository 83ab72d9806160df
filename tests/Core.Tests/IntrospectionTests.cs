using System.Security.Claims;
using System.Text.Json;
using McpAuth.Behaviors;
using McpAuth.Ports;
using McpAuth.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace McpAuth.Core.Tests;

/// <summary>A fake introspection port: answers <see cref="Answer"/> for the token it is asked about and counts calls.</summary>
internal sealed class FakeIntrospector : ITokenIntrospector
{
    private int _calls;

    public Func<ParsedToken, IntrospectionResult> Answer { get; set; } = _ => IntrospectionResult.Inactive("The token is not active.");

    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Whether every token it was asked about was an opaque, not yet introspected token.</summary>
    public bool OnlyUnresolvedOpaqueTokens { get; private set; } = true;

    public ValueTask<IntrospectionResult> IntrospectAsync(ParsedToken token, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        OnlyUnresolvedOpaqueTokens &= token is { IsOpaque: true, IsIntrospected: false };
        return ValueTask.FromResult(Answer(token));
    }

    /// <summary>"Active", with <paramref name="json"/> as the authorization server's answer about the token asked about.</summary>
    public static Func<ParsedToken, IntrospectionResult> ActiveWith(string json) => token =>
    {
        using var document = JsonDocument.Parse(json);
        return IntrospectionResult.Active(ParsedToken.FromIntrospection(token.Raw, document.RootElement, out var error)
                                          ?? throw new InvalidOperationException(error));
    };
}

/// <summary>Opaque tokens at the parse step (RFC 6750 b64token, only with introspection) and the introspection answer's view.</summary>
public class OpaqueTokenParsingTests
{
    private const int Max = 16 * 1024;
    private const string NotB64Token = "The bearer token has characters a bearer token cannot have.";
    private const string NotThreeParts = "The bearer token is not a JWT (it must have exactly three dot-separated parts).";
    private const string NotJson = "The bearer token is not a JWT (its parts are not base64url JSON).";

    public static TheoryData<string, string> OpaqueAccepted => new()
    {
        { "Rfc6749Example", "2YotnFZFEjr1zCsicMWpAA" },
        { "EveryB64TokenCharacter", "AZaz09-._~+/" },
        { "OneDot", "abc.def" },
        { "ThreeDots", "a.b.c.d" },
        { "FourDots_JweShaped", "aa.bb.cc.dd.ee" },
        { "TrailingEquals", "abc=" },
        { "SeveralTrailingEquals", "abc===" },
        { "SingleCharacter", "x" },
        { "LeadingDot", ".abc" },
    };

    [Theory]
    [MemberData(nameof(OpaqueAccepted))]
    public void TryParse_AllowOpaque_NonJwsB64Token_IsOpaque(string name, string raw)
    {
        var token = ParsedToken.TryParse(raw, Max, allowOpaque: true, out var error);

        error.Should().BeNull(name);
        token.Should().NotBeNull(name);
        token!.Raw.Should().Be(raw);
        token.IsOpaque.Should().BeTrue();
        token.IsIntrospected.Should().BeFalse();
        token.Jwt.Should().BeNull();
        token.KeyId.Should().BeNull();
        token.Subject.Should().BeNull();
        token.Issuer.Should().BeNull();
        token.ExpiresAt.Should().BeNull();
        token.NotBefore.Should().BeNull();
        token.IssuedAt.Should().BeNull();
        token.ConfirmationThumbprint.Should().BeNull();
        token.Audiences.Should().BeEmpty();
        token.Scopes.Should().BeEmpty();
        token.Claims.Should().BeEmpty();
        token.ToString().Should().Be("ParsedToken { Opaque, Introspected = False, ExpiresAt =  }");
    }

    public static TheoryData<string, string, string> OpaqueRefused => new()
    {
        { "Space", "abc def", NotB64Token },
        { "At", "abc@def", NotB64Token },
        { "Comma", "abc,def", NotB64Token },
        { "Quote", "abc\"def", NotB64Token },
        { "Backslash", "abc\\def", NotB64Token },
        { "Colon", "abc:def", NotB64Token },
        { "NonAscii", "abcé", NotB64Token },
        { "NonAsciiDigit", "abc١", NotB64Token },
        { "ControlCharacter", "abc\u0001", NotB64Token },
        { "EqualsInTheMiddle", "ab=c", NotB64Token },
        { "LeadingEquals", "=abc", NotB64Token },
        { "OnlyEquals", "==", NotB64Token },
        { "EqualsThenDotAtTheEnd", "abc=.", NotB64Token },
        { "Empty", "", "The bearer token is empty." },
        { "JwsShapedGarbage", "abc.def.ghi", NotJson },
        { "JwsShapedEmptyParts", "..", NotJson },
        { "JwsShapedWithB64TokenOnlyCharacters", "a+b.c/d.e~f", NotJson },
        { "JwsShapedAlgNone", Tokens.B64("{\"alg\":\"none\"}") + "." + Tokens.B64("{\"sub\":\"a\"}") + ".c2ln", "The bearer token's signing algorithm is not accepted." },
    };

    [Theory]
    [MemberData(nameof(OpaqueRefused))]
    public void TryParse_AllowOpaque_RefusesWhatIsNeitherAJwtNorAB64Token(string name, string raw, string expected)
    {
        var token = ParsedToken.TryParse(raw, Max, allowOpaque: true, out var error);

        token.Should().BeNull(name);
        error.Should().Be(expected, name);
    }

    [Fact]
    public void TryParse_AllowOpaque_LengthIsBoundedAsForAJwt()
    {
        ParsedToken.TryParse(new string('a', 256), 256, allowOpaque: true, out var error)!.IsOpaque.Should().BeTrue();
        error.Should().BeNull();

        ParsedToken.TryParse(new string('a', 257), 256, allowOpaque: true, out error).Should().BeNull();
        error.Should().Be("The bearer token is longer than 256 bytes.");
        ParsedToken.TryParse(new string('@', 257), 256, allowOpaque: true, out error).Should().BeNull();
        error.Should().Be("The bearer token is longer than 256 bytes.");
    }

    [Theory]
    [InlineData("2YotnFZFEjr1zCsicMWpAA")]
    [InlineData("abc.def")]
    [InlineData("abc=")]
    public void TryParse_WithoutAllowOpaque_RefusesAnOpaqueToken(string raw)
    {
        ParsedToken.TryParse(raw, Max, allowOpaque: false, out var error).Should().BeNull();
        error.Should().Be(NotThreeParts);
        ParsedToken.TryParse(raw, Max, out error).Should().BeNull();
        error.Should().Be(NotThreeParts);
    }

    [Fact]
    public void TryParse_AllowOpaque_AJwtIsStillParsedAsAJwt()
    {
        var raw = Tokens.Create();
        var token = ParsedToken.TryParse(raw, Max, allowOpaque: true, out var error);

        error.Should().BeNull();
        token!.IsOpaque.Should().BeFalse();
        token.IsIntrospected.Should().BeFalse();
        token.Jwt.Should().NotBeNull();
        token.Subject.Should().Be("alice");
        token.Scopes.Should().Equal("read", "write");
    }

    private static ParsedToken? Read(string json, out string? error, string raw = "opaque-token")
    {
        using var document = JsonDocument.Parse(json);
        return ParsedToken.FromIntrospection(raw, document.RootElement, out error);
    }

    private static ParsedToken ReadOk(string json)
    {
        var token = Read(json, out var error);
        error.Should().BeNull();
        return token!;
    }

    public static TheoryData<string, string, string[]> Audiences => new()
    {
        { "String", "\"mcp\"", ["mcp"] },
        { "Array", "[\"a\",\"b\"]", ["a", "b"] },
        { "EmptyArray", "[]", [] },
        { "EmptyString", "\"\"", [] },
        { "Null", "null", [] },
        { "ArrayWithEmptyString", "[\"\",\"a\"]", ["a"] },
    };

    [Theory]
    [MemberData(nameof(Audiences))]
    public void FromIntrospection_Audience(string name, string aud, string[] expected)
    {
        ReadOk($$"""{"active":true,"aud":{{aud}}}""").Audiences.Should().Equal(expected, name);
    }

    [Fact]
    public void FromIntrospection_NoAudience_IsEmpty()
    {
        ReadOk("""{"active":true}""").Audiences.Should().BeEmpty();
    }

    public static TheoryData<string, string, string> Malformed => new()
    {
        { "AudNumber", """{"active":true,"aud":5}""", "The introspection answer's 'aud' is neither a string nor an array." },
        { "AudObject", """{"active":true,"aud":{"a":1}}""", "The introspection answer's 'aud' is neither a string nor an array." },
        { "AudTrue", """{"active":true,"aud":true}""", "The introspection answer's 'aud' is neither a string nor an array." },
        { "AudArrayWithNumber", """{"active":true,"aud":["a",1]}""", "The introspection answer's 'aud' has an element that is not a string." },
        { "AudArrayWithNull", """{"active":true,"aud":["a",null]}""", "The introspection answer's 'aud' has an element that is not a string." },
        { "ScopeNumber", """{"active":true,"scope":5}""", "The introspection answer's 'scope' is not a string." },
        { "ScopeObject", """{"active":true,"scope":{}}""", "The introspection answer's 'scope' is not a string." },
        { "ExpString", """{"active":true,"exp":"1700000000"}""", "The introspection answer's 'exp' is not a number." },
        { "NbfString", """{"active":true,"nbf":"1"}""", "The introspection answer's 'nbf' is not a number." },
        { "IatBoolean", """{"active":true,"iat":true}""", "The introspection answer's 'iat' is not a number." },
        { "SubNumber", """{"active":true,"sub":42}""", "The introspection answer's 'sub' is not a string." },
        { "IssArray", """{"active":true,"iss":["https://issuer.test"]}""", "The introspection answer's 'iss' is not a string." },
        { "NotAnObject", """[{"active":true}]""", "The introspection answer is not a JSON object." },
        { "String", "\"active\"", "The introspection answer is not a JSON object." },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void FromIntrospection_MemberOfTheWrongType_IsAnError(string name, string json, string expected)
    {
        Read(json, out var error).Should().BeNull(name);
        error.Should().Be(expected, name);
    }

    [Fact]
    public void FromIntrospection_TooManyClaims_IsAnError()
    {
        var members = string.Join(",", Enumerable.Range(0, 300).Select(i => $"\"c{i}\":\"v\""));
        Read("{\"active\":true," + members + "}", out var error).Should().BeNull();
        error.Should().Be("The introspection answer has too many claims.");

        var manyElements = string.Join(",", Enumerable.Range(0, 300).Select(i => $"\"v{i}\""));
        Read("{\"active\":true,\"groups\":[" + manyElements + "]}", out error).Should().BeNull();
        error.Should().Be("The introspection answer has too many claims.");

        ReadOk("{\"active\":true," + string.Join(",", Enumerable.Range(0, 256).Select(i => $"\"c{i}\":\"v\"")) + "}").Claims.Should().HaveCount(256);
    }

    public static TheoryData<string, string, string[]> ScopeRows => new()
    {
        { "SpaceSeparated", "\"read write\"", ["read", "write"] },
        { "ExtraSpaces", "\"  read   write \"", ["read", "write"] },
        { "Duplicates", "\"read write read\"", ["read", "write"] },
        { "Array", "[\"read\",\"write\"]", ["read", "write"] },
        { "ArrayWithDuplicates", "[\"read\",\"write\",\"read\"]", ["read", "write"] },
        { "ArrayOfSpaceSeparated", "[\"read write\",\"admin\"]", ["read", "write", "admin"] },
        { "ArrayWithNonStrings", "[null,1,\"read\",{}]", ["read"] },
        { "Empty", "\"\"", [] },
        { "Null", "null", [] },
        { "CaseMatters", "\"Read read\"", ["Read", "read"] },
    };

    [Theory]
    [MemberData(nameof(ScopeRows))]
    public void FromIntrospection_Scope(string name, string scope, string[] expected)
    {
        var token = ReadOk($$"""{"active":true,"iss":"https://issuer.test","scope":{{scope}}}""");
        token.Scopes.Should().Equal(expected, name);
        token.Claims.Where(c => c.Type == "scope").Select(c => c.Value).Should().Equal(expected, name + ": one scope claim per scope");
    }

    public static TheoryData<string, string, long?> Times => new()
    {
        { "Integer", "1700000000", 1700000000 },
        { "Fractional", "1700000000.9", 1700000000 },
        { "Exponent", "1.7e9", 1700000000 },
        { "Zero", "0", 0 },
        { "Negative_ClampedToTheEpoch", "-5", 0 },
        { "Huge_ClampedToYear9999", "1e300", 253402300799 },
        { "Null", "null", null },
    };

    [Theory]
    [MemberData(nameof(Times))]
    public void FromIntrospection_ExpNbfIat(string name, string value, long? seconds)
    {
        var expected = seconds is { } s ? DateTimeOffset.FromUnixTimeSeconds(s) : (DateTimeOffset?)null;
        var token = ReadOk($$"""{"active":true,"exp":{{value}},"nbf":{{value}},"iat":{{value}}}""");
        token.ExpiresAt.Should().Be(expected, name);
        token.NotBefore.Should().Be(expected, name);
        token.IssuedAt.Should().Be(expected, name);
    }

    [Fact]
    public void FromIntrospection_NoTimes_AreNull()
    {
        var token = ReadOk("""{"active":true}""");
        token.ExpiresAt.Should().BeNull();
        token.NotBefore.Should().BeNull();
        token.IssuedAt.Should().BeNull();
    }

    public static TheoryData<string, string, string?> Confirmation => new()
    {
        { "Jkt", """{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}""", "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" },
        { "NoJkt_UnknownBinding", """{"x5t#S256":"abc"}""", "" },
        { "JktNotAString", """{"jkt":5}""", "" },
        { "NotAnObject", "\"abc\"", "" },
        { "Null", "null", null },
    };

    [Theory]
    [MemberData(nameof(Confirmation))]
    public void FromIntrospection_CnfJkt_IsTheConfirmationThumbprint(string name, string cnf, string? expected)
    {
        ReadOk($$"""{"active":true,"cnf":{{cnf}}}""").ConfirmationThumbprint.Should().Be(expected, name);
    }

    [Fact]
    public void FromIntrospection_NoCnf_HasNoThumbprint()
    {
        ReadOk("""{"active":true}""").ConfirmationThumbprint.Should().BeNull();
    }

    [Fact]
    public void FromIntrospection_EveryMemberExceptActive_IsAClaim()
    {
        const string json = """
            {"active":true,"sub":"alice","iss":"https://issuer.test","aud":["a","b"],"scope":"read write","client_id":"c1",
             "exp":1700000000,"ext":{"k":"v"},"flag":false,"n":1.5,"nested":[["x"],"y"],"nil":null,"token_type":"Bearer"}
            """;
        var token = Read(json, out var error, raw: "the-raw-token");

        error.Should().BeNull();
        token!.Raw.Should().Be("the-raw-token");
        token.IsOpaque.Should().BeTrue();
        token.IsIntrospected.Should().BeTrue();
        token.Jwt.Should().BeNull();
        token.Subject.Should().Be("alice");
        token.Issuer.Should().Be("https://issuer.test");
        token.Audiences.Should().Equal("a", "b");
        token.Scopes.Should().Equal("read", "write");
        token.ExpiresAt.Should().Be(DateTimeOffset.FromUnixTimeSeconds(1700000000));
        token.Claims.Select(c => (c.Type, c.Value, c.ValueType)).Should().Equal(
            ("sub", "alice", ClaimValueTypes.String),
            ("iss", "https://issuer.test", ClaimValueTypes.String),
            ("aud", "a", ClaimValueTypes.String),
            ("aud", "b", ClaimValueTypes.String),
            ("client_id", "c1", ClaimValueTypes.String),
            ("exp", "1700000000", ClaimValueTypes.Integer64),
            ("ext", """{"k":"v"}""", "JSON"),
            ("flag", "false", ClaimValueTypes.Boolean),
            ("n", "1.5", ClaimValueTypes.Double),
            ("nested", "y", ClaimValueTypes.String),
            ("token_type", "Bearer", ClaimValueTypes.String),
            ("scope", "read", ClaimValueTypes.String),
            ("scope", "write", ClaimValueTypes.String));
        token.Claims.Should().OnlyContain(c => c.Issuer == "https://issuer.test" && c.OriginalIssuer == "https://issuer.test");
        token.ToString().Should().NotContain("the-raw-token").And.Contain("Introspected = True");
    }

    [Fact]
    public void FromIntrospection_NoIss_ClaimsCarryTheDefaultIssuer()
    {
        var token = ReadOk("""{"active":true,"sub":"alice","iss":""}""");
        token.Issuer.Should().BeNull();
        token.Claims.Should().ContainSingle(c => c.Type == "sub").Which.Issuer.Should().Be(ClaimsIdentity.DefaultIssuer);
    }

    [Fact]
    public void FromIntrospection_EmptySub_IsNoSubject()
    {
        ReadOk("""{"active":true,"sub":""}""").Subject.Should().BeNull();
        ReadOk("""{"active":true,"sub":null}""").Subject.Should().BeNull();
    }

    [Fact]
    public void FromIntrospection_NullRaw_Throws()
    {
        using var document = JsonDocument.Parse("""{"active":true}""");
        var act = () => ParsedToken.FromIntrospection(null!, document.RootElement, out _);
        act.Should().Throw<ArgumentNullException>();
    }
}

/// <summary>The introspection stage through the real pipeline (DI + AddMcpAuth), with a fake introspection port.</summary>
public class IntrospectionPipelineTests
{
    private const string Opaque = "2YotnFZFEjr1zCsicMWpAA";
    private static readonly long Exp = Tokens.Now.AddMinutes(10).ToUnixTimeSeconds();
    private static readonly long Iat = Tokens.Now.AddMinutes(-1).ToUnixTimeSeconds();

    private static string Answer(string scope = "read write", string aud = "\"mcp-server\"", long? exp = null, string extra = "") =>
        $$"""{"active":true,"sub":"alice","iss":"https://issuer.test","client_id":"c1","aud":{{aud}},"scope":"{{scope}}","exp":{{exp ?? Exp}},"iat":{{Iat}}{{extra}}}""";

    private static (TestPipeline Pipeline, FakeIntrospector Introspector) Build(
        Func<ParsedToken, IntrospectionResult>? answer = null, Action<McpAuthOptions>? configure = null, bool introspection = true)
    {
        var introspector = new FakeIntrospector();
        if (answer is not null)
        {
            introspector.Answer = answer;
        }

        var pipeline = TestPipeline.Build(
            o =>
            {
                if (introspection)
                {
                    o.IntrospectionClientId = "mcp-server";
                }

                configure?.Invoke(o);
            },
            services: s => s.Replace(ServiceDescriptor.Singleton<ITokenIntrospector>(introspector)));
        return (pipeline, introspector);
    }

    [Fact]
    public async Task Jwt_WithIntrospectionOn_IsNeverIntrospected()
    {
        var (pipeline, introspector) = Build(FakeIntrospector.ActiveWith(Answer()));

        var outcome = await pipeline.Send(Tokens.Create());

        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        introspector.Calls.Should().Be(0);
        pipeline.Oidc.Calls.Should().Be(1);
    }

    [Fact]
    public async Task Opaque_WithIntrospectionOff_IsRefusedAtParse()
    {
        var (pipeline, introspector) = Build(FakeIntrospector.ActiveWith(Answer()), introspection: false);

        var outcome = await pipeline.Send(Opaque);

        outcome.Error.Should().Be(new AuthenticationError(
            AuthenticationErrorCode.InvalidToken, "The bearer token is not a JWT (it must have exactly three dot-separated parts).", "ParseBearerToken"));
        introspector.Calls.Should().Be(0);
        pipeline.Oidc.Calls.Should().Be(0);
    }

    [Fact]
    public async Task Opaque_ClientIdWithoutIssuer_IsRefusedAtStart()
    {
        var (pipeline, introspector) = Build(FakeIntrospector.ActiveWith(Answer()), o => { o.AuthorizationUrl = null; o.ValidateToken = true; });
        var act = () => pipeline.Send(Opaque);
        (await act.Should().ThrowAsync<OptionsValidationException>()).Which.Failures.Should().Contain(
            "McpAuth:IntrospectionClientId needs an issuer to introspect at: set McpAuth:AuthorizationUrl, or remove it.");
        introspector.Calls.Should().Be(0);
    }

    [Fact]
    public async Task Opaque_Active_SucceedsWithTheAnswersClaims()
    {
        var (pipeline, introspector) = Build(FakeIntrospector.ActiveWith(Answer(extra: ",\"tenant\":\"contoso\"")));

        var outcome = await pipeline.Send(Opaque);

        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        introspector.Calls.Should().Be(1);
        introspector.OnlyUnresolvedOpaqueTokens.Should().BeTrue();
        pipeline.Oidc.Calls.Should().Be(0, "the introspection answer is the issuer's word: no signature to check");
        var p = outcome.Principal!;
        p.Subject.Should().Be("alice");
        p.Issuer.Should().Be("https://issuer.test");
        p.Audiences.Should().Equal("mcp-server");
        p.Scopes.Should().Equal("read", "write");
        p.Claims.Should().ContainSingle(c => c.Type == "client_id" && c.Value == "c1");
        p.Claims.Should().ContainSingle(c => c.Type == "tenant" && c.Value == "contoso");
        p.Claims.Should().NotContain(c => c.Type == "active");
        p.Claims.Where(c => c.Type == "scope").Select(c => c.Value).Should().Equal("read", "write");
        p.EffectiveToken.Should().Be(Opaque);
        p.Exchanged.Should().BeFalse();
    }

    [Fact]
    public async Task Opaque_ActiveWithEveryStageOn_IsExchangedAndReviewed()
    {
        var (pipeline, introspector) = Build(FakeIntrospector.ActiveWith(Answer()), TestPipeline.Everything);

        var outcome = await pipeline.Send(Opaque);

        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        introspector.Calls.Should().Be(1);
        pipeline.Journal.Entries.Should().Equal("exchange", "review:");
        pipeline.Exchange.LastSubjectToken.Should().Be(Opaque);
    }

    public static TheoryData<string, string, string> RefusedOffline => new()
    {
        { "Expired", Answer(exp: Tokens.Now.AddMinutes(-2).ToUnixTimeSeconds()), "The token has expired." },
        { "ExpiredJustPastSkew", Answer(exp: Tokens.Now.AddSeconds(-60).ToUnixTimeSeconds()), "The token has expired." },
        { "WrongAudience", Answer(aud: "\"other-api\""), "The token's audience does not match this server." },
        { "NoAudience", Answer(aud: "[]"), "The token's audience does not match this server." },
        { "AudienceDiffersInCase", Answer(aud: "\"MCP-SERVER\""), "The token's audience does not match this server." },
        { "NotYetValid", Answer(extra: $",\"nbf\":{Tokens.Now.AddMinutes(5).ToUnixTimeSeconds()}"), "The token is not valid yet." },
    };

    [Theory]
    [MemberData(nameof(RefusedOffline))]
    public async Task Opaque_ActiveButInvalid_IsRefusedByTheOfflineStage(string name, string answer, string description)
    {
        var (pipeline, introspector) = Build(FakeIntrospector.ActiveWith(answer));

        var outcome = await pipeline.Send(Opaque);

        outcome.Error.Should().Be(new AuthenticationError(AuthenticationErrorCode.InvalidToken, description, "OfflineValidation"), name);
        introspector.Calls.Should().Be(1);
        pipeline.Oidc.Calls.Should().Be(0);
    }

    [Fact]
    public async Task Opaque_ActiveAudienceInAnArray_IsAccepted()
    {
        var (pipeline, _) = Build(FakeIntrospector.ActiveWith(Answer(aud: "[\"other\",\"mcp-server\"]")));
        (await pipeline.Send(Opaque)).Succeeded.Should().BeTrue();
    }

    [Fact]
    public async Task Opaque_Inactive_IsInvalidTokenAtIntrospection()
    {
        var (pipeline, introspector) = Build(_ => IntrospectionResult.Inactive("The token is not active."));

        var outcome = await pipeline.Send(Opaque);

        outcome.Error.Should().Be(new AuthenticationError(AuthenticationErrorCode.InvalidToken, "The token is not active.", "Introspection"));
        introspector.Calls.Should().Be(1);
        pipeline.Oidc.Calls.Should().Be(0);
    }

    [Fact]
    public async Task Opaque_Unavailable_IsUnavailableAtIntrospection()
    {
        var (pipeline, introspector) = Build(_ => IntrospectionResult.Unavailable("HTTP 500"));

        var outcome = await pipeline.Send(Opaque);

        outcome.Error.Should().Be(new AuthenticationError(
            AuthenticationErrorCode.Unavailable, "The authorization server is unavailable; try again later.", "Introspection"));
        outcome.Error!.Description.Should().NotContain("500", "the log says why, the client does not");
        introspector.Calls.Should().Be(1);
    }

    public static TheoryData<string, Func<ParsedToken, IntrospectionResult>> ActiveWithoutItsAnswer => new()
    {
        { "NoToken", _ => new IntrospectionResult(PortStatus.Accepted) },
        { "AnotherTokensAnswer", t => FakeIntrospector.ActiveWith(Answer())(ParsedToken.TryParse("other-token", 100, true, out _)!) },
        { "TheOpaqueTokenUnresolved", t => IntrospectionResult.Active(t) },
        { "AJwt", _ => IntrospectionResult.Active(Tokens.Parse(Tokens.Create())) },
    };

    [Theory]
    [MemberData(nameof(ActiveWithoutItsAnswer))]
    public async Task Opaque_ActiveWithoutTheAnswerForThisToken_FailsClosed(string name, Func<ParsedToken, IntrospectionResult> answer)
    {
        var (pipeline, introspector) = Build(answer);

        var outcome = await pipeline.Send(Opaque);

        outcome.Error.Should().Be(new AuthenticationError(
            AuthenticationErrorCode.Unavailable, "The authorization server is unavailable; try again later.", "Introspection"), name);
        introspector.Calls.Should().Be(1);
        pipeline.Oidc.Calls.Should().Be(0);
    }

    [Fact]
    public async Task Opaque_IntrospectorThrows_IsUnavailable()
    {
        var (pipeline, _) = Build(_ => throw new InvalidOperationException("boom"));
        var outcome = await pipeline.Send(Opaque);
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
    }

    [Fact]
    public async Task Opaque_IsNeverKeptInTheValidatedTokenCache()
    {
        var (pipeline, introspector) = Build(FakeIntrospector.ActiveWith(Answer()));

        (await pipeline.Send(Opaque)).Succeeded.Should().BeTrue();
        (await pipeline.Send(Opaque)).Succeeded.Should().BeTrue();

        introspector.Calls.Should().Be(2, "the introspection adapter's own cache decides how long an answer is reused");
        pipeline.Cache.Count.Should().Be(0);
        pipeline.Cache.TryGet(Opaque, out _).Should().BeFalse();

        // A JWT through the same pipeline is kept, as before.
        (await pipeline.Send(Tokens.Create())).Succeeded.Should().BeTrue();
        pipeline.Cache.Count.Should().Be(1);
    }

    [Fact]
    public async Task Opaque_AfterRevocation_TheNextRequestIsRefused()
    {
        var (pipeline, introspector) = Build(FakeIntrospector.ActiveWith(Answer()));
        (await pipeline.Send(Opaque)).Succeeded.Should().BeTrue();

        introspector.Answer = _ => IntrospectionResult.Inactive("The token is not active.");

        (await pipeline.Send(Opaque)).Error!.Stage.Should().Be("Introspection");
        introspector.Calls.Should().Be(2);
    }

    [Fact]
    public async Task RequiredScopes_AreCheckedOnTheIntrospectedScopes()
    {
        var (pipeline, _) = Build(FakeIntrospector.ActiveWith(Answer(scope: "read")), o => o.RequiredScopes = ["read", "write"]);

        var outcome = await pipeline.Send(Opaque);

        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InsufficientScope);
        outcome.Error.Stage.Should().Be("RequiredScopes");
        outcome.Error.RequiredScopes.Should().Equal("read", "write");

        var (enough, _) = Build(FakeIntrospector.ActiveWith(Answer(scope: "write read")), o => o.RequiredScopes = ["read", "write"]);
        (await enough.Send(Opaque)).Succeeded.Should().BeTrue();
    }

    [Fact]
    public async Task ToolScopes_AreCheckedOnTheIntrospectedScopes()
    {
        static void Tools(McpAuthOptions o) => o.ToolScopes["admin-action"] = ["mcp:admin"];
        var call = new McpCall(McpCall.ToolsCall, "admin-action", "");

        var (pipeline, _) = Build(FakeIntrospector.ActiveWith(Answer(scope: "read")), Tools);
        var outcome = await pipeline.Send(new AuthenticateRequest("Bearer " + Opaque, [call]));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InsufficientScope);
        outcome.Error.Stage.Should().Be("ToolScopes");
        outcome.Error.RequiredScopes.Should().Equal("mcp:admin");

        var (allowed, _) = Build(FakeIntrospector.ActiveWith(Answer(scope: "read mcp:admin")), Tools);
        (await allowed.Send(new AuthenticateRequest("Bearer " + Opaque, [call]))).Succeeded.Should().BeTrue();
    }

    [Fact]
    public async Task Opaque_BoundWithCnfJkt_SentAsBearer_IsRefusedByTheDpopStage()
    {
        var (pipeline, _) = Build(FakeIntrospector.ActiveWith(Answer(extra: ",\"cnf\":{\"jkt\":\"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I\"}")));

        var outcome = await pipeline.Send(Opaque);

        outcome.Error.Should().Be(new AuthenticationError(
            AuthenticationErrorCode.InvalidToken, "The token is bound to a key (DPoP) and must be sent with the DPoP scheme and a proof.", "Dpop"));
    }

    [Fact]
    public async Task Opaque_NotB64Token_IsRefusedAtParseWithoutIntrospection()
    {
        var (pipeline, introspector) = Build(FakeIntrospector.ActiveWith(Answer()));

        var outcome = await pipeline.Send("abc@def");

        outcome.Error.Should().Be(new AuthenticationError(
            AuthenticationErrorCode.InvalidToken, "The bearer token has characters a bearer token cannot have.", "ParseBearerToken"));
        introspector.Calls.Should().Be(0);
    }

    [Fact]
    public async Task JwsShapedGarbage_IsRefusedAtParseWithoutIntrospection()
    {
        var (pipeline, introspector) = Build(FakeIntrospector.ActiveWith(Answer()));

        var outcome = await pipeline.Send("abc.def.ghi");

        outcome.Error!.Stage.Should().Be("ParseBearerToken");
        introspector.Calls.Should().Be(0);
    }

    [Fact]
    public async Task Behavior_TokenAlreadyIntrospected_PassesUntouched()
    {
        var introspector = new FakeIntrospector();
        var behavior = new IntrospectionBehavior(Opt.Of(o => o.IntrospectionClientId = "c"), introspector, Opt.Log<IntrospectionBehavior>());
        var request = new AuthenticateRequest("Bearer " + Opaque, []);
        request.State.Token = FakeIntrospector.ActiveWith(Answer())(ParsedToken.TryParse(Opaque, 100, true, out _)!).Token;
        var next = new Next();

        (await behavior.Handle(request, CancellationToken.None, next.Delegate)).Should().BeSameAs(Next.Passed);

        next.Calls.Should().Be(1);
        introspector.Calls.Should().Be(0);
        request.State.VerifiedByIssuer.Should().BeFalse();
    }

    [Fact]
    public async Task Behavior_Disabled_PassesAnOpaqueTokenToTheNextStage()
    {
        // The issuer stage then refuses it (OidcTokenValidator: "not a JWT and was not introspected").
        var introspector = new FakeIntrospector();
        var behavior = new IntrospectionBehavior(Opt.Of(), introspector, Opt.Log<IntrospectionBehavior>());
        var request = new AuthenticateRequest("Bearer " + Opaque, []);
        request.State.Token = ParsedToken.TryParse(Opaque, 100, true, out _);
        var next = new Next();

        await behavior.Handle(request, CancellationToken.None, next.Delegate);

        next.Calls.Should().Be(1);
        introspector.Calls.Should().Be(0);
    }

    [Fact]
    public async Task Behavior_Active_MarksTheStateVerifiedAndReplacesTheToken()
    {
        var introspector = new FakeIntrospector { Answer = FakeIntrospector.ActiveWith(Answer()) };
        var behavior = new IntrospectionBehavior(Opt.Of(o => o.IntrospectionClientId = "c"), introspector, Opt.Log<IntrospectionBehavior>());
        var request = new AuthenticateRequest("Bearer " + Opaque, []);
        var opaque = ParsedToken.TryParse(Opaque, 100, true, out _)!;
        request.State.Token = opaque;
        var next = new Next();

        await behavior.Handle(request, CancellationToken.None, next.Delegate);

        next.Calls.Should().Be(1);
        request.State.VerifiedByIssuer.Should().BeTrue();
        request.State.Token.Should().NotBeSameAs(opaque);
        request.State.Token!.IsIntrospected.Should().BeTrue();
        request.State.Token.Raw.Should().Be(Opaque);
        request.State.EffectiveToken.Should().Be(Opaque);
        request.State.EffectiveTokenExpiresAt.Should().Be(DateTimeOffset.FromUnixTimeSeconds(Exp));
        request.State.Scopes.Should().Equal("read", "write");
    }
}

/// <summary>The settings and the start-up check of introspection in Core.</summary>
public class IntrospectionOptionsTests
{
    [Fact]
    public void ClientIdWithoutIssuer_IsRefused()
    {
        var options = new McpAuthOptions { ValidateToken = true, IntrospectionClientId = "mcp-server" };
        McpAuthOptionsValidator.Check(options).Should().Equal(
            "McpAuth:IntrospectionClientId needs an issuer to introspect at: set McpAuth:AuthorizationUrl, or remove it.");
        options.HasIntrospection.Should().BeFalse();
    }

    [Fact]
    public void ClientIdWithIssuer_IsAccepted()
    {
        var options = new McpAuthOptions { AuthorizationUrl = "https://i.test", Audience = "mcp", IntrospectionClientId = "mcp-server" };
        McpAuthOptionsValidator.Check(options).Should().BeEmpty();
        options.HasIntrospection.Should().BeTrue();
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("  ", false)]
    [InlineData("mcp-server", true)]
    public void HasIntrospection_NeedsAClientId(string? clientId, bool expected)
    {
        new McpAuthOptions { AuthorizationUrl = "https://i.test", IntrospectionClientId = clientId }.HasIntrospection.Should().Be(expected);
    }

    private static IHostedService StartupCheck(ITokenIntrospector? introspector)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddMcpAuth(o =>
        {
            o.AuthorizationUrl = "https://issuer.test";
            o.Audience = "mcp-server";
            o.IntrospectionClientId = "mcp-server";
        });
        services.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(new FakeOidcValidator()));
        if (introspector is not null)
        {
            services.Replace(ServiceDescriptor.Singleton(introspector));
        }

        return services.BuildServiceProvider().GetServices<IHostedService>().Single();
    }

    [Fact]
    public async Task Startup_IntrospectionWithoutAdapter_IsRefused()
    {
        var act = () => StartupCheck(null).StartAsync(CancellationToken.None);
        var thrown = await act.Should().ThrowAsync<OptionsValidationException>();
        thrown.Which.Failures.Should().Equal(
            "McpAuth:IntrospectionClientId is set but no introspection adapter is registered: call AddTokenIntrospection() (package McpAuth.OpenIdConnect).");
    }

    [Fact]
    public async Task Startup_IntrospectionWithAdapter_Starts()
    {
        await StartupCheck(new FakeIntrospector()).Invoking(c => c.StartAsync(CancellationToken.None)).Should().NotThrowAsync();
    }

    [Fact]
    public async Task NotConfiguredIntrospector_IsUnavailable()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddMcpAuth(o => o.ValidateToken = true);
        var port = services.BuildServiceProvider().GetRequiredService<ITokenIntrospector>();
        var result = await port.IntrospectAsync(ParsedToken.TryParse("abc", 100, true, out _)!, CancellationToken.None);
        result.Should().Be(IntrospectionResult.Unavailable("No token introspector is registered (call AddTokenIntrospection())."));
    }

    [Fact]
    public void IntrospectionResult_Factories()
    {
        IntrospectionResult.Inactive("r").Should().Be(new IntrospectionResult(PortStatus.Rejected, null, "r"));
        IntrospectionResult.Unavailable("u").Should().Be(new IntrospectionResult(PortStatus.Unavailable, null, "u"));
        var token = ParsedToken.TryParse("abc", 100, true, out _)!;
        IntrospectionResult.Active(token).Should().Be(new IntrospectionResult(PortStatus.Accepted, token));
        var act = () => IntrospectionResult.Active(null!);
        act.Should().Throw<ArgumentNullException>();
    }
}
