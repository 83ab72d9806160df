using McpAuth.Behaviors;

namespace McpAuth.Core.Tests;

/// <summary>
/// The exact edges of the offline checks with the default 60 s skew: a token expires at <c>exp + skew</c> (that instant
/// included), and <c>nbf</c>/<c>iat</c> up to <c>now + skew</c> (that instant included) are accepted.
/// </summary>
public class OfflineValidationBoundaryTests
{
    private static long At(int seconds) => Tokens.Now.AddSeconds(seconds).ToUnixTimeSeconds();

    private static async Task<(AuthenticationOutcome Outcome, int NextCalls)> Run(Dictionary<string, object> claims, Action<McpAuthOptions>? configure = null)
    {
        var next = new Next();
        var outcome = await new OfflineValidationBehavior(Opt.Of(configure), Opt.Clock()).Handle(Tokens.Parsed(claims), CancellationToken.None, next.Delegate);
        return (outcome, next.Calls);
    }

    public static TheoryData<string, string, int, string?> Rows => new()
    {
        { "ExpExactlyAtNowMinusSkew", "exp", -60, "The token has expired." },
        { "ExpOneSecondInsideSkew", "exp", -59, null },
        { "NbfExactlyAtNowPlusSkew", "nbf", 60, null },
        { "NbfOneSecondPastSkew", "nbf", 61, "The token is not valid yet." },
        { "IatExactlyAtNowPlusSkew", "iat", 60, null },
        { "IatOneSecondPastSkew", "iat", 61, "The token was issued in the future." },
        { "IatWithinSkew", "iat", 30, null },
        { "IatInThePast", "iat", -3600, null },
        { "NbfInThePast", "nbf", -3600, null },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Handle_LifetimeEdges(string name, string claim, int seconds, string? error)
    {
        var (outcome, nextCalls) = await Run(Tokens.Valid((claim, At(seconds))));
        if (error is null)
        {
            outcome.Should().BeSameAs(Next.Passed, name);
            nextCalls.Should().Be(1, name);
        }
        else
        {
            outcome.Error.Should().Be(new AuthenticationError(AuthenticationErrorCode.InvalidToken, error, "OfflineValidation"), name);
            nextCalls.Should().Be(0, name);
        }
    }

    [Theory]
    [InlineData("ExpIsNow", "exp", 0, "The token has expired.")]
    [InlineData("ExpOneSecondAhead", "exp", 1, null)]
    [InlineData("NbfIsNow", "nbf", 0, null)]
    [InlineData("NbfOneSecondAhead", "nbf", 1, "The token is not valid yet.")]
    [InlineData("IatIsNow", "iat", 0, null)]
    [InlineData("IatOneSecondAhead", "iat", 1, "The token was issued in the future.")]
    public async Task Handle_ZeroSkew_EdgesAreNowItself(string name, string claim, int seconds, string? error)
    {
        var (outcome, _) = await Run(Tokens.Valid((claim, At(seconds))), o => o.ClockSkew = TimeSpan.Zero);
        outcome.Error?.Description.Should().Be(error, name);
        outcome.Succeeded.Should().Be(error is null, name);
    }

    [Fact]
    public async Task Handle_ExpiredAndWrongAudience_ReportsTheExpiryFirst()
    {
        var (outcome, _) = await Run(Tokens.Valid(("exp", At(-3600)), ("nbf", At(3600)), ("aud", "other")), o => o.Audience = "mcp-server");
        outcome.Error!.Description.Should().Be("The token has expired.");
    }

    [Fact]
    public async Task Handle_NotYetValidAndIssuedInTheFuture_ReportsNbfFirst()
    {
        var (outcome, _) = await Run(Tokens.Valid(("nbf", At(3600)), ("iat", At(3600))));
        outcome.Error!.Description.Should().Be("The token is not valid yet.");
    }

    [Fact]
    public async Task Handle_EmptyConfiguredAudience_MeansNoAudienceCheck()
    {
        var (outcome, nextCalls) = await Run(Tokens.Valid(("aud", "another-api")), o => o.Audience = string.Empty);
        outcome.Should().BeSameAs(Next.Passed);
        nextCalls.Should().Be(1);
    }

    [Fact]
    public async Task Handle_Pass_TagsTheSpanPassed_AndTheSpanEndsBeforeNext()
    {
        using var recorder = new SpanRecorder();
        var spansWhenNextRan = -1;
        var request = Tokens.Parsed();
        await new OfflineValidationBehavior(Opt.Of(), Opt.Clock()).Handle(request, CancellationToken.None, () =>
        {
            spansWhenNextRan = recorder.Spans.Count;
            return Task.FromResult(Next.Passed);
        });
        spansWhenNextRan.Should().Be(1, "the stage's span covers its own work only");
        recorder.Spans.Should().Equal(("McpAuth.OfflineValidation", "passed"));
    }
}
