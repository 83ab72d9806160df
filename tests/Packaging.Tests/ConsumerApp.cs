using System.Diagnostics;
using System.Security;
using McpAuth.TestPeers;

namespace McpAuth.Packaging.Tests;

/// <summary>
/// A fresh web app in a temporary directory outside the repository (so none of the repository's Directory.*.props,
/// global.json or nuget.config apply) that references McpAuth.AspNetCore by package only, restores it from the packed
/// feed, and whose Program.cs is the README's embedding snippet verbatim plus the usings it needs and a <c>MyTools</c>
/// class. Built once per test class; each test runs it with <see cref="StartAsync"/>.
/// </summary>
public sealed class ConsumerApp(PackedFeed feed) : IAsyncLifetime
{
    public const string AssemblyName = "McpAuthConsumer";

    /// <summary>What the snippet needs that it does not say (the Web SDK's implicit usings cover the rest), and the tools.</summary>
    public const string Usings = """
        using System.ComponentModel;
        using ModelContextProtocol.Server;

        """;

    public const string Tools = """

        /// <summary>Tools that leave a trace (stdout and the file named by TOOL_LOG), so a test can tell whether they ran.</summary>
        [McpServerToolType]
        public sealed class MyTools
        {
            [McpServerTool(Name = "delete-namespace"), Description("Deletes a namespace.")]
            public string DeleteNamespace([Description("the namespace")] string name) => Ran("delete-namespace " + name, "deleted " + name);

            [McpServerTool(Name = "list-namespaces"), Description("Lists the namespaces.")]
            public string ListNamespaces() => Ran("list-namespaces", "default,kube-system");

            private static string Ran(string call, string result)
            {
                Console.WriteLine("TOOL-RAN " + call);
                File.AppendAllText(Environment.GetEnvironmentVariable("TOOL_LOG")!, call + "\n");
                return result;
            }
        }
        """;

    public string Directory { get; } = Path.Combine(feed.Root, "consumer");

    public string Dll => Path.Combine(Directory, "bin", "Release", "net10.0", AssemblyName + ".dll");

    public string ProgramSource { get; private set; } = string.Empty;

    public TimeSpan BuildDuration { get; private set; }

    public ProcessResult Build { get; private set; } = null!;

    public PackedFeed Feed => feed;

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        foreach (var ancestor in Ancestors(Directory))
        {
            foreach (var file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "global.json", "nuget.config", "NuGet.Config" })
            {
                if (File.Exists(Path.Combine(ancestor, file)))
                {
                    throw new InvalidOperationException($"{Path.Combine(ancestor, file)} would apply to the consumer app in {Directory}; it must be a fresh app.");
                }
            }
        }

        var sources = await NuGetSources.EnabledAsync(Directory);
        await File.WriteAllTextAsync(Path.Combine(Directory, "nuget.config"), NuGetConfig(feed.Feed, feed.GlobalPackages, sources));
        await File.WriteAllTextAsync(Path.Combine(Directory, AssemblyName + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="McpAuth.AspNetCore" Version="{feed.Version}" />
                <PackageReference Include="ModelContextProtocol.AspNetCore" Version="2.4.0" />
              </ItemGroup>
            </Project>
            """);
        ProgramSource = Usings + ReadmeSnippet.Extract(Path.Combine(Repo.Root, "README.md")) + Tools;
        await File.WriteAllTextAsync(Path.Combine(Directory, "Program.cs"), ProgramSource);

        var clock = Stopwatch.StartNew();
        Build = await ChildProcess.DotNetAsync(Directory, ["build", "-c", "Release", "--disable-build-servers", "-nologo"], TimeSpan.FromMinutes(5));
        BuildDuration = clock.Elapsed;
    }

    public Task DisposeAsync()
    {
        PackedFeed.DeleteDirectory(Directory);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Runs the built app on a free loopback port against <paramref name="issuer"/>, configured only through environment
    /// variables (McpAuth__AuthorizationUrl, McpAuth__ServerUrl, and <paramref name="settings"/>).
    /// </summary>
    public Task<AppProcess> StartAsync(string issuer, string toolLog, IDictionary<string, string>? settings = null)
    {
        var port = Repo.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["McpAuth__AuthorizationUrl"] = issuer,
            ["McpAuth__ServerUrl"] = $"http://127.0.0.1:{port}",
            ["TOOL_LOG"] = toolLog,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        return AppProcess.StartAsync(Dll, port, environment);
    }

    /// <summary>
    /// The packed feed (the only source of McpAuth.*, by package source mapping) and the machine's own sources (for
    /// everything else), restoring into the fresh global packages folder.
    /// </summary>
    public static string NuGetConfig(string feed, string globalPackages, IReadOnlyList<(string Name, string Url)> machineSources)
    {
        static string A(string value) => SecurityElement.Escape(value);
        var adds = string.Join("\n", machineSources.Select(s => $"""    <add key="{A(s.Name)}" value="{A(s.Url)}" />"""));
        var mappings = string.Join("\n", machineSources.Select(s => $"""    <packageSource key="{A(s.Name)}"><package pattern="*" /></packageSource>"""));
        return $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{A(globalPackages)}" />
              </config>
              <packageSources>
                <clear />
                <add key="mcpauth-packed" value="{A(feed)}" />
            {adds}
              </packageSources>
              <packageSourceMapping>
                <packageSource key="mcpauth-packed"><package pattern="McpAuth.*" /></packageSource>
            {mappings}
              </packageSourceMapping>
            </configuration>
            """;
    }

    private static IEnumerable<string> Ancestors(string directory)
    {
        for (var dir = new DirectoryInfo(directory); dir is not null; dir = dir.Parent)
        {
            yield return dir.FullName;
        }
    }
}
