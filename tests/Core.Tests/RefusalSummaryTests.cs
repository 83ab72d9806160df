using McpAuth.Behaviors;
using McpAuth.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace McpAuth.Core.Tests;

/// <summary>Refusals are counted and summarized in one log line per interval, never one line per request.</summary>
public class RefusalSummaryTests
{
    private const int SummaryEvent = 1020;

    private static (RefusalSummary Summary, FakeTimeProvider Clock, LogCapture Logs) Create(TimeSpan interval)
    {
        var clock = Opt.Clock();
        var logs = new LogCapture();
        var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        var summary = new RefusalSummary(clock, factory.CreateLogger<RefusalSummary>(), Opt.Of(o => o.RefusalLogInterval = interval));
        return (summary, clock, logs);
    }

    private static AuthenticationError Error(string stage, AuthenticationErrorCode code) => new(code, "refused", stage);

    private static List<string> Summaries(LogCapture logs) =>
        logs.Entries.Where(e => e.Id.Id == SummaryEvent).Select(e => e.Message).ToList();

    [Fact]
    public void Record_WithinTheInterval_LogsNothing_AtTheIntervalTheTimerLogsOneSortedLine()
    {
        var (summary, clock, logs) = Create(TimeSpan.FromMinutes(1));

        // Recorded out of order: the line sorts by stage (ordinal), then by code.
        summary.Record(Error("ParseBearerToken", AuthenticationErrorCode.InvalidToken));
        summary.Record(Error("OfflineValidation", AuthenticationErrorCode.Unavailable));
        summary.Record(Error("OfflineValidation", AuthenticationErrorCode.InvalidToken));
        summary.Record(Error("OfflineValidation", AuthenticationErrorCode.InvalidToken));
        clock.Advance(TimeSpan.FromMinutes(1) - TimeSpan.FromTicks(1));
        summary.Record(Error("ParseBearerToken", AuthenticationErrorCode.InvalidToken));
        Summaries(logs).Should().BeEmpty("the interval has not passed yet");

        clock.Advance(TimeSpan.FromTicks(1)); // no further refusal needed: the timer writes the line

        var entry = logs.Entries.Should().ContainSingle(e => e.Id.Id == SummaryEvent).Subject;
        entry.Level.Should().Be(LogLevel.Information);
        entry.Message.Should().Be(
            "Refused 5 request(s) in the last 60 s: OfflineValidation/InvalidToken=2, OfflineValidation/Unavailable=1, " +
            "ParseBearerToken/InvalidToken=2.");
    }

    [Fact]
    public void Flush_ResetsTheCounts_AQuietIntervalWritesNothing_ThenOnlyWhatCameSince()
    {
        var (summary, clock, logs) = Create(TimeSpan.FromMinutes(1));
        summary.Record(Error("ParseBearerToken", AuthenticationErrorCode.InvalidToken));
        clock.Advance(TimeSpan.FromSeconds(60));
        Summaries(logs).Should().Equal("Refused 1 request(s) in the last 60 s: ParseBearerToken/InvalidToken=1.");

        clock.Advance(TimeSpan.FromSeconds(60));
        Summaries(logs).Should().HaveCount(1, "nothing was refused in the second minute");

        summary.Record(Error("OfflineValidation", AuthenticationErrorCode.InvalidToken));
        summary.Record(Error("OfflineValidation", AuthenticationErrorCode.InvalidToken));
        clock.Advance(TimeSpan.FromSeconds(60));
        Summaries(logs).Should().Equal(
            "Refused 1 request(s) in the last 60 s: ParseBearerToken/InvalidToken=1.",
            "Refused 2 request(s) in the last 60 s: OfflineValidation/InvalidToken=2.");
    }

    [Fact]
    public void Dispose_WritesWhatIsPending_AndStopsTheTimer()
    {
        var (summary, clock, logs) = Create(TimeSpan.FromMinutes(1));
        summary.Record(Error("ParseBearerToken", AuthenticationErrorCode.InvalidToken));
        summary.RecordNoCredentials();
        clock.Advance(TimeSpan.FromSeconds(20));

        summary.Dispose();
        clock.Advance(TimeSpan.FromMinutes(5));

        Summaries(logs).Should().Equal("Refused 2 request(s) in the last 20 s: ParseBearerToken/InvalidToken=1, NoCredentials=1.");
    }

    [Theory]
    [InlineData("Zero", 0)]
    [InlineData("HalfASecond", 500)]
    public void Interval_ShorterThanOneSecond_IsOneSecond(string name, int milliseconds)
    {
        var (summary, clock, logs) = Create(TimeSpan.FromMilliseconds(milliseconds));
        summary.Record(Error("ParseBearerToken", AuthenticationErrorCode.InvalidToken));
        clock.Advance(TimeSpan.FromMilliseconds(999));
        summary.Record(Error("ParseBearerToken", AuthenticationErrorCode.InvalidToken));
        Summaries(logs).Should().BeEmpty(name);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Summaries(logs).Should().Equal(["Refused 2 request(s) in the last 1 s: ParseBearerToken/InvalidToken=2."], name);
    }

    [Fact]
    public void Record_Null_Throws()
    {
        var (summary, _, _) = Create(TimeSpan.FromMinutes(1));
        var act = () => summary.Record(null!);
        act.Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public async Task Guard_RecordsEveryRefusal_SyncAsyncAndFaults_ButNoSuccess()
    {
        var (summary, clock, logs) = Create(TimeSpan.FromMinutes(1));
        var guard = new ExceptionGuardBehavior(Opt.Log<ExceptionGuardBehavior>(), summary);
        var refused = AuthenticationOutcome.Failure(AuthenticationErrorCode.InvalidToken, "no", "OfflineValidation");

        (await guard.Handle(Tokens.Parsed(), CancellationToken.None, () => Task.FromResult(refused))).Should().BeSameAs(refused);
        (await guard.Handle(Tokens.Parsed(), CancellationToken.None, async () =>
        {
            await Task.Yield();
            return refused;
        })).Should().BeSameAs(refused);
        (await guard.Handle(Tokens.Parsed(), CancellationToken.None, () => throw new InvalidOperationException("boom"))).Error!.Stage.Should().Be("ExceptionGuard");
        (await guard.Handle(Tokens.Parsed(), CancellationToken.None, async () =>
        {
            await Task.Yield();
            throw new InvalidOperationException("boom");
        })).Error!.Stage.Should().Be("ExceptionGuard");
        (await guard.Handle(Tokens.Parsed(), CancellationToken.None, new Next().Delegate)).Should().BeSameAs(Next.Passed);
        (await guard.Handle(Tokens.Parsed(), CancellationToken.None, () => Task.FromResult(AuthenticationOutcome.NoCredentials)))
            .Should().BeSameAs(AuthenticationOutcome.NoCredentials);
        Summaries(logs).Should().BeEmpty();

        clock.Advance(TimeSpan.FromMinutes(1));
        Summaries(logs).Should().Equal("Refused 5 request(s) in the last 60 s: ExceptionGuard/Unavailable=2, OfflineValidation/InvalidToken=2, NoCredentials=1.");
    }

    [Fact]
    public async Task Guard_Fault_IsLoggedAsAnErrorWithTheExceptionType()
    {
        var logs = new LogCapture();
        var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        var guard = new ExceptionGuardBehavior(factory.CreateLogger<ExceptionGuardBehavior>());
        await guard.Handle(Tokens.Parsed(), CancellationToken.None, () => throw new InvalidOperationException("secret-ish detail"));
        var entry = logs.Entries.Should().ContainSingle().Subject;
        entry.Level.Should().Be(LogLevel.Error);
        entry.Id.Id.Should().Be(1003);
        entry.Message.Should().Be("Unexpected InvalidOperationException in the authentication pipeline; answering Unavailable.");
    }
}
