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
            outcome.Error.Stage.Should().Be(Stage.OidcProviderValidation);
            next.Calls.Should().Be(0);
        }
    }
}

public class TokenExchangeBehaviorTests
{
    public static TheoryData<string, string?, string?, string?, string?, bool> EnabledMatrix => new()
    {
        // name, issuer, client id, audience, secret, enabled (the original's rule: issuer + client id + audience)
        { "All", "https://issuer.test", "client", "k8s", "secret", true },
        { "NoSecret", "https://issuer.test", "client", "k8s", null, true },
        { "NoIssuer", null, "client", "k8s", "secret", false },
        { "NoClientId", "https://issuer.test", null, "k8s", "secret", false },
        { "NoAudience", "https://issuer.test", "client", null, "secret", false },
        { "Nothing", "https://issuer.test", null, null, null, false },
    };

    [Theory]
    [MemberData(nameof(EnabledMatrix))]
    public async Task Handle_ExchangeEnabledOnlyWithIssuerClientIdAndAudience(string name, string? issuer, string? clientId, string? audience, string? secret, bool enabled)
    {
        var port = new FakeExchangeClient();
        var next = new Next();
        var request = Tokens.Parsed();
        var options = Opt.Of(o => { o.AuthorizationUrl = issuer; o.StsClientId = clientId; o.StsAudience = audience; o.StsClientSecret = secret; });
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
        outcome.Error.Stage.Should().Be(Stage.TokenExchange);
        next.Calls.Should().Be(0);
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
        var request = Tokens.Parsed(target: "alpha");
        var outcome = await Review(port).Handle(request, CancellationToken.None, new Next().Delegate);
        outcome.Should().BeSameAs(Next.Passed);
        port.Requests.Should().ContainSingle();
        port.Requests[0].Audiences.Should().BeEmpty();
        port.Requests[0].Target.Should().Be("alpha");
        port.Requests[0].Token.Should().Be(request.State.RawToken);
        request.State.ClusterUsers["alpha"].Username.Should().Be("system:alice");
    }

    [Fact]
    public async Task Handle_AudienceConfigured_SendsIt()
    {
        var port = new FakeReviewClient();
        await Review(port, o => o.OAuthAudience = "mcp-server").Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate);
        port.Requests.Single().Audiences.Should().Equal("mcp-server");
    }

    [Fact]
    public async Task Handle_AfterExchange_SendsExchangedTokenWithStsAudience()
    {
        var port = new FakeReviewClient();
        var request = Tokens.Parsed();
        request.State.EffectiveToken = "exchanged";
        request.State.Exchanged = true;
        await Review(port, o => { o.OAuthAudience = "mcp-server"; o.StsClientId = "c"; o.StsAudience = "k8s-api"; })
            .Handle(request, CancellationToken.None, new Next().Delegate);
        port.Requests.Single().Audiences.Should().Equal("k8s-api");
        port.Requests.Single().Token.Should().Be("exchanged");
    }

    [Fact]
    public async Task Handle_SeveralTargets_ReviewsEachInOrder()
    {
        var port = new FakeReviewClient();
        var request = new AuthenticateRequest("Bearer x", ["alpha", "beta"], []);
        request.State.EffectiveToken = "t";
        var outcome = await Review(port).Handle(request, CancellationToken.None, new Next().Delegate);
        outcome.Should().BeSameAs(Next.Passed);
        port.Requests.Select(r => r.Target).Should().Equal("alpha", "beta");
        request.State.ClusterUsers.Keys.Should().BeEquivalentTo(["alpha", "beta"]);
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
        var outcome = await Review(port, o => o.OAuthAudience = "mcp-server").Handle(Tokens.Parsed(), CancellationToken.None, next.Delegate);
        outcome.Error!.Code.Should().Be(code, name);
        outcome.Error.Description.Should().Be(description);
        outcome.Error.Stage.Should().Be(Stage.TokenReview);
        next.Calls.Should().Be(0);
    }

    [Fact]
    public async Task Handle_FirstTargetFails_SecondIsNotReviewed()
    {
        var port = new FakeReviewClient { Answer = _ => TokenReviewResult.NotAuthenticated("no") };
        var request = new AuthenticateRequest("Bearer x", ["alpha", "beta"], []);
        request.State.EffectiveToken = "t";
        await Review(port).Handle(request, CancellationToken.None, new Next().Delegate);
        port.Requests.Should().ContainSingle();
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

    private static AuthenticateRequest Call(string scope, params McpCall[] calls)
    {
        var parsed = Tokens.Parsed(Tokens.Valid(("scope", scope)));
        var request = new AuthenticateRequest(parsed.Authorization, [], calls);
        request.State.Scopes = parsed.State.Scopes;
        return request;
    }

    public static TheoryData<string, AuthenticateRequest, string[]?> ToolRows => new()
    {
        { "Initialize", Call("read", new McpCall("initialize", null, "")), null },
        { "ToolsList", Call("read", new McpCall("tools/list", null, "")), null },
        { "OtherTool", Call("read", new McpCall("tools/call", "whoami", "")), null },
        { "AdminWithScope", Call("read mcp:admin", new McpCall("tools/call", "admin-action", "")), null },
        { "AdminWithoutScope", Call("read", new McpCall("tools/call", "admin-action", "")), new[] { "read", "mcp:admin" } },
        { "BatchWithAdmin", Call("read", new McpCall("tools/list", null, ""), new McpCall("tools/call", "admin-action", "")), new[] { "read", "mcp:admin" } },
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
        }));
        var outcome = await behavior.Handle(request, CancellationToken.None, next.Delegate);
        if (needed is null)
        {
            outcome.Should().BeSameAs(Next.Passed, name);
        }
        else
        {
            outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InsufficientScope, name);
            outcome.Error.RequiredScopes.Should().Equal(needed);
            outcome.Error.Stage.Should().Be(Stage.ToolScopes);
            next.Calls.Should().Be(0);
        }
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
        outcome.Error.Stage.Should().Be(Stage.Guard);
        outcome.Error.Description.Should().NotContain("secret");
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
