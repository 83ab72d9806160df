using System.Diagnostics;
using System.Xml.Linq;
using McpAuth.TestPeers;

namespace McpAuth.Packaging.Tests;

/// <summary>
/// The four packages, packed once per test run (Release) into a fresh temporary folder feed, with a fresh NuGet global
/// packages folder for every restore that uses them: a package of the same version restored earlier (from an older
/// source tree) can never stand in for the one just packed. Everything lives under one temporary directory outside the
/// repository, deleted at the end.
/// </summary>
public sealed class PackedFeed : IAsyncLifetime
{
    /// <summary>The packed projects and their package ids.</summary>
    public static readonly (string Project, string Id)[] Packages =
    [
        ("src/Core", "McpAuth.Core"),
        ("src/Adapters/OpenIdConnect", "McpAuth.OpenIdConnect"),
        ("src/Adapters/Kubernetes", "McpAuth.Kubernetes"),
        ("src/Adapters/AspNetCore", "McpAuth.AspNetCore"),
        ("src/Adapters/Redis", "McpAuth.Redis"),
    ];

    public PackedFeed()
    {
        Root = Path.Combine(Path.GetTempPath(), $"mcpauth-packaging-{Guid.NewGuid():N}");
        Feed = Path.Combine(Root, "feed");
        GlobalPackages = Path.Combine(Root, "nuget-packages");
        Version = ReadVersion(Path.Combine(Repo.Root, "Directory.Build.props"));
    }

    /// <summary>The temporary directory that holds everything (outside the repository).</summary>
    public string Root { get; }

    /// <summary>The folder feed the packages were packed into.</summary>
    public string Feed { get; }

    /// <summary>The NuGet global packages folder for restores against <see cref="Feed"/> (fresh, see the class comment).</summary>
    public string GlobalPackages { get; }

    /// <summary>The one version of every package, as Directory.Build.props sets it.</summary>
    public string Version { get; }

    /// <summary>The commit checked out when the packages were packed (two when one was made while packing).</summary>
    public IReadOnlyList<string> Commits { get; private set; } = [];

    /// <summary>How long packing the four packages took.</summary>
    public TimeSpan PackDuration { get; private set; }

    public string Nupkg(string id) => Path.Combine(Feed, $"{id}.{Version}.nupkg");

    public string Snupkg(string id) => Path.Combine(Feed, $"{id}.{Version}.snupkg");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Feed);
        Directory.CreateDirectory(GlobalPackages);
        var before = await HeadAsync();
        var clock = Stopwatch.StartNew();
        foreach (var (project, _) in Packages)
        {
            var pack = await ChildProcess.DotNetAsync(Repo.Root,
                ["pack", project, "-c", "Release", "-o", Feed, "--disable-build-servers", "-nologo"], TimeSpan.FromMinutes(5));
            if (pack.ExitCode != 0)
            {
                throw new InvalidOperationException($"dotnet pack of {project} failed: {pack.Describe()}");
            }
        }

        PackDuration = clock.Elapsed;
        var after = await HeadAsync();
        Commits = before == after ? [before] : [before, after]; // someone committed while packing: either may be in the packages
    }

    private static async Task<string> HeadAsync()
    {
        var git = await ChildProcess.RunAsync(ChildProcess.StartInfo("git", Repo.Root, ["rev-parse", "HEAD"]), TimeSpan.FromSeconds(30));
        return git.ExitCode == 0 ? git.Output.Trim() : throw new InvalidOperationException("git rev-parse HEAD failed: " + git.Describe());
    }

    public Task DisposeAsync()
    {
        DeleteDirectory(Root);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The package version Directory.Build.props sets: <c>Version</c> if it sets one, else <c>VersionPrefix</c> with
    /// <c>VersionSuffix</c> when that is not empty.
    /// </summary>
    public static string ReadVersion(string directoryBuildProps)
    {
        var props = XDocument.Load(directoryBuildProps);
        string? Single(string name)
        {
            var values = props.Descendants(name).Select(e => e.Value.Trim()).Where(v => v.Length > 0).Distinct().ToList();
            return values.Count switch
            {
                0 => null,
                1 => values[0],
                _ => throw new InvalidOperationException($"{directoryBuildProps} sets {name} more than once: {string.Join(", ", values)}"),
            };
        }

        var version = Single("Version") ?? Single("VersionPrefix")
                      ?? throw new InvalidOperationException($"{directoryBuildProps} sets neither Version nor VersionPrefix.");
        return Single("VersionSuffix") is { } suffix && Single("Version") is null ? version + "-" + suffix : version;
    }

    public static void DeleteDirectory(string path)
    {
        for (var attempt = 0; attempt < 3 && Directory.Exists(path); attempt++)
        {
            try
            {
                Directory.Delete(path, recursive: true);
            }
            catch (IOException) when (attempt < 2)
            {
                Thread.Sleep(500);
            }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PackedCollection : ICollectionFixture<PackedFeed>
{
    /// <summary>
    /// Every test that needs the packed packages is in this one collection: they share one pack, and they run one after
    /// another (each restores and builds, which on two cores is better not done in parallel).
    /// </summary>
    public const string Name = "Packed packages";
}
