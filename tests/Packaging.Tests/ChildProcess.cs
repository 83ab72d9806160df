using System.Diagnostics;
using System.Text;

namespace McpAuth.Packaging.Tests;

/// <summary>The result of a finished child process: its exit code and its stdout and stderr, interleaved.</summary>
public sealed record ProcessResult(string Command, int ExitCode, string Output, TimeSpan Duration, bool TimedOut)
{
    /// <summary>For assertion messages: the command, how it ended, and its output.</summary>
    public string Describe() =>
        $"`{Command}` {(TimedOut ? "timed out" : "exited " + ExitCode)} after {Duration.TotalSeconds:0.0} s. Output:\n{Output}";
}

/// <summary>
/// Runs child processes (the dotnet CLI, the consumer app) with their output captured. The environment is the test
/// process's, minus the variables that the test host's own MSBuild and VSTest set, so a child build or test run behaves
/// as if started from a shell.
/// </summary>
public static class ChildProcess
{
    public static ProcessStartInfo StartInfo(string fileName, string workingDirectory, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var name in info.Environment.Keys.ToList())
        {
            if (name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || name.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("TESTINGPLATFORM", StringComparison.OrdinalIgnoreCase))
            {
                info.Environment.Remove(name);
            }
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        info.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        return info;
    }

    /// <summary>
    /// <c>dotnet &lt;arguments&gt;</c> in <paramref name="workingDirectory"/>, to the end or until <paramref name="timeout"/>
    /// (then the whole process tree is killed). Build servers are the caller's to disable (<c>--disable-build-servers</c>),
    /// so no MSBuild node or compiler server outlives the test.
    /// </summary>
    public static Task<ProcessResult> DotNetAsync(string workingDirectory, IEnumerable<string> arguments, TimeSpan timeout, IDictionary<string, string>? environment = null) =>
        RunAsync(StartInfo("dotnet", workingDirectory, arguments, environment), timeout);

    public static async Task<ProcessResult> RunAsync(ProcessStartInfo info, TimeSpan timeout)
    {
        var command = info.FileName + " " + string.Join(' ', info.ArgumentList);
        var output = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cancel = new CancellationTokenSource(timeout);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = true;
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        lock (output)
        {
            return new ProcessResult(command, timedOut ? -1 : process.ExitCode, output.ToString(), clock.Elapsed, timedOut);
        }
    }

    internal static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
