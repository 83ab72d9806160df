using McpAuth.Behaviors;
using McpAuth.Tokens;

namespace McpAuth.Core.Tests;

public class ParseBearerTokenBehaviorTests
{
    private static readonly string Valid = Tokens.Create();

    private static async Task<(AuthenticationOutcome Outcome, Next Next, AuthenticateRequest Request)> Run(string? header, int maxTokenBytes = 16 * 1024)
    {
        var behavior = new ParseBearerTokenBehavior(Opt.Of(o => o.MaxTokenBytes = maxTokenBytes));
        var request = new AuthenticateRequest(header);
        var next = new Next();
        var outcome = await behavior.Handle(request, CancellationToken.None, next.Delegate);
        return (outcome, next, request);
    }

    public static TheoryData<string, string?> NoCredentialRows => new()
    {
        { "NoHeader", null },
        { "EmptyHeader", "" },
        { "BasicScheme", "Basic YWxpY2U6c2VjcmV0" },
        { "SchemePrefixOnly", "Bearerx " + Tokens.Create() },
        { "Negotiate", "Negotiate abc" },
    };

    [Theory]
    [MemberData(nameof(NoCredentialRows))]
    public async Task Handle_NoBearerToken_ReturnsNoCredentialsWithoutCallingNext(string name, string? header)
    {
        var (outcome, next, _) = await Run(header);
        outcome.Kind.Should().Be(AuthenticationOutcomeKind.NoCredentials, name);
        next.Calls.Should().Be(0);
    }

    [Theory]
    [InlineData("Bearer")]
    [InlineData("bearer")]
    [InlineData("BEARER")]
    [InlineData("BeArEr")]
    public async Task Handle_SchemeIsCaseInsensitive(string scheme)
    {
        var (outcome, next, request) = await Run($"{scheme} {Valid}");
        outcome.Should().BeSameAs(Next.Passed);
        next.Calls.Should().Be(1);
        request.State.RawToken.Should().Be(Valid);
        request.State.EffectiveToken.Should().Be(Valid);
        request.State.Token!.Subject.Should().Be("alice");
        request.State.Audiences.Should().Equal("mcp-server");
        request.State.Token.ExpiresAt.Should().Be(Tokens.Now.AddMinutes(10));
        request.State.VerifiedByIssuer.Should().BeFalse();
        request.State.Exchanged.Should().BeFalse();
    }

    public static TheoryData<string, string> InvalidRows
    {
        get
        {
            var parts = Tokens.Create().Split('.');
            return new TheoryData<string, string>
            {
                { "FourParts", Tokens.Create() + ".extra" },
                { "TwoParts", parts[0] + "." + parts[1] },
                { "GarbageDotInvalid", Tokens.Create().Replace(".", ".invalid") },
                { "BadBase64", parts[0] + ".!!!notbase64!!!." + parts[2] },
                { "BadJsonPayload", parts[0] + "." + Tokens.B64("{not json") + "." + parts[2] },
                { "PayloadIsArray", parts[0] + "." + Tokens.B64("[1,2]") + "." + parts[2] },
                { "EmptySignature", parts[0] + "." + parts[1] + "." },
                { "AlgNone", Tokens.Create(alg: "none") },
                { "AlgUnknown", Tokens.Create(alg: "HS1") },
                { "AlgLowercase", Tokens.Create(alg: "rs256") },
                { "ExpNotANumber", Tokens.Create(Tokens.Valid(("exp", "tomorrow"))) },
                { "Empty", "" },
            };
        }
    }

    [Theory]
    [MemberData(nameof(InvalidRows))]
    public async Task Handle_MalformedToken_ReturnsInvalidTokenAndStops(string name, string token)
    {
        var (outcome, next, request) = await Run("Bearer " + token);
        outcome.Kind.Should().Be(AuthenticationOutcomeKind.Failure, name);
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        outcome.Error.Stage.Should().Be("ParseBearerToken");
        outcome.Error.Description.Should().NotContain(token.Length > 10 ? token[..10] : "\u0000");
        next.Calls.Should().Be(0);
        request.State.Token.Should().BeNull();
    }

    [Theory]
    [InlineData("EdDSA")]
    [InlineData("HS256")]
    [InlineData("HS384")]
    [InlineData("HS512")]
    [InlineData("RS384")]
    [InlineData("ES256")]
    [InlineData("ES512")]
    [InlineData("PS256")]
    [InlineData("PS512")]
    public async Task Handle_SupportedAlgorithm_Parses(string alg)
    {
        var (outcome, next, _) = await Run("Bearer " + Tokens.Create(alg: alg));
        outcome.Should().BeSameAs(Next.Passed);
        next.Calls.Should().Be(1);
    }

    [Fact]
    public async Task Handle_TokenOverSizeLimit_IsRefusedBeforeParsing()
    {
        var big = Tokens.Create(Tokens.Valid(("pad", new string('a', 2000))));
        var (outcome, next, request) = await Run("Bearer " + big, maxTokenBytes: 1024);
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        outcome.Error.Description.Should().Be("The bearer token is longer than 1024 bytes.");
        next.Calls.Should().Be(0);
        request.State.Token.Should().BeNull();
    }

    [Fact]
    public async Task Handle_DefaultSizeLimitIs16KiB()
    {
        new McpAuthOptions().MaxTokenBytes.Should().Be(16384);
        var big = Tokens.Create(Tokens.Valid(("pad", new string('a', 17000))));
        var (outcome, _, _) = await Run("Bearer " + big);
        outcome.Error!.Description.Should().Contain("16384");
    }

    [Theory]
    [InlineData("OddWhitespace", "  read   write   admin  ", new[] { "read", "write", "admin" })]
    [InlineData("TabsAndNewlines", "read\twrite\nadmin", new[] { "read", "write", "admin" })]
    [InlineData("Duplicates", "read read write", new[] { "read", "write" })]
    [InlineData("Empty", "", new string[0])]
    public async Task Handle_ScopeClaim_IsSplitOnAnyWhitespace(string name, string scope, string[] expected)
    {
        var (_, _, request) = await Run("Bearer " + Tokens.Create(Tokens.Valid(("scope", scope))));
        request.State.Scopes.Should().Equal(expected, name);
    }

    [Fact]
    public async Task Handle_ScpArray_IsMergedWithScope()
    {
        var (_, _, request) = await Run("Bearer " + Tokens.Create(Tokens.Valid(("scope", "read"), ("scp", new[] { "write", "read", "admin" }))));
        request.State.Scopes.Should().Equal("read", "write", "admin");
    }

    [Fact]
    public async Task Handle_MultipleAudiences_AreAllRecorded()
    {
        var (_, _, request) = await Run("Bearer " + Tokens.Create(Tokens.Valid(("aud", new[] { "a", "b" }))));
        request.State.Audiences.Should().Equal("a", "b");
    }

    [Fact]
    public async Task Handle_ExtraSpacesAroundToken_AreIgnored()
    {
        var (outcome, _, request) = await Run("  Bearer    " + Valid + "  ");
        outcome.Should().BeSameAs(Next.Passed);
        request.State.RawToken.Should().Be(Valid);
    }

    [Fact]
    public async Task Handle_EmptyBearer_IsInvalidTokenNotNoCredentials()
    {
        var (outcome, next, _) = await Run("Bearer ");
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        outcome.Error.Description.Should().Be("The bearer token is empty.");
        next.Calls.Should().Be(0);
    }

    public static TheoryData<string, string, string> ErrorMessageRows
    {
        get
        {
            var parts = Tokens.Create().Split('.');
            return new TheoryData<string, string, string>
            {
                { "TwoParts", parts[0] + "." + parts[1], "The bearer token is not a JWT (it must have exactly three dot-separated parts)." },
                { "BadBase64", parts[0] + ".!!!." + parts[2], "The bearer token is not a JWT (its parts are not base64url JSON)." },
                { "PayloadIsArray", parts[0] + "." + Tokens.B64("[1,2]") + "." + parts[2], "The bearer token is not a JWT (its parts are not base64url JSON)." },
                { "AlgNone", Tokens.Create(alg: "none"), "The bearer token's signing algorithm is not accepted." },
                { "ExpNotANumber", Tokens.Create(Tokens.Valid(("exp", "tomorrow"))), "The bearer token is not a JWT (its header or payload is not valid base64url JSON)." },
            };
        }
    }

    [Theory]
    [MemberData(nameof(ErrorMessageRows))]
    public async Task Handle_MalformedToken_SaysWhyWithoutTheToken(string name, string token, string description)
    {
        var (outcome, _, _) = await Run("Bearer " + token);
        outcome.Error!.Description.Should().Be(description, name);
    }

    [Fact]
    public async Task Handle_TokenAlreadyInState_IsNotParsedAgain()
    {
        // The validated-token cache stage fills the state on a hit: this stage must leave that token alone.
        var cached = Tokens.Parse(Tokens.Create());
        var request = new AuthenticateRequest("Bearer not-even-a-jwt");
        request.State.Token = cached;
        request.State.VerifiedByIssuer = true;
        var next = new Next();
        var outcome = await new ParseBearerTokenBehavior(Opt.Of()).Handle(request, CancellationToken.None, next.Delegate);
        outcome.Should().BeSameAs(Next.Passed);
        next.Calls.Should().Be(1);
        request.State.Token.Should().BeSameAs(cached);
        request.State.VerifiedByIssuer.Should().BeTrue();
    }

    [Fact]
    public async Task Handle_ParsedToken_IsNotMarkedVerified()
    {
        var (_, _, request) = await Run("Bearer " + Valid);
        request.State.VerifiedByIssuer.Should().BeFalse();
        request.State.Token!.Raw.Should().Be(Valid);
        request.State.Token.KeyId.Should().Be("k1");
    }
}

public class BearerTokenTests
{
    public static TheoryData<string, string?, bool, string> Rows => new()
    {
        { "Null", null, false, "" },
        { "Empty", "", false, "" },
        { "Basic", "Basic abc", false, "" },
        { "NoSpaceAfterScheme", "Bearerabc", false, "" },
        { "TabAfterScheme", "Bearer\tabc", false, "" },
        { "Lowercase", "bearer abc", true, "abc" },
        { "BareScheme", "Bearer", true, "" },
        { "SpacesAround", "  Bearer   abc  ", true, "abc" },
        { "TokenWithInnerSpace", "Bearer a b", true, "a b" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void TryGet_ReadsOnlyTheBearerScheme(string name, string? header, bool found, string token)
    {
        BearerToken.TryGet(header, out var value).Should().Be(found, name);
        value.ToString().Should().Be(token, name);
    }
}
