using System.Text.Json;
using McpAuth.TestPeers;
using Xunit.Abstractions;

namespace McpAuth.Host.Tests.Demo;

/// <summary>
/// The MCP Inspector (npm @modelcontextprotocol/inspector, its web UI) in headless Chromium against <c>--demo</c>, as a
/// newcomer uses it: connect, click Allow on the consent page, list the tools, call whoami; then admin-action, accept
/// the Inspector's step-up prompt, click Allow again. tests/peers/inspector-driver.mjs drives the browser
/// (playwright-core with Debian's chromium) and takes the screenshots.
/// </summary>
public sealed class InspectorTests(ITestOutputHelper output)
{
    [ChromiumFact]
    public async Task Inspector_ConnectsThroughTheConsentPage_CallsWhoAmI_AndStepsUpForAdminAction()
    {
        await using var demo = await DemoHost.StartAsync([]);
        var shots = Path.Combine(Repo.Root, "TestResults", "inspector");
        var result = await TypeScriptClientOAuthTests.RunAsync("inspector-driver.mjs",
            new() { ["MCP_URL"] = demo.Resource, ["SCREENSHOT_DIR"] = shots, ["CHROMIUM"] = ChromiumFactAttribute.Chromium }, output, timeoutSeconds: 180);
        output.WriteLine(result.ToString());

        result.TryGetProperty("error", out var error).Should().BeFalse(error.ToString());
        var steps = result.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        var consent = steps["consent"];
        consent.GetProperty("heading").GetString().Should().Be("Allow MCP Inspector to act as demo-user with scopes mcp:read offline_access?");
        consent.GetProperty("url").GetString().Should().Be(demo.Issuer + "/authorize");
        consent.GetProperty("codeChallengeMethod").GetString().Should().Be("S256");
        consent.GetProperty("resource").GetString().Should().Be(demo.Resource);
        steps["tools listed"].GetProperty("tools").EnumerateArray().Select(t => t.GetString()).Should().Equal("whoami", "admin-action");

        var whoami = result.GetProperty("whoami");
        whoami.GetProperty("subject").GetString().Should().Be("demo-user");
        whoami.GetProperty("issuer").GetString().Should().Be(demo.Issuer);
        whoami.GetProperty("audiences").EnumerateArray().Select(a => a.GetString()).Should().Equal(demo.Resource);

        steps["step-up prompt"].GetProperty("prompt").GetString().Should().Contain("mcp:admin");
        steps["step-up-consent"].GetProperty("scope").GetString()!.Split(' ').Should().Contain(["mcp:read", "mcp:admin"]);
        result.GetProperty("admin").GetProperty("scopes").EnumerateArray().Select(s => s.GetString()).Should().Contain("mcp:admin");

        foreach (var shot in new[] { "consent", "whoami", "step-up-consent", "admin-action" })
        {
            var path = result.GetProperty("screenshots").GetProperty(shot).GetString()!;
            output.WriteLine($"screenshot {shot}: {path}");
            var bytes = await File.ReadAllBytesAsync(path);
            bytes.Length.Should().BeGreaterThan(10_000, shot);
            bytes.Take(8).Should().Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, "{0} is a PNG", shot);
        }
    }
}

/// <summary>
/// A test that needs a browser: Debian's chromium at /usr/bin/chromium (CHROMIUM overrides). Skipped on a developer's
/// machine without it; on CI (CI=true) it runs, and fails if the browser is missing (.ci/run installs it).
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public static readonly string Chromium = Environment.GetEnvironmentVariable("CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(Chromium) && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = $"needs {Chromium} (apt-get install -y chromium); CI installs it and runs this test.";
        }
    }
}
