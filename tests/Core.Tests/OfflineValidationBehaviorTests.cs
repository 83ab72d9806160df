using McpAuth.Behaviors;

namespace McpAuth.Core.Tests;

public class OfflineValidationBehaviorTests
{
    private static async Task<(AuthenticationOutcome, Next)> Run(Dictionary<string, object> claims, Action<McpAuthOptions>? configure = null)
    {
        var behavior = new OfflineValidationBehavior(Opt.Of(configure), Opt.Clock());
        var next = new Next();
        var outcome = await behavior.Handle(Tokens.Parsed(claims), CancellationToken.None, next.Delegate);
        return (outcome, next);
    }

    private static long At(int seconds) => Tokens.Now.AddSeconds(seconds).ToUnixTimeSeconds();

    public static TheoryData<string, Dictionary<string, object>, string?> Rows => new()
    {
        { "Valid", Tokens.Valid(), null },
        { "Expired", Tokens.Valid(("exp", At(-61))), "The token has expired." },
        { "ExpiredWithinSkew", Tokens.Valid(("exp", At(-59))), null },
        { "NotYetValid", Tokens.Valid(("nbf", At(61))), "The token is not valid yet." },
        { "NotYetValidWithinSkew", Tokens.Valid(("nbf", At(59))), null },
        { "IssuedInFuture", Tokens.Valid(("iat", At(120))), "The token was issued in the future." },
        { "NoExp", Tokens.Without(Tokens.Valid(), "exp"), null },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Handle_LifetimeClaims_WithSixtySecondSkew(string name, Dictionary<string, object> claims, string? error)
    {
        var (outcome, next) = await Run(claims);
        if (error is null)
        {
            outcome.Should().BeSameAs(Next.Passed, name);
            next.Calls.Should().Be(1);
        }
        else
        {
            outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken, name);
            outcome.Error.Description.Should().Be(error);
            outcome.Error.Stage.Should().Be("OfflineValidation");
            next.Calls.Should().Be(0);
        }
    }

    [Fact]
    public async Task Handle_ConfiguredClockSkew_IsUsed()
    {
        var (outcome, _) = await Run(Tokens.Valid(("exp", At(-10))), o => o.ClockSkew = TimeSpan.FromSeconds(5));
        outcome.Error!.Description.Should().Be("The token has expired.");
    }

    public static TheoryData<string, object, string?, bool> AudienceRows => new()
    {
        { "NoAudienceConfigured", "anything", null, true },
        { "Match", "mcp-server", "mcp-server", true },
        { "AnyOfMany", new[] { "other", "mcp-server" }, "mcp-server", true },
        { "Mismatch", "other", "mcp-server", false },
        { "CaseDiffers", "MCP-SERVER", "mcp-server", false },
    };

    [Theory]
    [MemberData(nameof(AudienceRows))]
    public async Task Handle_Audience_AnyMatchWhenConfigured(string name, object aud, string? expected, bool accepted)
    {
        var (outcome, next) = await Run(Tokens.Valid(("aud", aud)), o => o.Audience = expected);
        outcome.Succeeded.Should().Be(accepted, name);
        next.Calls.Should().Be(accepted ? 1 : 0);
        if (!accepted)
        {
            outcome.Error!.Description.Should().Be("The token's audience does not match this server.");
        }
    }

    [Fact]
    public async Task Handle_NoTokenAudience_FailsWhenOneIsExpected()
    {
        var (outcome, _) = await Run(Tokens.Without(Tokens.Valid(), "aud"), o => o.Audience = "mcp-server");
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
    }

    [Fact]
    public async Task Handle_AudienceIsTheResourceUrl_MatchedExactly()
    {
        // ServerUrl → Audience derivation moved to the ASP.NET Core adapter; Core matches the audience it is given.
        var (accepted, _) = await Run(Tokens.Valid(("aud", "https://mcp.example.com/mcp")), o => o.Audience = "https://mcp.example.com/mcp");
        accepted.Succeeded.Should().BeTrue();
        var (refused, _) = await Run(Tokens.Valid(("aud", "mcp-server")), o => o.Audience = "https://mcp.example.com/mcp");
        refused.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        var (trailingSlash, _) = await Run(Tokens.Valid(("aud", "https://mcp.example.com/mcp/")), o => o.Audience = "https://mcp.example.com/mcp");
        trailingSlash.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
    }

    [Fact]
    public async Task Handle_AcceptAnyAudience_DoesNotCheckAudience()
    {
        var (outcome, next) = await Run(Tokens.Valid(("aud", "another-api")), o => { o.Audience = null; o.AcceptAnyAudience = true; });
        outcome.Should().BeSameAs(Next.Passed);
        next.Calls.Should().Be(1);
    }

    [Fact]
    public async Task Handle_NothingParsed_NoCredentialsWithoutCallingNext()
    {
        var next = new Next();
        var outcome = await new OfflineValidationBehavior(Opt.Of(), Opt.Clock())
            .Handle(new AuthenticateRequest("Bearer x"), CancellationToken.None, next.Delegate);
        outcome.Should().BeSameAs(AuthenticationOutcome.NoCredentials);
        next.Calls.Should().Be(0);
    }

    [Fact]
    public async Task Handle_ExpiredCachedToken_IsStillRefused()
    {
        // A token from the validated-token cache is marked verified: the offline checks must not trust that.
        var request = Tokens.Parsed(Tokens.Valid(("exp", At(-61))));
        request.State.VerifiedByIssuer = true;
        var next = new Next();
        var outcome = await new OfflineValidationBehavior(Opt.Of(), Opt.Clock()).Handle(request, CancellationToken.None, next.Delegate);
        outcome.Error!.Description.Should().Be("The token has expired.");
        next.Calls.Should().Be(0);
    }
}
