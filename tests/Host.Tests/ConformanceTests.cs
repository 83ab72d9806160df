using System.Diagnostics;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Builder;

namespace McpAuth.Host.Tests;

/// <summary>
/// The official <c>@modelcontextprotocol/conformance</c> server suite against the host on Kestrel, with the committed
/// baseline (tests/peers/conformance-baseline.yml) of scenarios that need fixtures this server does not have. The
/// suite's client sends no bearer token, so the host runs with RequireOAuth off here; the Host/Origin (DNS-rebinding)
/// checks are on, as in every configuration. Authentication conformance is covered by the host and end-to-end tests.
/// </summary>
public sealed class ConformanceTests
{
    [Fact]
    public async Task ServerSuite_OnlyBaselinedScenariosFail()
    {
        var port = Repo.FreePort();
        var result = McpAuthHost.Build(["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await using var app = result.App!;
        await app.StartAsync();

        var info = new ProcessStartInfo(Repo.Node) { WorkingDirectory = Repo.Peers, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[]
                 {
                     "node_modules/@modelcontextprotocol/conformance/dist/index.js", "server", "--url", $"http://127.0.0.1:{port}/mcp",
                     "--expected-failures", "conformance-baseline.yml",
                 })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var exited = await Task.WhenAny(process.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(3))) is { IsCompletedSuccessfully: true } && process.HasExited;
        if (!exited)
        {
            process.Kill(entireProcessTree: true);
        }

        var output = await stdout + await stderr;
        exited.Should().BeTrue("the suite finishes within 3 minutes");
        output.Should().Contain("✓ server-initialize").And.Contain("✓ tools-list").And.Contain("✓ dns-rebinding-protection");
        output.Should().Contain("Baseline check passed");
        process.ExitCode.Should().Be(0, output);
    }
}
