using System.Collections.Concurrent;

namespace McpAuth.Behaviors;

/// <summary>
/// The name of a stage, derived from its type: the type name without a trailing <c>Behavior</c>
/// (<c>OfflineValidationBehavior</c> → <c>OfflineValidation</c>). It is <see cref="AuthenticationError.Stage"/>, the
/// span name's suffix (<c>McpAuth.&lt;name&gt;</c>) and the <c>stage</c> tag of the metrics.
/// </summary>
public static class StageName
{
    private static readonly ConcurrentDictionary<Type, string> Names = new();

    /// <summary>The name of <typeparamref name="TStage"/>.</summary>
    public static string Of<TStage>() => Cached<TStage>.Name;

    /// <summary>The name of <paramref name="stage"/>.</summary>
    public static string Of(Type stage)
    {
        ArgumentNullException.ThrowIfNull(stage);
        return Names.GetOrAdd(stage, static t =>
        {
            var name = t.Name;
            var tick = name.IndexOf('`', StringComparison.Ordinal);
            if (tick >= 0)
            {
                name = name[..tick];
            }

            return name.EndsWith("Behavior", StringComparison.Ordinal) && name.Length > "Behavior".Length
                ? name[..^"Behavior".Length]
                : name;
        });
    }

    private static class Cached<TStage>
    {
        public static readonly string Name = Of(typeof(TStage));
    }
}
