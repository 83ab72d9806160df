namespace McpAuth.Tokens;

/// <summary>How McpAuth reads scopes wherever they come from (a JWT's <c>scope</c>/<c>scp</c>, an introspection answer).</summary>
internal static class ScopeText
{
    /// <summary>Adds each whitespace-separated scope of <paramref name="value"/> to <paramref name="list"/> once, in order.</summary>
    public static void AddSpaceSeparated(ref List<string>? list, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return;
        }

        foreach (var s in value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            list ??= new List<string>(4);
            if (!list.Contains(s))
            {
                list.Add(s);
            }
        }
    }
}
