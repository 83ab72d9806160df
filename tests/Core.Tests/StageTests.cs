using System.Diagnostics.Metrics;
using McpAuth.Behaviors;
using McpAuth.Diagnostics;
using MediatR;
using Microsoft.Extensions.DependencyInjection;

namespace McpAuth.Core.Tests;

public class StageNameTests
{
    private sealed class TenantCheckBehavior;

    private sealed class Behavior;

    private sealed class AuditStage;

    private sealed class GenericBehavior<T>;

    [Fact]
    public void Of_BuiltInStages_IsTheTypeNameWithoutBehavior()
    {
        McpAuthServiceCollectionExtensions.DefaultStages.Select(StageName.Of).Should().Equal(
            "ExceptionGuard", "ValidatedTokenCache", "ParseBearerToken", "Introspection", "OfflineValidation", "OidcProviderValidation", "Dpop",
            "TokenExchange", "TokenReview", "RequiredScopes", "ToolScopes");
    }

    [Fact]
    public void Of_GenericAndNonGenericForms_Agree()
    {
        StageName.Of<OfflineValidationBehavior>().Should().Be("OfflineValidation");
        StageName.Of<TenantCheckBehavior>().Should().Be("TenantCheck");
        StageName.Of(typeof(TenantCheckBehavior)).Should().Be("TenantCheck");
    }

    [Theory]
    [InlineData(typeof(Behavior), "Behavior")]
    [InlineData(typeof(AuditStage), "AuditStage")]
    [InlineData(typeof(GenericBehavior<int>), "Generic")]
    [InlineData(typeof(GenericBehavior<>), "Generic")]
    public void Of_EdgeCases(Type type, string name)
    {
        StageName.Of(type).Should().Be(name);
    }

    [Fact]
    public void Of_Null_Throws()
    {
        var act = () => StageName.Of(null!);
        act.Should().Throw<ArgumentNullException>();
    }
}

public class StageScopeTests
{
    private sealed class TenantCheckBehavior;

    [Fact]
    public void Begin_NamesTheScopeAfterTheStage()
    {
        using var scope = StageScope.Begin<TenantCheckBehavior>();
        scope.Name.Should().Be("TenantCheck");
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void Begin_WithoutAName_Throws(string? name)
    {
        var act = () => StageScope.Begin(name!);
        act.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Fail_ReturnsAFailureDecidedByThisStage()
    {
        using var scope = StageScope.Begin<TenantCheckBehavior>();
        var outcome = scope.Fail(AuthenticationErrorCode.InsufficientScope, "Unknown tenant.", ["tenant:a"]);
        outcome.Kind.Should().Be(AuthenticationOutcomeKind.Failure);
        outcome.Succeeded.Should().BeFalse();
        outcome.Principal.Should().BeNull();
        outcome.Error.Should().Be(new AuthenticationError(AuthenticationErrorCode.InsufficientScope, "Unknown tenant.", "TenantCheck", outcome.Error!.RequiredScopes));
        outcome.Error.RequiredScopes.Should().Equal("tenant:a");
        outcome.ToString().Should().Be("Failure(InsufficientScope at TenantCheck: Unknown tenant.)");
    }

    [Fact]
    public void Fail_WithAnotherComponentsError_TakesThisStagesName()
    {
        using var scope = StageScope.Begin("Mine");
        var outcome = scope.Fail(new AuthenticationError(AuthenticationErrorCode.RequestTooLarge, "too big", "McpBody", ["x"]));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.RequestTooLarge);
        outcome.Error.Description.Should().Be("too big");
        outcome.Error.Stage.Should().Be("Mine");
        outcome.Error.RequiredScopes.Should().Equal("x");
    }

    [Fact]
    public void FailUnlessRead_ReadCalls_IsNull()
    {
        using var scope = StageScope.Begin("Mine");
        scope.FailUnlessRead(McpCallSet.None).Should().BeNull();
        scope.FailUnlessRead(McpCallSet.Of([new McpCall("tools/call", "x", "prod")])).Should().BeNull();
    }

    [Fact]
    public void FailUnlessRead_NotSupplied_IsUnavailable()
    {
        using var scope = StageScope.Begin("Mine");
        var outcome = scope.FailUnlessRead(McpCallSet.NotSupplied);
        outcome!.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        outcome.Error.Stage.Should().Be("Mine");
        outcome.Error.Description.Should().Be("The server cannot see this request's MCP calls, which its authorization needs; try again later.");
    }

    [Theory]
    [InlineData(AuthenticationErrorCode.InvalidRequest)]
    [InlineData(AuthenticationErrorCode.RequestTooLarge)]
    [InlineData(AuthenticationErrorCode.RequestTimeout)]
    public void FailUnlessRead_Refused_KeepsTheRefusalsCode(AuthenticationErrorCode code)
    {
        using var scope = StageScope.Begin("Mine");
        var outcome = scope.FailUnlessRead(McpCallSet.Refused(code, "The body was refused.", "McpBody"));
        outcome!.Error!.Code.Should().Be(code);
        outcome.Error.Description.Should().Be("The body was refused.");
        outcome.Error.Stage.Should().Be("Mine");
    }

    [Fact]
    public void Spans_CarryTheOutcomeTag_WhenSomeoneListens()
    {
        using var recorder = new SpanRecorder();
        using (var scope = StageScope.Begin<TenantCheckBehavior>())
        {
            scope.Pass();
        }

        using (var scope = StageScope.Begin("Lookup"))
        {
            scope.Pass("cached");
        }

        using (var scope = StageScope.Begin("Refuser"))
        {
            scope.Fail(AuthenticationErrorCode.InvalidToken, "no");
        }

        using (var scope = StageScope.Begin("Reader"))
        {
            scope.FailUnlessRead(McpCallSet.Refused(AuthenticationErrorCode.RequestTimeout, "slow", "McpBody"));
        }

        using (StageScope.Begin("Silent"))
        {
        }

        recorder.Spans.Should().Equal(
            ("McpAuth.TenantCheck", "passed"), ("McpAuth.Lookup", "cached"), ("McpAuth.Refuser", "InvalidToken"),
            ("McpAuth.Reader", "RequestTimeout"), ("McpAuth.Silent", null));
    }

    [Fact]
    public void Fail_CountsTheRefusal_ByOutcomeAndStage()
    {
        var stage = "Counted" + Guid.NewGuid().ToString("N");
        var seen = new List<(long Value, string? Outcome)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == McpAuthDiagnostics.Name && instrument.Name == "mcpauth.outcomes")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? outcome = null, tagStage = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "outcome")
                {
                    outcome = tag.Value as string;
                }
                else if (tag.Key == "stage")
                {
                    tagStage = tag.Value as string;
                }
            }

            if (tagStage == stage)
            {
                lock (seen)
                {
                    seen.Add((value, outcome));
                }
            }
        });
        listener.Start();

        using (var scope = StageScope.Begin(stage))
        {
            scope.Pass();
        }

        using (var scope = StageScope.Begin(stage))
        {
            scope.Fail(AuthenticationErrorCode.InsufficientScope, "no");
        }

        using (var scope = StageScope.Begin(stage))
        {
            scope.FailUnlessRead(McpCallSet.NotSupplied);
        }

        seen.Should().Equal((1L, "InsufficientScope"), (1L, "Unavailable"));
    }

    [Fact]
    public async Task GuardFault_HasAGuardSpanTaggedUnavailable()
    {
        using var recorder = new SpanRecorder();
        var guard = new ExceptionGuardBehavior(Opt.Log<ExceptionGuardBehavior>());
        RequestHandlerDelegate<AuthenticationOutcome> boom = () => throw new InvalidOperationException("boom");
        var outcome = await guard.Handle(Tokens.Parsed(), CancellationToken.None, boom);
        outcome.Error!.Stage.Should().Be("ExceptionGuard");
        recorder.Spans.Should().Equal(("McpAuth.ExceptionGuard", "Unavailable"));
    }
}
