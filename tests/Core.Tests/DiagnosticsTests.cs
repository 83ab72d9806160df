using McpAuth.Ports;

namespace McpAuth.Core.Tests;

public class DiagnosticsTests
{
    [Fact]
    public async Task EnabledStages_EachHaveASpanWithTheOutcome_DisabledStagesNone()
    {
        using var recorder = new SpanRecorder();
        var pipeline = TestPipeline.Build(o => o.RequiredScopes = ["read"]);
        (await pipeline.Send(Tokens.Create())).Succeeded.Should().BeTrue();
        recorder.Spans.Should().Equal(
            ("McpAuth.ParseBearerToken", "passed"), ("McpAuth.OfflineValidation", "passed"),
            ("McpAuth.OidcProviderValidation", "passed"), ("McpAuth.RequiredScopes", "passed"));
    }

    [Fact]
    public async Task RepeatedToken_CacheSpanSaysCached_AndARefusalIsTaggedWithItsCode()
    {
        using var recorder = new SpanRecorder();
        var pipeline = TestPipeline.Build();
        var token = Tokens.Create();
        var expired = Tokens.Create(Tokens.Valid(("exp", Tokens.Now.AddHours(-1).ToUnixTimeSeconds())));
        await pipeline.Send(token);
        await pipeline.Send(token);
        await pipeline.Send(expired);
        recorder.Spans.Should().Equal(
            ("McpAuth.ParseBearerToken", "passed"), ("McpAuth.OfflineValidation", "passed"), ("McpAuth.OidcProviderValidation", "passed"),
            ("McpAuth.ValidatedTokenCache", "cached"), ("McpAuth.OfflineValidation", "passed"),
            ("McpAuth.ParseBearerToken", "passed"), ("McpAuth.OfflineValidation", "InvalidToken"));
    }

    [Fact]
    public async Task EveryStage_HasItsSpan_WhenAllAreOn()
    {
        using var recorder = new SpanRecorder();
        var pipeline = TestPipeline.Build(o =>
        {
            TestPipeline.Everything(o);
            o.RequiredScopes = ["read"];
            o.ToolScopes = new Dictionary<string, string[]> { ["admin-action"] = ["write"] };
        });
        (await pipeline.Send(Tokens.Create())).Succeeded.Should().BeTrue();
        recorder.Spans.Select(s => s.Name).Should().Equal(
            "McpAuth.ParseBearerToken", "McpAuth.OfflineValidation", "McpAuth.OidcProviderValidation", "McpAuth.TokenExchange",
            "McpAuth.TokenReview", "McpAuth.RequiredScopes", "McpAuth.ToolScopes");
        recorder.Spans.Should().OnlyContain(s => s.Outcome == "passed");
    }

    [Fact]
    public async Task IssuerDown_IssuerSpanIsTaggedUnavailable()
    {
        using var recorder = new SpanRecorder();
        var pipeline = TestPipeline.Build();
        pipeline.Oidc.Result = OidcValidationResult.Unavailable("down");
        var outcome = await pipeline.Send(Tokens.Create());
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        recorder.Spans.Should().EndWith(("McpAuth.OidcProviderValidation", "Unavailable"));
    }
}
