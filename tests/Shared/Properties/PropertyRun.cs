using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using FsCheck;
using Microsoft.FSharp.Core;
using Xunit.Abstractions;
using Xunit.Sdk;

// Shared by the property tests of Core.Tests and AspNetCore.Tests (linked into both projects).
namespace McpAuth.Tests.Properties;

/// <summary>
/// Runs one FsCheck property inside a <c>[Fact]</c> with a bounded number of cases, or, when the environment variable
/// <c>MCPAUTH_FUZZ_CASES</c> is set, with that many (fuzz mode, <c>scripts/fuzz.sh</c>). Each run writes a line (name,
/// cases, seconds) and the distribution of the cases' labels to the test output and, when <c>MCPAUTH_FUZZ_REPORT</c>
/// names a file, appends them there. A failure throws with FsCheck's report: the original and the shrunk
/// counterexample, and the seed to replay it with <c>MCPAUTH_FUZZ_REPLAY="seed,gamma[,size]"</c>.
/// </summary>
internal static class PropertyRun
{
    public const string CasesVariable = "MCPAUTH_FUZZ_CASES";
    public const string ReportVariable = "MCPAUTH_FUZZ_REPORT";
    public const string ReplayVariable = "MCPAUTH_FUZZ_REPLAY";

    private static readonly Lock ReportLock = new();

    /// <summary>The fuzz-mode case count, or null in a normal run.</summary>
    public static int? FuzzCases =>
        int.TryParse(Environment.GetEnvironmentVariable(CasesVariable), out var n) && n > 0 ? n : null;

    /// <summary>The number of cases: <paramref name="normal"/> in a normal run, <c>MCPAUTH_FUZZ_CASES / fuzzDivisor</c> in fuzz mode.</summary>
    public static int Cases(int normal, int fuzzDivisor = 1) => FuzzCases is { } n ? Math.Max(1, n / fuzzDivisor) : normal;

    /// <summary>Checks <paramref name="property"/>; throws with the (shrunk) counterexample when it fails.</summary>
    public static void Check(
        ITestOutputHelper output, Property property, int normalCases, int fuzzDivisor = 1,
        [CallerMemberName] string method = "", [CallerFilePath] string file = "")
    {
        var name = $"{Path.GetFileNameWithoutExtension(file)}.{method}";
        var cases = Cases(normalCases, fuzzDivisor);
        var runner = new RecordingRunner();
        var config = Config.Quick
            .WithMaxTest(cases)
            .WithMaxRejected(Math.Max(1000, cases))
            .WithName(name)
            .WithRunner(runner);
        if (Replay() is { } replay)
        {
            config = config.WithReplay(FSharpOption<FsCheck.Replay>.Some(replay));
        }

        var clock = Stopwatch.StartNew();
        FsCheck.Check.One(config, property);
        clock.Stop();

        var result = runner.Result ?? throw new XunitException($"{name}: FsCheck reported no result.");
        var data = result switch
        {
            TestResult.Passed p => p.Item1,
            TestResult.Failed f => f.Item1,
            TestResult.Exhausted e => e.Item,
            _ => throw new XunitException($"{name}: unknown FsCheck result {result}"),
        };
        var ran = data.NumberOfTests;
        var status = result.IsPassed ? "passed" : result.IsFailed ? "FAILED" : "EXHAUSTED";
        var line = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"PROPERTY {name}: {ran} cases in {clock.Elapsed.TotalSeconds:0.00} s ({status}; budget {cases})");
        var distribution = data.Stamps
            .Select(s => (Percent: s.Item1, Label: string.Join(", ", s.Item2)))
            .OrderByDescending(s => s.Percent)
            .Select(s => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"    {s.Percent,3}% {s.Label}"));
        var report = string.Join(Environment.NewLine, distribution.Prepend(line));
        output.WriteLine(report);
        AppendReport(report);
        if (!result.IsPassed)
        {
            throw new XunitException(Runner.onFinishedToString(name, result));
        }
    }

    /// <summary>A printable, bounded rendering of a generated value for counterexamples.</summary>
    public static string Show(string? value, int max = 300)
    {
        if (value is null)
        {
            return "null";
        }

        var text = new StringBuilder("\"");
        foreach (var c in value.Length > max ? value[..max] : value)
        {
            text.Append(c is >= ' ' and <= '~' and not '"' and not '\\' ? c.ToString() : $"\\u{(int)c:X4}");
        }

        text.Append('"');
        if (value.Length > max)
        {
            text.Append($"…(+{value.Length - max} chars)");
        }

        return text.ToString();
    }

    private static FsCheck.Replay? Replay()
    {
        // As FsCheck prints it: "(seed,gamma)" or, to replay only the failing step, "(seed,gamma,size)".
        var parts = Environment.GetEnvironmentVariable(ReplayVariable)?.Trim('(', ')', ' ').Split(',', StringSplitOptions.TrimEntries);
        if (parts is not { Length: 2 or 3 } || !ulong.TryParse(parts[0], out var seed) || !ulong.TryParse(parts[1], out var gamma))
        {
            return null;
        }

        var size = parts.Length == 3 && int.TryParse(parts[2], out var s) ? FSharpOption<int>.Some(s) : FSharpOption<int>.None;
        return new FsCheck.Replay(new Rnd(seed, gamma), size);
    }

    private static void AppendReport(string line)
    {
        var path = Environment.GetEnvironmentVariable(ReportVariable);
        if (string.IsNullOrEmpty(path))
        {
            return;
        }

        lock (ReportLock)
        {
            File.AppendAllText(path, line + Environment.NewLine);
        }
    }

    private sealed class RecordingRunner : IRunner
    {
        public TestResult? Result { get; private set; }

        public void OnStartFixture(Type t)
        {
        }

        public void OnArguments(int ntest, Microsoft.FSharp.Collections.FSharpList<object> args, FSharpFunc<int, FSharpFunc<Microsoft.FSharp.Collections.FSharpList<object>, string>> every)
        {
        }

        public void OnShrink(Microsoft.FSharp.Collections.FSharpList<object> args, FSharpFunc<Microsoft.FSharp.Collections.FSharpList<object>, string> everyShrink)
        {
        }

        public void OnFinished(string name, TestResult testResult) => Result = testResult;
    }
}

/// <summary>A property's assertion: throws (and so fails the case) with a message FsCheck reports.</summary>
internal static class Expect
{
    public static void That(bool condition, string message)
    {
        if (!condition)
        {
            throw new PropertyViolationException(message);
        }
    }
}

/// <summary>A property did not hold for a case.</summary>
internal sealed class PropertyViolationException(string message) : Exception(message);
