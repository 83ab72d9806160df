using System.Text.RegularExpressions;

namespace McpAuth.Packaging.Tests;

/// <summary>The README's embedding snippet, exactly as the README shows it (between the embedding-snippet markers).</summary>
public static partial class ReadmeSnippet
{
    public const string Start = "<!-- embedding-snippet:start -->";
    public const string End = "<!-- embedding-snippet:end -->";

    /// <summary>The C# between the markers of <paramref name="readmePath"/>, without its ```csharp fence.</summary>
    public static string Extract(string readmePath)
    {
        var readme = File.ReadAllText(readmePath).ReplaceLineEndings("\n");
        var start = readme.IndexOf(Start, StringComparison.Ordinal);
        var end = readme.IndexOf(End, StringComparison.Ordinal);
        if (start < 0 || end < start)
        {
            throw new InvalidOperationException($"{readmePath} has no '{Start}' ... '{End}' section.");
        }

        var between = readme[(start + Start.Length)..end];
        var fenced = Fence().Match(between);
        if (!fenced.Success)
        {
            throw new InvalidOperationException($"The embedding snippet of {readmePath} is not one ```csharp fenced block:\n{between}");
        }

        return fenced.Groups["code"].Value;
    }

    [GeneratedRegex(@"\A\s*```csharp\n(?<code>.*?\n)```\s*\z", RegexOptions.Singleline)]
    private static partial Regex Fence();
}
