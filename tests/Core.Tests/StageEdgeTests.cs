using System.Diagnostics.Metrics;
using McpAuth.Behaviors;
using McpAuth.Diagnostics;
using McpAuth.Ports;

namespace McpAuth.Core.Tests;

/// <summary>Edges of the stages that the main stage tests do not pin down.</summary>
public class StageEdgeTests
{
    private static ToolScopesBehavior Tools(Dictionary<string, string[]> toolScopes, params string[] required) =>
        new(Opt.Of(o => { o.ToolScopes = toolScopes; o.RequiredScopes = required.ToList(); }), Opt.Log<ToolScopesBehavior>());

    private static AuthenticateRequest ToolCall(string scope, string tool, CountingCallSource? source = null)
    {
        source ??= new CountingCallSource(new McpCall("tools/call", tool, ""));
        return new AuthenticateRequest("Bearer " + Tokens.Create(Tokens.Valid(("scope", scope))), source).WithParsedToken();
    }

    [Fact]
    public async Task ToolScopes_ToolsListedWithNoScopes_AreNoStepUp_AndTheBodyIsNotRead()
    {
        var source = new CountingCallSource(new McpCall("tools/call", "admin-action", ""));
        var request = ToolCall("read", "admin-action", source);
        var next = new Next();
        var outcome = await Tools(new() { ["admin-action"] = [] }, "read").Handle(request, CancellationToken.None, next.Delegate);
        outcome.Should().BeSameAs(Next.Passed);
        next.Calls.Should().Be(1);
        source.Reads.Should().Be(0, "no tool needs a scope, so the stage is off");
    }

    [Fact]
    public async Task ToolScopes_KeysDifferingInCase_AreOneTool_WhoseScopesAreMerged()
    {
        var behavior = Tools(new() { ["Admin-Action"] = ["mcp:admin"], ["admin-action"] = ["mcp:write", "mcp:admin"] }, "read");
        var refused = await behavior.Handle(ToolCall("read mcp:admin", "ADMIN-ACTION"), CancellationToken.None, new Next().Delegate);
        refused.Error!.RequiredScopes.Should().Equal("read", "mcp:admin", "mcp:write");
        refused.Error.Description.Should().Be("The tool 'ADMIN-ACTION' needs more scopes than the token carries.");
        var accepted = await behavior.Handle(ToolCall("read mcp:admin mcp:write", "admin-action"), CancellationToken.None, new Next().Delegate);
        accepted.Should().BeSameAs(Next.Passed);
    }

    [Fact]
    public async Task ToolScopes_BlankScopes_AreIgnored_AndRequiredScopesAreNamedOnce()
    {
        var behavior = Tools(new() { ["admin-action"] = [" ", "mcp:admin", "read", ""] }, "read", "read");
        var refused = await behavior.Handle(ToolCall("read", "admin-action"), CancellationToken.None, new Next().Delegate);
        refused.Error!.RequiredScopes.Should().Equal("read", "mcp:admin");
        (await behavior.Handle(ToolCall("read mcp:admin", "admin-action"), CancellationToken.None, new Next().Delegate)).Should().BeSameAs(Next.Passed);
    }

    [Fact]
    public async Task ToolScopes_ToolCallWithoutAName_IsNoStepUp()
    {
        var source = new CountingCallSource(new McpCall("tools/call", null, ""));
        var request = ToolCall("read", "ignored", source);
        (await Tools(new() { ["admin-action"] = ["mcp:admin"] }).Handle(request, CancellationToken.None, new Next().Delegate)).Should().BeSameAs(Next.Passed);
        source.Reads.Should().Be(1);
    }

    [Fact]
    public async Task ToolScopes_Pass_TagsItsSpan_AndEndsItBeforeNext()
    {
        using var recorder = new SpanRecorder();
        var spansWhenNextRan = -1;
        var outcome = await Tools(new() { ["admin-action"] = ["mcp:admin"] }).Handle(ToolCall("mcp:admin", "admin-action"), CancellationToken.None, () =>
        {
            spansWhenNextRan = recorder.Spans.Count;
            return Task.FromResult(Next.Passed);
        });
        outcome.Should().BeSameAs(Next.Passed);
        spansWhenNextRan.Should().Be(1);
        recorder.Spans.Should().Equal(("McpAuth.ToolScopes", "passed"));
    }

    [Fact]
    public async Task RequiredScopes_BlankOnly_IsOff()
    {
        using var recorder = new SpanRecorder();
        var next = new Next();
        var outcome = await new RequiredScopesBehavior(Opt.Of(o => o.RequiredScopes = [" ", ""]))
            .Handle(Tokens.Parsed(Tokens.Valid(("scope", ""))), CancellationToken.None, next.Delegate);
        outcome.Should().BeSameAs(Next.Passed);
        next.Calls.Should().Be(1);
        recorder.Spans.Should().BeEmpty("a stage switched off does nothing but call next");
    }

    [Fact]
    public async Task RequiredScopes_Pass_TagsItsSpan_AndEndsItBeforeNext()
    {
        using var recorder = new SpanRecorder();
        var spansWhenNextRan = -1;
        await new RequiredScopesBehavior(Opt.Of(o => o.RequiredScopes = ["read"])).Handle(Tokens.Parsed(), CancellationToken.None, () =>
        {
            spansWhenNextRan = recorder.Spans.Count;
            return Task.FromResult(Next.Passed);
        });
        spansWhenNextRan.Should().Be(1);
        recorder.Spans.Should().Equal(("McpAuth.RequiredScopes", "passed"));
    }

    [Fact]
    public async Task Issuer_RejectedWithoutAReason_HasTheDefaultDescription()
    {
        var port = new FakeOidcValidator { Result = new OidcValidationResult(PortStatus.Rejected) };
        var outcome = await new OidcProviderValidationBehavior(Opt.Of(), port, Opt.Log<OidcProviderValidationBehavior>())
            .Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate);
        outcome.Error.Should().Be(new AuthenticationError(
            AuthenticationErrorCode.InvalidToken, "The token was not issued by the trusted authorization server.", "OidcProviderValidation"));
    }

    [Fact]
    public async Task Issuer_InvalidRequestAnswer_IsAnInvalidToken()
    {
        var port = new FakeOidcValidator { Result = new OidcValidationResult(PortStatus.InvalidRequest, "odd") };
        var outcome = await new OidcProviderValidationBehavior(Opt.Of(), port, Opt.Log<OidcProviderValidationBehavior>())
            .Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate);
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        outcome.Error.Description.Should().Be("odd");
    }

    [Fact]
    public async Task Issuer_WhitespaceAuthorizationUrl_IsNoIssuer()
    {
        var port = new FakeOidcValidator();
        var outcome = await new OidcProviderValidationBehavior(Opt.Of(o => o.AuthorizationUrl = "  "), port, Opt.Log<OidcProviderValidationBehavior>())
            .Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate);
        outcome.Should().BeSameAs(Next.Passed);
        port.Calls.Should().Be(0);
    }

    [Fact]
    public async Task Exchange_AcceptedWithAnEmptyToken_IsUnavailable_AndNothingIsExchanged()
    {
        var port = new FakeExchangeClient { Result = new TokenExchangeResult(PortStatus.Accepted, "", Tokens.Now.AddMinutes(1), null) };
        var request = Tokens.Parsed();
        var outcome = await new TokenExchangeBehavior(Opt.Of(o => { o.StsClientId = "c"; o.StsAudience = "k8s"; }), port, Opt.Log<TokenExchangeBehavior>())
            .Handle(request, CancellationToken.None, new Next().Delegate);
        outcome.Error.Should().Be(new AuthenticationError(
            AuthenticationErrorCode.Unavailable, "The token exchange service is unavailable; try again later.", "TokenExchange"));
        request.State.Exchanged.Should().BeFalse();
        request.State.EffectiveToken.Should().Be(request.State.RawToken);
    }

    [Theory]
    [InlineData("WhitespaceClientId", " ", "k8s")]
    [InlineData("WhitespaceAudience", "c", " ")]
    public async Task Exchange_BlankSettings_AreOff(string name, string clientId, string audience)
    {
        var port = new FakeExchangeClient();
        var outcome = await new TokenExchangeBehavior(Opt.Of(o => { o.StsClientId = clientId; o.StsAudience = audience; }), port, Opt.Log<TokenExchangeBehavior>())
            .Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate);
        outcome.Should().BeSameAs(Next.Passed, name);
        port.Calls.Should().Be(0, name);
    }

    [Fact]
    public async Task Exchange_SendsTheSubjectTokensExpiry()
    {
        DateTimeOffset? seen = null;
        var port = new RecordingExchange(e => seen = e);
        await new TokenExchangeBehavior(Opt.Of(o => { o.StsClientId = "c"; o.StsAudience = "k8s"; }), port, Opt.Log<TokenExchangeBehavior>())
            .Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate);
        seen.Should().Be(Tokens.Now.AddMinutes(10));
    }

    [Fact]
    public async Task Review_SendsTheEffectiveTokensExpiry_AndAnEmptyAudienceMeansNone()
    {
        var port = new FakeReviewClient();
        var request = Tokens.Parsed();
        request.State.SetExchangedToken("exchanged", Tokens.Now.AddMinutes(3));
        await new TokenReviewBehavior(Opt.Of(o => { o.ValidateToken = true; o.Audience = "mcp-server"; o.StsAudience = ""; }), port, Opt.Log<TokenReviewBehavior>())
            .Handle(request, CancellationToken.None, new Next().Delegate);
        var sent = port.Requests.Should().ContainSingle().Subject;
        sent.TokenExpiresAt.Should().Be(Tokens.Now.AddMinutes(3));
        sent.Audiences.Should().BeEmpty("after an exchange the exchange audience is asked for, and an empty one is none");
    }

    [Fact]
    public async Task Review_Pass_TagsItsSpan_AndEndsItBeforeNext()
    {
        using var recorder = new SpanRecorder();
        var spansWhenNextRan = -1;
        await new TokenReviewBehavior(Opt.Of(o => o.ValidateToken = true), new FakeReviewClient(), Opt.Log<TokenReviewBehavior>())
            .Handle(Tokens.Parsed(), CancellationToken.None, () =>
            {
                spansWhenNextRan = recorder.Spans.Count;
                return Task.FromResult(Next.Passed);
            });
        spansWhenNextRan.Should().Be(1);
        recorder.Spans.Should().Equal(("McpAuth.TokenReview", "passed"));
    }

    [Fact]
    public void Scope_FailWithAnErrorAlreadyNamingThisStage_KeepsTheSameError()
    {
        using var scope = StageScope.Begin("Mine");
        var error = new AuthenticationError(AuthenticationErrorCode.InvalidRequest, "bad", "Mine");
        scope.Fail(error).Error.Should().BeSameAs(error);
        var act = () => scope.Fail(null!);
        act.Should().Throw<ArgumentNullException>();
        var read = () => scope.FailUnlessRead(null!);
        read.Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public async Task Metrics_Success_IsCountedWithItsOutcomeTag_AndTheInstrumentIsDescribed()
    {
        string? description = null;
        var successes = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == McpAuthDiagnostics.Name && instrument.Name == "mcpauth.outcomes")
                {
                    description = instrument.Description;
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (tags.Length == 1 && tags[0].Key == "outcome" && Equals(tags[0].Value, "Success"))
            {
                Interlocked.Add(ref successes, (int)value);
            }
        });
        listener.Start();

        (await new AuthenticateRequestHandler(Opt.Log<AuthenticateRequestHandler>()).Handle(Tokens.Parsed(), CancellationToken.None)).Succeeded.Should().BeTrue();
        Volatile.Read(ref successes).Should().BeGreaterThanOrEqualTo(1);
        description.Should().Be("Authentication decisions by outcome and deciding stage.");
    }

    private sealed class RecordingExchange(Action<DateTimeOffset?> seen) : ITokenExchangeClient
    {
        public ValueTask<TokenExchangeResult> ExchangeAsync(string subjectToken, DateTimeOffset? subjectExpiresAt, CancellationToken cancellationToken)
        {
            seen(subjectExpiresAt);
            return ValueTask.FromResult(TokenExchangeResult.Exchanged("x", Tokens.Now.AddMinutes(1)));
        }
    }
}
