using McpAuth.Ports;

namespace McpAuth.Core.Tests;

/// <summary>
/// The request's JSON-RPC calls through the real pipeline: read lazily, once, only after the token passed every stage that
/// comes before the first stage that needs them, and never guessed when the host did not supply them.
/// </summary>
public class CallsTests
{
    private const string NotSuppliedDescription = "The server cannot see this request's MCP calls, which its authorization needs; try again later.";

    private static void Review(McpAuthOptions o) => o.ValidateToken = true;

    private static void StepUp(McpAuthOptions o) => o.ToolScopes = new Dictionary<string, string[]> { ["admin-action"] = ["mcp:admin"] };

    private static void Both(McpAuthOptions o)
    {
        Review(o);
        StepUp(o);
    }

    private static string Header(string scope = "read write") => "Bearer " + Tokens.Create(Tokens.Valid(("scope", scope)));

    [Theory]
    [InlineData("TokenReviewOn", "Review", "TokenReview")]
    [InlineData("ToolScopesOn", "StepUp", "ToolScopes")]
    [InlineData("BothOn_ReviewRefusesFirst", "Both", "TokenReview")]
    public async Task NotSupplied_IsRefusedAsUnavailable_AndNeverReviewed(string name, string config, string stage)
    {
        var pipeline = TestPipeline.Build(config switch { "Review" => Review, "StepUp" => StepUp, _ => Both });
        var outcome = await pipeline.Send(new AuthenticateRequest(Header()));
        outcome.Kind.Should().Be(AuthenticationOutcomeKind.Failure, name);
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        outcome.Error.Stage.Should().Be(stage);
        outcome.Error.Description.Should().Be(NotSuppliedDescription);
        pipeline.Review.Requests.Should().BeEmpty();
        pipeline.Journal.Entries.Should().Equal("oidc");
    }

    [Fact]
    public async Task NotSupplied_IsFine_WhenNoStageNeedsTheCalls()
    {
        var pipeline = TestPipeline.Build(o => o.RequiredScopes = ["read"]);
        var request = new AuthenticateRequest(Header());
        (await pipeline.Send(request)).Succeeded.Should().BeTrue();
        request.CallsRead.Should().BeFalse();
    }

    [Fact]
    public async Task Source_IsNotRead_WhenNoStageNeedsTheCalls()
    {
        // Exchange and required scopes on, but neither TokenReview nor step-up scopes: nothing needs the body.
        var pipeline = TestPipeline.Build(o => { o.StsClientId = "client"; o.StsAudience = "k8s-api"; o.RequiredScopes = ["read"]; });
        var source = new CountingCallSource(new McpCall("tools/call", "admin-action", "prod"));
        var request = new AuthenticateRequest(Header(), source);
        (await pipeline.Send(request)).Succeeded.Should().BeTrue();
        source.Reads.Should().Be(0);
        request.CallsRead.Should().BeFalse();
    }

    [Fact]
    public async Task Source_IsReadOnce_WhenTwoStagesNeedTheCalls()
    {
        var pipeline = TestPipeline.Build(Both);
        var source = new CountingCallSource(McpCallSet.Of([new McpCall("tools/call", "admin-action", "beta")]), pipeline.Journal);
        var outcome = await pipeline.Send(new AuthenticateRequest(Header("read mcp:admin"), source));
        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        source.Reads.Should().Be(1);
        pipeline.Journal.Entries.Should().Equal("oidc", "calls", "review:beta");
        outcome.Principal!.ClusterUsers.Keys.Should().Equal("beta");
    }

    [Fact]
    public async Task Source_IsReadOnce_AndTheStepUpSeesTheSameCalls()
    {
        var pipeline = TestPipeline.Build(Both);
        var source = new CountingCallSource(new McpCall("tools/call", "admin-action", "beta"));
        var outcome = await pipeline.Send(new AuthenticateRequest(Header("read"), source));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InsufficientScope);
        outcome.Error.Stage.Should().Be("ToolScopes");
        outcome.Error.RequiredScopes.Should().Equal("mcp:admin");
        source.Reads.Should().Be(1);
        pipeline.Review.Requests.Select(r => r.Target).Should().Equal("beta");
    }

    [Fact]
    public async Task GetCallsAsync_ReadsTheSourceOnce()
    {
        var source = new CountingCallSource(new McpCall("tools/list", null, ""));
        var request = new AuthenticateRequest("Bearer x", source);
        request.CallsRead.Should().BeFalse();
        var first = await request.GetCallsAsync(CancellationToken.None);
        var second = await request.GetCallsAsync(CancellationToken.None);
        second.Should().BeSameAs(first);
        source.Reads.Should().Be(1);
        request.CallsRead.Should().BeTrue();
        first.Calls.Should().Equal(new McpCall("tools/list", null, ""));
    }

    [Fact]
    public async Task GetCallsAsync_NoSource_IsNotSupplied_NotNone()
    {
        var request = new AuthenticateRequest("Bearer x");
        var calls = await request.GetCallsAsync(CancellationToken.None);
        calls.Should().BeSameAs(McpCallSet.NotSupplied);
        calls.Status.Should().Be(McpCallSetStatus.NotSupplied);
        calls.Should().NotBeSameAs(McpCallSet.None);
    }

    [Fact]
    public async Task GetCallsAsync_GivenCalls_AreReadAlready()
    {
        var request = new AuthenticateRequest("Bearer x", []);
        request.CallsRead.Should().BeTrue();
        (await request.GetCallsAsync(CancellationToken.None)).Should().BeSameAs(McpCallSet.None);
    }

    /// <summary>Rows: a token or a peer refuses before the first stage that needs the calls. The body must stay unread.</summary>
    public static TheoryData<string, Action<McpAuthOptions>, Action<TestPipeline>, string?, string?> EarlyRefusals => new()
    {
        { "NoHeader", Both, _ => { }, null, null },
        { "OtherScheme", Both, _ => { }, "Basic YWxpY2U6c2VjcmV0", null },
        { "Malformed", Both, _ => { }, "Bearer not.a.jwt", "ParseBearerToken" },
        { "Expired", Both, _ => { }, "Bearer " + Tokens.Create(Tokens.Valid(("exp", Tokens.Now.AddHours(-1).ToUnixTimeSeconds()))), "OfflineValidation" },
        { "WrongAudience", Both, _ => { }, "Bearer " + Tokens.Create(Tokens.Valid(("aud", "another-api"))), "OfflineValidation" },
        { "InvalidSignature", Both, p => p.Oidc.Result = OidcValidationResult.Invalid("The token's signature is invalid."), "Bearer " + Tokens.Create(), "OidcProviderValidation" },
        { "IssuerDown", Both, p => p.Oidc.Result = OidcValidationResult.Unavailable("down"), "Bearer " + Tokens.Create(), "OidcProviderValidation" },
        {
            "ExchangeRefused", o => { TestPipeline.Everything(o); StepUp(o); }, p => p.Exchange.Result = TokenExchangeResult.Refused("invalid_grant"),
            "Bearer " + Tokens.Create(), "TokenExchange"
        },
        { "MissingRequiredScope_BeforeStepUp", o => { StepUp(o); o.RequiredScopes = ["admin"]; }, _ => { }, "Bearer " + Tokens.Create(), "RequiredScopes" },
    };

    [Theory]
    [MemberData(nameof(EarlyRefusals))]
    public async Task Source_IsNotRead_WhenAnEarlierStageRefuses(string name, Action<McpAuthOptions> configure, Action<TestPipeline> peers, string? header, string? stage)
    {
        var pipeline = TestPipeline.Build(configure);
        peers(pipeline);
        var source = new CountingCallSource(new McpCall("tools/call", "admin-action", "prod"));
        var request = new AuthenticateRequest(header, source);
        var outcome = await pipeline.Send(request);
        outcome.Succeeded.Should().BeFalse(name);
        outcome.Error?.Stage.Should().Be(stage, name);
        source.Reads.Should().Be(0, name);
        request.CallsRead.Should().BeFalse(name);
        pipeline.Review.Requests.Should().BeEmpty(name);
    }

    [Fact]
    public async Task Source_IsNotRead_ForARepeatedTokenThatHasSinceExpired()
    {
        var pipeline = TestPipeline.Build(Both);
        var header = "Bearer " + Tokens.Create(Tokens.Valid(("scope", "read mcp:admin"), ("exp", Tokens.Now.AddMinutes(2).ToUnixTimeSeconds())));
        (await pipeline.Send(new AuthenticateRequest(header, new CountingCallSource(new McpCall("tools/call", "admin-action", ""))))).Succeeded.Should().BeTrue();
        pipeline.Cache.Count.Should().Be(1);

        pipeline.Clock.Advance(TimeSpan.FromSeconds(90)); // 30 s before exp: a cache hit, and the body is needed again
        var stillValid = new CountingCallSource(new McpCall("tools/call", "admin-action", ""));
        (await pipeline.Send(new AuthenticateRequest(header, stillValid))).Succeeded.Should().BeTrue();
        stillValid.Reads.Should().Be(1);

        var cache = pipeline.Cache;
        pipeline.Clock.Advance(TimeSpan.FromMinutes(2)); // past exp + 60 s skew: the entry is gone and the offline check refuses
        var late = new CountingCallSource(new McpCall("tools/call", "admin-action", ""));
        var outcome = await pipeline.Send(new AuthenticateRequest(header, late));
        outcome.Error!.Stage.Should().Be("OfflineValidation");
        late.Reads.Should().Be(0);
        cache.Count.Should().Be(0);
        pipeline.Oidc.Calls.Should().Be(1);
    }

    [Fact]
    public async Task ForTarget_RoutesTheReviewToThatTarget()
    {
        var pipeline = TestPipeline.Build(Review);
        var outcome = await pipeline.Send(AuthenticateRequest.ForTarget(Header(), "prod"));
        outcome.Succeeded.Should().BeTrue();
        pipeline.Review.Requests.Should().ContainSingle().Which.Target.Should().Be("prod");
        outcome.Principal!.ClusterUser!.Username.Should().Be("alice@prod");
        outcome.Principal.ClusterUsers.Keys.Should().Equal("prod");
    }

    [Fact]
    public async Task ForTarget_UnknownTarget_IsInvalidRequest()
    {
        var pipeline = TestPipeline.Build(Review);
        var outcome = await pipeline.Send(AuthenticateRequest.ForTarget(Header(), "unknown"));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidRequest);
        outcome.Error.Stage.Should().Be("TokenReview");
        outcome.Error.Description.Should().Be("Unknown cluster context 'unknown'.");
    }

    [Fact]
    public async Task ForTarget_IsNoToolCall_SoStepUpLetsItThrough()
    {
        var pipeline = TestPipeline.Build(Both);
        var outcome = await pipeline.Send(AuthenticateRequest.ForTarget(Header("read"), ""));
        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        pipeline.Review.Requests.Single().Target.Should().BeEmpty();
    }

    [Fact]
    public async Task ForTarget_MakesOneNonToolCallForTheTarget()
    {
        var calls = await AuthenticateRequest.ForTarget("Bearer x", "prod").GetCallsAsync(CancellationToken.None);
        calls.Status.Should().Be(McpCallSetStatus.Read);
        calls.Targets.Should().Equal("prod");
        calls.Calls.Should().ContainSingle().Which.IsToolCall.Should().BeFalse();
        (await AuthenticateRequest.ForTarget("Bearer x", null!).GetCallsAsync(CancellationToken.None)).Targets.Should().Equal("");
    }

    [Fact]
    public async Task SeveralTargets_AreEachReviewedOnce_InBodyOrder()
    {
        var pipeline = TestPipeline.Build(Review);
        var source = new CountingCallSource(
            new McpCall("tools/call", "whoami", "beta"), new McpCall("tools/call", "whoami", "alpha"), new McpCall("tools/call", "whoami", "beta"));
        var outcome = await pipeline.Send(new AuthenticateRequest(Header(), source));
        outcome.Succeeded.Should().BeTrue();
        pipeline.Review.Requests.Select(r => r.Target).Should().Equal("beta", "alpha");
        outcome.Principal!.ClusterUser!.Username.Should().Be("alice@beta", "the principal's cluster user is the first target reviewed");
        outcome.Principal.ClusterUsers.Keys.Should().Equal("beta", "alpha");
    }

    public static TheoryData<string, AuthenticationErrorCode, string> RefusedRows => new()
    {
        { "Review_InvalidRequest", AuthenticationErrorCode.InvalidRequest, "Review" },
        { "Review_RequestTooLarge", AuthenticationErrorCode.RequestTooLarge, "Review" },
        { "Review_RequestTimeout", AuthenticationErrorCode.RequestTimeout, "Review" },
        { "StepUp_InvalidRequest", AuthenticationErrorCode.InvalidRequest, "StepUp" },
        { "StepUp_RequestTooLarge", AuthenticationErrorCode.RequestTooLarge, "StepUp" },
        { "StepUp_RequestTimeout", AuthenticationErrorCode.RequestTimeout, "StepUp" },
    };

    [Theory]
    [MemberData(nameof(RefusedRows))]
    public async Task RefusedCalls_PropagateTheirCode(string name, AuthenticationErrorCode code, string config)
    {
        var pipeline = TestPipeline.Build(config == "Review" ? Review : StepUp);
        var source = new CountingCallSource(McpCallSet.Refused(code, "The request body was refused.", "McpBody"));
        var outcome = await pipeline.Send(new AuthenticateRequest(Header("read mcp:admin"), source));
        outcome.Error!.Code.Should().Be(code, name);
        outcome.Error.Description.Should().Be("The request body was refused.");
        outcome.Error.Stage.Should().Be(config == "Review" ? "TokenReview" : "ToolScopes");
        source.Reads.Should().Be(1);
        pipeline.Review.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task RefusedCalls_WithBothStagesOn_AreReadOnceAndRefusedByTheFirst()
    {
        var pipeline = TestPipeline.Build(Both);
        var source = new CountingCallSource(McpCallSet.Refused(AuthenticationErrorCode.RequestTooLarge, "too large", "McpBody"));
        var outcome = await pipeline.Send(new AuthenticateRequest(Header(), source));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.RequestTooLarge);
        outcome.Error.Stage.Should().Be("TokenReview");
        source.Reads.Should().Be(1);
    }
}

public class McpCallSetTests
{
    [Fact]
    public void Of_NoCalls_IsNone_WithTheDefaultTarget()
    {
        McpCallSet.Of([]).Should().BeSameAs(McpCallSet.None);
        McpCallSet.None.Status.Should().Be(McpCallSetStatus.Read);
        McpCallSet.None.Targets.Should().Equal("");
        McpCallSet.None.Refusal.Should().BeNull();
    }

    [Fact]
    public void Of_Calls_TargetsAreDistinct_InOrder()
    {
        var set = McpCallSet.Of([new McpCall("tools/call", "a", "x"), new McpCall("tools/call", "b", ""), new McpCall("tools/list", null, "x")]);
        set.Status.Should().Be(McpCallSetStatus.Read);
        set.Targets.Should().Equal("x", "");
        set.Calls.Should().HaveCount(3);
    }

    [Fact]
    public void Refused_CarriesTheRefusal_AndNoCalls()
    {
        var set = McpCallSet.Refused(AuthenticationErrorCode.RequestTimeout, "slow", "McpBody");
        set.Status.Should().Be(McpCallSetStatus.Refused);
        set.Calls.Should().BeEmpty();
        set.Refusal.Should().Be(new AuthenticationError(AuthenticationErrorCode.RequestTimeout, "slow", "McpBody"));
    }

    [Fact]
    public void NotSupplied_HasNoCallsAndNoRefusal()
    {
        McpCallSet.NotSupplied.Status.Should().Be(McpCallSetStatus.NotSupplied);
        McpCallSet.NotSupplied.Calls.Should().BeEmpty();
        McpCallSet.NotSupplied.Refusal.Should().BeNull();
    }

    [Theory]
    [InlineData("tools/call", true)]
    [InlineData("Tools/Call", true)]
    [InlineData("tools/list", false)]
    [InlineData("", false)]
    public void McpCall_IsToolCall(string method, bool expected)
    {
        new McpCall(method, "t", "").IsToolCall.Should().Be(expected);
    }
}
