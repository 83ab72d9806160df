using McpAuth.Behaviors;
using McpAuth.Ports;
using MediatR;
using Microsoft.Extensions.Logging;

namespace McpAuth.Core.Tests;

/// <summary>
/// What the stages log, and what they do not: a peer that cannot be reached is a warning naming the stage and the
/// (adapter's, already sanitized) reason; calls the host did not supply are an error that names the fix; a refused
/// body is a debug line; an ordinary refusal of the token writes nothing (it is counted by the refusal summary).
/// </summary>
public class StageLoggingTests
{
    private readonly LogCapture _logs = new();
    private readonly ILoggerFactory _factory;

    public StageLoggingTests() => _factory = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));

    private ILogger<T> Logger<T>() => _factory.CreateLogger<T>();

    private const string NotSuppliedTemplate =
        "Stage {0} needs the request's MCP calls but the host did not supply them; the request is refused. In ASP.NET Core, protect the MCP endpoint with RequireMcpAuth().";

    [Fact]
    public async Task Issuer_Unavailable_IsAWarningWithTheReason_Invalid_IsNotLogged()
    {
        var port = new FakeOidcValidator { Result = OidcValidationResult.Unavailable("connect refused") };
        var behavior = new OidcProviderValidationBehavior(Opt.Of(), port, Logger<OidcProviderValidationBehavior>());
        await behavior.Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate);
        _logs.Entries.Should().Equal((LogLevel.Warning, new EventId(1002, "PeerUnavailable"), "Stage OidcProviderValidation could not reach its peer: connect refused."));

        port.Result = OidcValidationResult.Invalid("bad signature");
        (await behavior.Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate)).Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        _logs.Entries.Should().HaveCount(1);
    }

    [Fact]
    public async Task Exchange_Unavailable_IsAWarningWithTheReason_Refused_IsNotLogged()
    {
        var port = new FakeExchangeClient { Result = TokenExchangeResult.Unavailable("HTTP 503") };
        var behavior = new TokenExchangeBehavior(Opt.Of(o => { o.StsClientId = "c"; o.StsAudience = "k8s"; }), port, Logger<TokenExchangeBehavior>());
        await behavior.Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate);
        _logs.Entries.Should().Equal((LogLevel.Warning, new EventId(1002, "PeerUnavailable"), "Stage TokenExchange could not reach its peer: HTTP 503."));

        port.Result = TokenExchangeResult.Refused("invalid_grant");
        (await behavior.Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate)).Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        _logs.Entries.Should().HaveCount(1);
    }

    [Fact]
    public async Task Review_Unavailable_IsAWarningWithTheReason_OtherRefusals_AreNotLogged()
    {
        var port = new FakeReviewClient { Answer = _ => TokenReviewResult.Unavailable("HTTP 500") };
        var behavior = new TokenReviewBehavior(Opt.Of(o => o.ValidateToken = true), port, Logger<TokenReviewBehavior>());
        await behavior.Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate);
        _logs.Entries.Should().Equal((LogLevel.Warning, new EventId(1002, "PeerUnavailable"), "Stage TokenReview could not reach its peer: HTTP 500."));

        port.Answer = _ => TokenReviewResult.NotAuthenticated("no");
        await behavior.Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate);
        port.Answer = _ => TokenReviewResult.UnknownTarget("unknown");
        await behavior.Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate);
        _logs.Entries.Should().HaveCount(1);
    }

    public static TheoryData<string> CallStages => new() { "TokenReview", "ToolScopes" };

    private IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome> CallStage(string stage) => stage == "TokenReview"
        ? new TokenReviewBehavior(Opt.Of(o => o.ValidateToken = true), new FakeReviewClient(), Logger<TokenReviewBehavior>())
        : new ToolScopesBehavior(Opt.Of(o => o.ToolScopes = new Dictionary<string, string[]> { ["admin-action"] = ["mcp:admin"] }), Logger<ToolScopesBehavior>());

    [Theory]
    [MemberData(nameof(CallStages))]
    public async Task CallsNotSupplied_IsAnErrorThatNamesTheFix(string stage)
    {
        var request = new AuthenticateRequest("Bearer " + Tokens.Create()).WithParsedToken();
        var outcome = await CallStage(stage).Handle(request, CancellationToken.None, new Next().Delegate);
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        _logs.Entries.Should().Equal((LogLevel.Error, new EventId(1006, "CallsNotSupplied"), string.Format(System.Globalization.CultureInfo.InvariantCulture, NotSuppliedTemplate, stage)));
    }

    [Theory]
    [MemberData(nameof(CallStages))]
    public async Task CallsRefused_IsADebugLine_AndKeepsTheBodysCode(string stage)
    {
        var source = new CountingCallSource(McpCallSet.Refused(AuthenticationErrorCode.RequestTooLarge, "The request body is too large.", "McpBody"));
        var request = new AuthenticateRequest("Bearer " + Tokens.Create(), source).WithParsedToken();
        var next = new Next();
        var outcome = await CallStage(stage).Handle(request, CancellationToken.None, next.Delegate);
        outcome.Error.Should().Be(new AuthenticationError(AuthenticationErrorCode.RequestTooLarge, "The request body is too large.", stage));
        next.Calls.Should().Be(0);
        source.Reads.Should().Be(1);
        _logs.Entries.Should().Equal((LogLevel.Debug, new EventId(1005, "CallsUnusable"), $"Stage {stage} could not use the request's calls: Refused."));
    }

    [Fact]
    public async Task Handler_Success_IsADebugLineWithTheTokenHashNotTheToken()
    {
        var request = Tokens.Parsed();
        var outcome = await new AuthenticateRequestHandler(Logger<AuthenticateRequestHandler>()).Handle(request, CancellationToken.None);
        outcome.Succeeded.Should().BeTrue();
        var raw = request.State.RawToken!;
        _logs.Entries.Should().Equal((LogLevel.Debug, new EventId(1004, "Accepted"),
            $"Token {AuthenticateRequestHandler.TokenHash(raw)} accepted for subject alice (exchanged: False)."));
        _logs.Entries[0].Message.Should().NotContain(raw);
    }
}
