using McpAuth.Behaviors;
using McpAuth.Ports;
using McpAuth.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace McpAuth.Core.Tests;

/// <summary>
/// What operators and clients read: the fail-closed default ports say which adapter is missing, the records that carry a
/// token print without it, and refusals without a reason from the adapter get a fixed, safe description.
/// </summary>
public class SafeDescriptionTests
{
    [Fact]
    public async Task DefaultPorts_FailClosed_AndTheWarningNamesTheMissingAdapter()
    {
        var logs = new LogCapture();
        var services = new ServiceCollection().AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        services.AddSingleton<TimeProvider>(Opt.Clock());
        services.AddMcpAuth(o =>
        {
            o.AuthorizationUrl = "https://issuer.test";
            o.Audience = "mcp-server";
            o.StsClientId = "c";
            o.StsAudience = "k8s";
            o.ValidateToken = true;
        });
        using var provider = services.BuildServiceProvider();
        var request = new AuthenticateRequest("Bearer " + Tokens.Create(), []).WithParsedToken();

        await provider.GetServices<MediatR.IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>>().OfType<OidcProviderValidationBehavior>().Single()
            .Handle(request, CancellationToken.None, new Next().Delegate);
        request.State.VerifiedByIssuer = true;
        await provider.GetServices<MediatR.IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>>().OfType<TokenExchangeBehavior>().Single()
            .Handle(request, CancellationToken.None, new Next().Delegate);
        var review = await provider.GetServices<MediatR.IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>>().OfType<TokenReviewBehavior>().Single()
            .Handle(request, CancellationToken.None, new Next().Delegate);

        review.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        logs.Entries.Where(e => e.Id.Id == 1002).Select(e => e.Message).Should().Equal(
            "Stage OidcProviderValidation could not reach its peer: No OIDC validator is registered (call AddOidcProvider()).",
            "Stage TokenExchange could not reach its peer: No token exchange client is registered (call AddTokenExchange()).",
            "Stage TokenReview could not reach its peer: No TokenReview client is registered (call AddKubernetesTokenReview()).");
    }

    [Fact]
    public void Records_ThatCarryATokenPrintWithoutIt()
    {
        TokenExchangeResult.Exchanged("secret-exchanged-token", Tokens.Now).ToString()
            .Should().Be($"TokenExchangeResult {{ Status = Accepted, ExpiresAt = {Tokens.Now}, Reason =  }}");
        TokenExchangeResult.Refused("invalid_grant").ToString()
            .Should().Be("TokenExchangeResult { Status = Rejected, ExpiresAt = , Reason = invalid_grant }");
        new TokenReviewRequest("prod", "secret-token", ["a", "b"]).ToString()
            .Should().Be("TokenReviewRequest { Target = prod, Audiences = [a, b] }");
        new TokenReviewRequest("", "secret-token", []).ToString()
            .Should().Be("TokenReviewRequest { Target = , Audiences = [] }");
    }

    [Fact]
    public async Task Review_UnknownTargetWithoutAReason_HasTheDefaultDescription()
    {
        var port = new FakeReviewClient { Answer = _ => new TokenReviewResult(PortStatus.InvalidRequest, null, [], null) };
        var outcome = await new TokenReviewBehavior(Opt.Of(o => o.ValidateToken = true), port, Opt.Log<TokenReviewBehavior>())
            .Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate);
        outcome.Error.Should().Be(new AuthenticationError(AuthenticationErrorCode.InvalidRequest, "The requested cluster is not known.", "TokenReview"));
    }

    [Fact]
    public async Task ForTarget_IsOneCallWithNoMethodAndNoTool()
    {
        var calls = await AuthenticateRequest.ForTarget("Bearer x", "prod").GetCallsAsync(CancellationToken.None);
        calls.Calls.Should().Equal(new McpCall(string.Empty, null, "prod"));
    }

    [Theory]
    [InlineData("ShorterThanTheScheme", "Bear")]
    [InlineData("OneLetter", "B")]
    [InlineData("Spaces", "   ")]
    [InlineData("ShortAfterTrim", "  Bea  ")]
    public void BearerToken_HeaderShorterThanTheScheme_IsNoBearerToken(string name, string header)
    {
        BearerToken.TryGet(header, out var token).Should().BeFalse(name);
        token.IsEmpty.Should().BeTrue(name);
    }

    [Fact]
    public void Scopes_NullOrBlankArrayElements_AreSkipped()
    {
        var token = ParsedToken.TryParse(Tokens.FromJson("{\"scope\":[null,\" \",\"read\"],\"scp\":[null,\"write\"]}"), 16 * 1024, out var error);
        error.Should().BeNull();
        token!.Scopes.Should().Equal("read", "write");
    }
}
