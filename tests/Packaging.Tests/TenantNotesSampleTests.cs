using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using McpAuth.TestPeers;
using Xunit.Abstractions;

namespace McpAuth.Packaging.Tests;

/// <summary>
/// samples/TenantNotes: a service that embeds McpAuth through package references only. It is not in McpAuth.sln (its
/// packages do not exist until packed), so these tests pack, put the packages where the sample's nuget.config looks
/// (artifacts/packages, as `dotnet pack -c Release -o artifacts/packages` would), and run the sample's own end-to-end
/// tests as a child `dotnet test`.
/// </summary>
[Collection(PackedCollection.Name)]
public sealed partial class TenantNotesSampleTests(PackedFeed feed, ITestOutputHelper output)
{
    private static readonly string Sample = Path.Combine(Repo.Root, "samples", "TenantNotes");

    [Fact]
    public void ProductCode_ReferencesMcpAuthByPackageOnly_AtTheRepositoryVersion()
    {
        var projects = Directory.GetFiles(Path.Combine(Sample, "src"), "*.csproj", SearchOption.AllDirectories);
        projects.Select(Path.GetFileNameWithoutExtension).Should().BeEquivalentTo(
            ["TenantNotes.Domain", "TenantNotes.Application", "TenantNotes.Adapters", "TenantNotes.Host"], "the sample is laid out as domain, application, adapters and host");
        foreach (var project in projects.Append(Path.Combine(Sample, "tests", "TenantNotes.Tests.csproj")))
        {
            foreach (var reference in XDocument.Load(project).Descendants("ProjectReference").Select(r => r.Attribute("Include")!.Value))
            {
                var target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, reference));
                target.Should().StartWith(Path.Combine(Sample, "src") + Path.DirectorySeparatorChar,
                    $"{Path.GetFileName(project)} may reference only the sample's own projects, not {reference}");
            }
        }

        var adapters = XDocument.Load(projects.Single(p => p.EndsWith("TenantNotes.Adapters.csproj", StringComparison.Ordinal)));
        adapters.Descendants("PackageReference").Select(r => r.Attribute("Include")!.Value).Should().Contain("McpAuth.AspNetCore");
        foreach (var inner in new[] { "TenantNotes.Domain", "TenantNotes.Application" })
        {
            XDocument.Load(projects.Single(p => p.EndsWith(inner + ".csproj", StringComparison.Ordinal))).Descendants("PackageReference")
                .Should().BeEmpty($"{inner} depends on no package (the dependency rule: McpAuth and MCP are adapters' business)");
        }

        var props = XDocument.Load(Path.Combine(Sample, "Directory.Build.props"));
        props.Descendants("McpAuthVersion").Single().Value.Should().Be(feed.Version,
            "the sample's default McpAuth version is the one the repository packs (Directory.Build.props)");
        var config = XDocument.Load(Path.Combine(Sample, "nuget.config"));
        var local = config.Descendants("packageSources").Elements("add").Single(a => a.Attribute("key")!.Value == "mcpauth-local");
        Path.GetFullPath(Path.Combine(Sample, local.Attribute("value")!.Value)).Should().Be(Path.Combine(Repo.Root, "artifacts", "packages"));
        config.Descendants("packageSource").Where(s => s.Elements("package").Any(p => p.Attribute("pattern")!.Value == "McpAuth.*"))
            .Select(s => s.Attribute("key")!.Value).Should().Equal("mcpauth-local");
    }

    [Fact]
    public async Task EndToEndTests_PassAgainstThePackedPackages()
    {
        var packages = Path.Combine(Repo.Root, "artifacts", "packages");
        Directory.CreateDirectory(packages);
        foreach (var file in Directory.GetFiles(feed.Feed))
        {
            File.Copy(file, Path.Combine(packages, Path.GetFileName(file)), overwrite: true);
        }

        var project = Path.Combine(Sample, "tests", "TenantNotes.Tests.csproj");
        var run = await ChildProcess.DotNetAsync(Repo.Root,
            ["test", project, $"-p:McpAuthVersion={feed.Version}", "--disable-build-servers", "-nologo"],
            TimeSpan.FromMinutes(8),
            new Dictionary<string, string> { ["NUGET_PACKAGES"] = feed.GlobalPackages });
        output.WriteLine($"dotnet test of the sample: {run.Duration.TotalSeconds:0.0} s");

        run.ExitCode.Should().Be(0, run.Describe());
        var summary = Summary().Matches(run.Output).Should().ContainSingle($"one test assembly reports its totals: {run.Describe()}").Subject;
        var facts = Directory.GetFiles(Path.Combine(Sample, "tests"), "*.cs").Sum(f => Regex.Matches(File.ReadAllText(f), @"\[Fact\b").Count);
        facts.Should().BePositive();
        int.Parse(summary.Groups["failed"].Value).Should().Be(0, run.Describe());
        int.Parse(summary.Groups["passed"].Value).Should().Be(facts, $"every [Fact] of the sample's tests passes: {run.Describe()}");
        int.Parse(summary.Groups["total"].Value).Should().Be(facts);

        // The sample ran against the packages just packed, restored from artifacts/packages (never a project reference).
        using var assets = JsonDocument.Parse(File.ReadAllText(Path.Combine(Sample, "src", "TenantNotes.Adapters", "obj", "project.assets.json")));
        var library = assets.RootElement.GetProperty("libraries").GetProperty($"McpAuth.AspNetCore/{feed.Version}");
        library.GetProperty("type").GetString().Should().Be("package");
        library.GetProperty("sha512").GetString().Should().Be(Convert.ToBase64String(SHA512.HashData(File.ReadAllBytes(feed.Nupkg("McpAuth.AspNetCore")))));
    }

    [GeneratedRegex(@"Failed:\s+(?<failed>\d+), Passed:\s+(?<passed>\d+), Skipped:\s+(?<skipped>\d+), Total:\s+(?<total>\d+)")]
    private static partial Regex Summary();
}
