using System.Text.RegularExpressions;

namespace McpAuth.Packaging.Tests;

/// <summary>The package sources this machine's NuGet uses (user and machine configuration), as the dotnet CLI lists them.</summary>
public static partial class NuGetSources
{
    /// <summary>
    /// The enabled sources of `dotnet nuget list source`, run in <paramref name="directory"/> (outside the repository, so
    /// only the user- and machine-wide configuration counts): the registry the machine normally restores from.
    /// </summary>
    public static async Task<IReadOnlyList<(string Name, string Url)>> EnabledAsync(string directory)
    {
        var result = await ChildProcess.DotNetAsync(directory, ["nuget", "list", "source", "--format", "Detailed"], TimeSpan.FromMinutes(1));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException("dotnet nuget list source failed: " + result.Describe());
        }

        var sources = new List<(string, string)>();
        var lines = result.Output.ReplaceLineEndings("\n").Split('\n');
        for (var i = 0; i + 1 < lines.Length; i++)
        {
            var header = Header().Match(lines[i]);
            if (header.Success && header.Groups["state"].Value == "Enabled")
            {
                sources.Add((header.Groups["name"].Value.Trim(), lines[i + 1].Trim()));
            }
        }

        if (sources.Count == 0)
        {
            throw new InvalidOperationException("This machine's NuGet has no enabled package source: " + result.Describe());
        }

        return sources;
    }

    [GeneratedRegex(@"^\s*\d+\.\s+(?<name>.+?)\s+\[(?<state>Enabled|Disabled)\]\s*$")]
    private static partial Regex Header();
}
