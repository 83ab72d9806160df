using McpAuth.Behaviors;
using McpAuth.Ports;

namespace McpAuth.Core.Tests;

public class OidcProviderValidationBehaviorTests
{
    [Fact]
    public async Task Handle_NoIssuerConfigured_CallsNextWithoutThePort()
    {
        var port = new FakeOidcValidator();
        var next = new Next();
        var request = Tokens.Parsed();
        var outcome = await new OidcProviderValidationBehavior(Opt.Of(o => o.AuthorizationUrl = null), port, Opt.Log<OidcProviderValidationBehavior>())
            .Handle(request, CancellationToken.None, next.Delegate);
        outcome.Should().BeSameAs(Next.Passed);
        port.Calls.Should().Be(0);
        request.State.VerifiedByIssuer.Should().BeFalse();
    }

    public static TheoryData<string, OidcValidationResult, AuthenticationErrorCode?, string?> Rows => new()
    {
        { "Valid", OidcValidationResult.Valid, null, null },
        { "Invalid", OidcValidationResult.Invalid("The token's signature is invalid."), AuthenticationErrorCode.InvalidToken, "The token's signature is invalid." },
        { "Unavailable", OidcValidationResult.Unavailable("connect refused 10.0.0.1"), AuthenticationErrorCode.Unavailable, "The authorization server is unavailable; try again later." },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Handle_PortAnswer_MapsToOutcome(string name, OidcValidationResult answer, AuthenticationErrorCode? code, string? description)
    {
        var port = new FakeOidcValidator { Result = answer };
        var next = new Next();
        var request = Tokens.Parsed();
        var outcome = await new OidcProviderValidationBehavior(Opt.Of(), port, Opt.Log<OidcProviderValidationBehavior>())
            .Handle(request, CancellationToken.None, next.Delegate);
        port.Calls.Should().Be(1, name);
        if (code is null)
        {
            outcome.Should().BeSameAs(Next.Passed);
            request.State.VerifiedByIssuer.Should().BeTrue();
            next.Calls.Should().Be(1);
        }
        else
        {
            outcome.Error!.Code.Should().Be(code.Value);
            outcome.Error.Description.Should().Be(description);
            outcome.Error.Stage.Should().Be("OidcProviderValidation");
            next.Calls.Should().Be(0);
            request.State.VerifiedByIssuer.Should().BeFalse();
        }
    }

    [Fact]
    public async Task Handle_AlreadyVerifiedByTheCache_SkipsThePort()
    {
        var port = new FakeOidcValidator();
        var next = new Next();
        var request = Tokens.Parsed();
        request.State.VerifiedByIssuer = true;
        var outcome = await new OidcProviderValidationBehavior(Opt.Of(), port, Opt.Log<OidcProviderValidationBehavior>())
            .Handle(request, CancellationToken.None, next.Delegate);
        outcome.Should().BeSameAs(Next.Passed);
        port.Calls.Should().Be(0);
        next.Calls.Should().Be(1);
    }

    [Fact]
    public async Task Handle_NothingParsed_NoCredentialsWithoutThePort()
    {
        var port = new FakeOidcValidator();
        var next = new Next();
        var outcome = await new OidcProviderValidationBehavior(Opt.Of(), port, Opt.Log<OidcProviderValidationBehavior>())
            .Handle(new AuthenticateRequest("Bearer x"), CancellationToken.None, next.Delegate);
        outcome.Should().BeSameAs(AuthenticationOutcome.NoCredentials);
        port.Calls.Should().Be(0);
        next.Calls.Should().Be(0);
    }
}

public class TokenExchangeBehaviorTests
{
    public static TheoryData<string, string?, string?, string?, bool> EnabledMatrix => new()
    {
        // name, issuer, client id, audience, enabled (the original's rule: issuer + client id + audience)
        { "All", "https://issuer.test", "client", "k8s", true },
        { "NoIssuer", null, "client", "k8s", false },
        { "EmptyIssuer", "", "client", "k8s", false },
        { "NoClientId", "https://issuer.test", null, "k8s", false },
        { "NoAudience", "https://issuer.test", "client", null, false },
        { "Nothing", "https://issuer.test", null, null, false },
    };

    [Theory]
    [MemberData(nameof(EnabledMatrix))]
    public async Task Handle_ExchangeEnabledOnlyWithIssuerClientIdAndAudience(string name, string? issuer, string? clientId, string? audience, bool enabled)
    {
        var port = new FakeExchangeClient();
        var next = new Next();
        var request = Tokens.Parsed();
        var options = Opt.Of(o => { o.AuthorizationUrl = issuer; o.StsClientId = clientId; o.StsAudience = audience; });
        options.Value.TokenExchangeEnabled.Should().Be(enabled, name);
        var outcome = await new TokenExchangeBehavior(options, port, Opt.Log<TokenExchangeBehavior>()).Handle(request, CancellationToken.None, next.Delegate);
        outcome.Should().BeSameAs(Next.Passed);
        port.Calls.Should().Be(enabled ? 1 : 0);
        request.State.Exchanged.Should().Be(enabled);
        request.State.EffectiveToken.Should().Be(enabled ? "exchanged-token" : request.State.RawToken);
    }

    [Fact]
    public async Task Handle_Exchanged_SendsRawTokenAndRecordsEffectiveToken()
    {
        var port = new FakeExchangeClient { Result = TokenExchangeResult.Exchanged("opaque-abc", Tokens.Now.AddMinutes(3)) };
        var request = Tokens.Parsed();
        await Exchange(port).Handle(request, CancellationToken.None, new Next().Delegate);
        port.LastSubjectToken.Should().Be(request.State.RawToken);
        request.State.EffectiveToken.Should().Be("opaque-abc");
        request.State.EffectiveTokenExpiresAt.Should().Be(Tokens.Now.AddMinutes(3));
        request.State.Exchanged.Should().BeTrue();
        request.State.RawToken.Should().NotBe("opaque-abc", "the caller's token stays the parsed one");
        request.State.Token!.Subject.Should().Be("alice");
    }

    [Fact]
    public async Task Handle_NothingParsed_NoCredentialsWithoutThePort()
    {
        var port = new FakeExchangeClient();
        var next = new Next();
        var outcome = await Exchange(port).Handle(new AuthenticateRequest("Bearer x"), CancellationToken.None, next.Delegate);
        outcome.Should().BeSameAs(AuthenticationOutcome.NoCredentials);
        port.Calls.Should().Be(0);
        next.Calls.Should().Be(0);
    }

    public static TheoryData<string, TokenExchangeResult, AuthenticationErrorCode> FailureRows => new()
    {
        { "Refused", TokenExchangeResult.Refused("The token exchange service refused the token (invalid_grant)."), AuthenticationErrorCode.InvalidToken },
        { "Unavailable", TokenExchangeResult.Unavailable("HTTP 500"), AuthenticationErrorCode.Unavailable },
        { "AcceptedWithoutToken", new TokenExchangeResult(PortStatus.Accepted, null, null, null), AuthenticationErrorCode.Unavailable },
    };

    [Theory]
    [MemberData(nameof(FailureRows))]
    public async Task Handle_ExchangeFails_StopsWithCode(string name, TokenExchangeResult answer, AuthenticationErrorCode code)
    {
        var next = new Next();
        var outcome = await Exchange(new FakeExchangeClient { Result = answer }).Handle(Tokens.Parsed(), CancellationToken.None, next.Delegate);
        outcome.Error!.Code.Should().Be(code, name);
        outcome.Error.Stage.Should().Be("TokenExchange");
        next.Calls.Should().Be(0);
    }

    [Theory]
    [InlineData("Refused", PortStatus.Rejected, "The STS said no.", "The STS said no.")]
    [InlineData("InvalidRequest", PortStatus.InvalidRequest, null, "The token exchange service refused the token.")]
    [InlineData("Unavailable", PortStatus.Unavailable, "connect refused 10.0.0.1", "The token exchange service is unavailable; try again later.")]
    public async Task Handle_ExchangeFails_DescriptionIsSafe(string name, PortStatus status, string? reason, string description)
    {
        var outcome = await Exchange(new FakeExchangeClient { Result = new TokenExchangeResult(status, null, null, reason) })
            .Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate);
        outcome.Error!.Description.Should().Be(description, name);
    }

    private static TokenExchangeBehavior Exchange(FakeExchangeClient port) =>
        new(Opt.Of(o => { o.StsClientId = "client"; o.StsAudience = "k8s"; }), port, Opt.Log<TokenExchangeBehavior>());
}

public class TokenReviewBehaviorTests
{
    private static TokenReviewBehavior Review(FakeReviewClient port, Action<McpAuthOptions>? configure = null) =>
        new(Opt.Of(o => { o.ValidateToken = true; configure?.Invoke(o); }), port, Opt.Log<TokenReviewBehavior>());

    [Fact]
    public async Task Handle_Disabled_CallsNextWithoutReview()
    {
        var port = new FakeReviewClient();
        var next = new Next();
        var outcome = await Review(port, o => o.ValidateToken = false).Handle(Tokens.Parsed(), CancellationToken.None, next.Delegate);
        outcome.Should().BeSameAs(Next.Passed);
        port.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Handle_NoAudienceConfigured_SendsNoAudienceAtAll()
    {
        var port = new FakeReviewClient();
        var request = AuthenticateRequest.ForTarget("Bearer " + Tokens.Create(), "alpha").WithParsedToken();
        var outcome = await Review(port).Handle(request, CancellationToken.None, new Next().Delegate);
        outcome.Should().BeSameAs(Next.Passed);
        port.Requests.Should().ContainSingle();
        port.Requests[0].Audiences.Should().BeEmpty();
        port.Requests[0].Target.Should().Be("alpha");
        port.Requests[0].Token.Should().Be(request.State.RawToken);
        request.State.ClusterUsers["alpha"].Username.Should().Be("alice@alpha");
    }

    [Fact]
    public async Task Handle_AudienceConfigured_SendsIt()
    {
        var port = new FakeReviewClient();
        await Review(port, o => o.Audience = "mcp-server").Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate);
        port.Requests.Single().Audiences.Should().Equal("mcp-server");
    }

    [Fact]
    public async Task Handle_AfterExchange_SendsExchangedTokenWithStsAudience()
    {
        var port = new FakeReviewClient();
        var request = Tokens.Parsed();
        request.State.SetExchangedToken("exchanged", Tokens.Now.AddMinutes(1));
        await Review(port, o => { o.Audience = "mcp-server"; o.StsClientId = "c"; o.StsAudience = "k8s-api"; })
            .Handle(request, CancellationToken.None, new Next().Delegate);
        port.Requests.Single().Audiences.Should().Equal("k8s-api");
        port.Requests.Single().Token.Should().Be("exchanged");
    }

    [Fact]
    public async Task Handle_SeveralTargets_ReviewsEachInOrder()
    {
        var port = new FakeReviewClient();
        var request = Tokens.Parsed(calls:
        [
            new McpCall("tools/call", "whoami", "alpha"), new McpCall("tools/call", "whoami", "beta"), new McpCall("tools/list", null, "alpha"),
        ]);
        var outcome = await Review(port).Handle(request, CancellationToken.None, new Next().Delegate);
        outcome.Should().BeSameAs(Next.Passed);
        port.Requests.Select(r => r.Target).Should().Equal("alpha", "beta");
        request.State.ClusterUsers.Keys.Should().Equal("alpha", "beta");
        request.State.ClusterUsers["beta"].Username.Should().Be("alice@beta");
    }

    public static TheoryData<string, Func<TokenReviewRequest, TokenReviewResult>, AuthenticationErrorCode, string> FailureRows => new()
    {
        { "NotAuthenticated", _ => TokenReviewResult.NotAuthenticated("token expired"), AuthenticationErrorCode.InvalidToken, "The cluster did not authenticate the token." },
        { "AudiencesDoNotIntersect", _ => TokenReviewResult.Authenticated(User, ["other"]), AuthenticationErrorCode.InvalidToken, "The cluster did not confirm the token's audience." },
        { "AudiencesEmpty", _ => TokenReviewResult.Authenticated(User, []), AuthenticationErrorCode.InvalidToken, "The cluster did not confirm the token's audience." },
        { "UnknownContext", _ => TokenReviewResult.UnknownTarget("Unknown cluster context 'x'."), AuthenticationErrorCode.InvalidRequest, "Unknown cluster context 'x'." },
        { "ApiServerDown", _ => TokenReviewResult.Unavailable("HTTP 500"), AuthenticationErrorCode.Unavailable, "The cluster's API server is unavailable; try again later." },
    };

    [Theory]
    [MemberData(nameof(FailureRows))]
    public async Task Handle_ReviewFails_StopsWithCode(string name, Func<TokenReviewRequest, TokenReviewResult> answer, AuthenticationErrorCode code, string description)
    {
        var port = new FakeReviewClient { Answer = answer };
        var next = new Next();
        var outcome = await Review(port, o => o.Audience = "mcp-server").Handle(Tokens.Parsed(), CancellationToken.None, next.Delegate);
        outcome.Error!.Code.Should().Be(code, name);
        outcome.Error.Description.Should().Be(description);
        outcome.Error.Stage.Should().Be("TokenReview");
        next.Calls.Should().Be(0);
    }

    [Fact]
    public async Task Handle_FirstTargetFails_SecondIsNotReviewed()
    {
        var port = new FakeReviewClient { Answer = _ => TokenReviewResult.NotAuthenticated("no") };
        var request = Tokens.Parsed(calls: [new McpCall("tools/call", "whoami", "alpha"), new McpCall("tools/call", "whoami", "beta")]);
        var next = new Next();
        await Review(port).Handle(request, CancellationToken.None, next.Delegate);
        port.Requests.Should().ContainSingle().Which.Target.Should().Be("alpha");
        next.Calls.Should().Be(0);
    }

    [Fact]
    public async Task Handle_AudienceConfirmed_AmongOthers_IsAccepted()
    {
        var port = new FakeReviewClient { Answer = _ => TokenReviewResult.Authenticated(User, ["other", "mcp-server"]) };
        var outcome = await Review(port, o => o.Audience = "mcp-server").Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate);
        outcome.Should().BeSameAs(Next.Passed);
    }

    [Fact]
    public async Task Handle_NoAudienceRequested_AnyReturnedAudienceIsAccepted()
    {
        var port = new FakeReviewClient { Answer = _ => TokenReviewResult.Authenticated(User, ["https://kubernetes.default.svc"]) };
        var outcome = await Review(port).Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate);
        outcome.Should().BeSameAs(Next.Passed);
    }

    [Fact]
    public async Task Handle_AcceptedWithoutUser_IsInvalidToken()
    {
        var port = new FakeReviewClient { Answer = _ => new TokenReviewResult(PortStatus.Accepted, null, [], null) };
        var outcome = await Review(port).Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate);
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        outcome.Error.Description.Should().Be("The cluster did not authenticate the token.");
    }

    [Fact]
    public async Task Handle_NoEffectiveToken_NoCredentialsWithoutThePort()
    {
        var port = new FakeReviewClient();
        var next = new Next();
        var outcome = await Review(port).Handle(new AuthenticateRequest("Bearer x", []), CancellationToken.None, next.Delegate);
        outcome.Should().BeSameAs(AuthenticationOutcome.NoCredentials);
        port.Requests.Should().BeEmpty();
        next.Calls.Should().Be(0);
    }

    private static readonly ClusterUser User = new("u", null, [], new Dictionary<string, IReadOnlyList<string>>());
}

public class ScopeBehaviorTests
{
    [Theory]
    [InlineData("NoneRequired", new string[0], "read", true)]
    [InlineData("Present", new[] { "read" }, "read write", true)]
    [InlineData("AllPresent", new[] { "read", "write" }, "write read", true)]
    [InlineData("Missing", new[] { "read", "admin" }, "read write", false)]
    [InlineData("NoScopes", new[] { "read" }, "", false)]
    public async Task RequiredScopes_MissingScope_ReturnsInsufficientScopeNamingAll(string name, string[] required, string scope, bool accepted)
    {
        var next = new Next();
        var behavior = new RequiredScopesBehavior(Opt.Of(o => o.RequiredScopes = required.ToList()));
        var outcome = await behavior.Handle(Tokens.Parsed(Tokens.Valid(("scope", scope))), CancellationToken.None, next.Delegate);
        outcome.Succeeded.Should().Be(accepted, name);
        next.Calls.Should().Be(accepted ? 1 : 0);
        if (!accepted)
        {
            outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InsufficientScope);
            outcome.Error.RequiredScopes.Should().Equal(required);
        }
    }

    private static AuthenticateRequest Call(string scope, params McpCall[] calls) => Tokens.Parsed(Tokens.Valid(("scope", scope)), calls);

    public static TheoryData<string, AuthenticateRequest, string[]?> ToolRows => new()
    {
        { "Initialize", Call("read", new McpCall("initialize", null, "")), null },
        { "ToolsList", Call("read", new McpCall("tools/list", null, "")), null },
        { "OtherTool", Call("read", new McpCall("tools/call", "whoami", "")), null },
        { "AdminWithScope", Call("read mcp:admin", new McpCall("tools/call", "admin-action", "")), null },
        { "AdminWithoutScope", Call("read", new McpCall("tools/call", "admin-action", "")), new[] { "read", "mcp:admin" } },
        { "BatchWithAdmin", Call("read", new McpCall("tools/list", null, ""), new McpCall("tools/call", "admin-action", "")), new[] { "read", "mcp:admin" } },
        { "ToolNameCaseDiffers", Call("read", new McpCall("tools/call", "Admin-Action", "")), new[] { "read", "mcp:admin" } },
        { "MethodCaseDiffers", Call("read", new McpCall("TOOLS/CALL", "admin-action", "")), new[] { "read", "mcp:admin" } },
        { "AdminNameOnOtherMethod", Call("read", new McpCall("resources/read", "admin-action", "")), null },
        { "NoCalls", Call("read"), null },
    };

    [Theory]
    [MemberData(nameof(ToolRows))]
    public async Task ToolScopes_StepUpOnlyForListedTools(string name, AuthenticateRequest request, string[]? needed)
    {
        var next = new Next();
        var behavior = new ToolScopesBehavior(Opt.Of(o =>
        {
            o.RequiredScopes = ["read"];
            o.ToolScopes = new Dictionary<string, string[]> { ["admin-action"] = ["mcp:admin"] };
        }), Opt.Log<ToolScopesBehavior>());
        var outcome = await behavior.Handle(request, CancellationToken.None, next.Delegate);
        if (needed is null)
        {
            outcome.Should().BeSameAs(Next.Passed, name);
        }
        else
        {
            outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InsufficientScope, name);
            outcome.Error.RequiredScopes.Should().Equal(needed);
            outcome.Error.Stage.Should().Be("ToolScopes");
            outcome.Error.Description.Should().Contain("needs more scopes than the token carries");
            next.Calls.Should().Be(0);
        }
    }

    [Fact]
    public async Task ToolScopes_NoneConfigured_NeverReadsTheCalls()
    {
        var source = new CountingCallSource(new McpCall("tools/call", "admin-action", ""));
        var request = new AuthenticateRequest("Bearer " + Tokens.Create(), source).WithParsedToken();
        var next = new Next();
        var outcome = await new ToolScopesBehavior(Opt.Of(), Opt.Log<ToolScopesBehavior>()).Handle(request, CancellationToken.None, next.Delegate);
        outcome.Should().BeSameAs(Next.Passed);
        source.Reads.Should().Be(0);
        request.CallsRead.Should().BeFalse();
    }

    [Fact]
    public async Task RequiredScopes_Refusal_IsTheStagesOwn()
    {
        var outcome = await new RequiredScopesBehavior(Opt.Of(o => o.RequiredScopes = ["admin", " ", "admin"]))
            .Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate);
        outcome.Error!.Stage.Should().Be("RequiredScopes");
        outcome.Error.Description.Should().Be("The token lacks a required scope.");
        outcome.Error.RequiredScopes.Should().Equal("admin");
    }
}

public class ExceptionGuardBehaviorTests
{
    [Fact]
    public async Task Handle_UnexpectedException_ReturnsUnavailable()
    {
        var guard = new ExceptionGuardBehavior(Opt.Log<ExceptionGuardBehavior>());
        var outcome = await guard.Handle(Tokens.Parsed(), CancellationToken.None, () => throw new InvalidOperationException("boom with secret"));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        outcome.Error.Stage.Should().Be("ExceptionGuard");
        outcome.Error.Description.Should().NotContain("secret");
    }

    [Fact]
    public async Task Handle_AsyncException_ReturnsUnavailable()
    {
        var guard = new ExceptionGuardBehavior(Opt.Log<ExceptionGuardBehavior>());
        var outcome = await guard.Handle(Tokens.Parsed(), CancellationToken.None, async () =>
        {
            await Task.Yield();
            throw new InvalidOperationException("boom with secret");
        });
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        outcome.Error.Stage.Should().Be("ExceptionGuard");
        outcome.Error.Description.Should().Be("Authentication is temporarily unavailable; try again later.");
    }

    [Fact]
    public async Task Handle_NoException_ReturnsTheInnerOutcomeUntouched()
    {
        var guard = new ExceptionGuardBehavior(Opt.Log<ExceptionGuardBehavior>());
        var next = new Next();
        (await guard.Handle(Tokens.Parsed(), CancellationToken.None, next.Delegate)).Should().BeSameAs(Next.Passed);
        next.Calls.Should().Be(1);
    }

    [Fact]
    public async Task Handle_CallerCancelledDuringAsyncWork_Propagates()
    {
        using var cts = new CancellationTokenSource();
        var guard = new ExceptionGuardBehavior(Opt.Log<ExceptionGuardBehavior>());
        var act = () => guard.Handle(Tokens.Parsed(), cts.Token, async () =>
        {
            await cts.CancelAsync();
            await Task.Yield();
            cts.Token.ThrowIfCancellationRequested();
            return Next.Passed;
        });
        await act.Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task Handle_CallerCancelled_Propagates()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        var guard = new ExceptionGuardBehavior(Opt.Log<ExceptionGuardBehavior>());
        var act = () => guard.Handle(Tokens.Parsed(), cts.Token, () => throw new OperationCanceledException(cts.Token));
        await act.Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task Handle_TimeoutLikeCancellationNotRequestedByCaller_ReturnsUnavailable()
    {
        var guard = new ExceptionGuardBehavior(Opt.Log<ExceptionGuardBehavior>());
        var outcome = await guard.Handle(Tokens.Parsed(), CancellationToken.None, () => throw new TaskCanceledException());
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
    }
}
