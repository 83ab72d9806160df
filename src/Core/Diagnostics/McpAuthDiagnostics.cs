using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace McpAuth.Diagnostics;

/// <summary>The one <see cref="ActivitySource"/> and <see cref="Meter"/> of McpAuth, both named <c>McpAuth</c>.</summary>
public static class McpAuthDiagnostics
{
    /// <summary>The name of the activity source and the meter.</summary>
    public const string Name = "McpAuth";

    /// <summary>The span tag that carries a stage's outcome (<c>passed</c>, <c>cached</c>, or a refusal code).</summary>
    public const string OutcomeTag = "mcpauth.outcome";

    /// <summary>A span per stage (<c>McpAuth.&lt;Stage&gt;</c>) with the outcome as the <see cref="OutcomeTag"/> tag.</summary>
    public static readonly ActivitySource ActivitySource = new(Name);

    /// <summary>Metrics: <c>mcpauth.outcomes</c> counts decisions by outcome and deciding stage.</summary>
    public static readonly Meter Meter = new(Name);

    internal static readonly Counter<long> Outcomes = Meter.CreateCounter<long>("mcpauth.outcomes", description: "Authentication decisions by outcome and deciding stage.");

    /// <summary>Starts the span of a stage, or returns null when nobody listens (the common, free case).</summary>
    internal static Activity? StartStage(string stage) =>
        ActivitySource.HasListeners() ? ActivitySource.StartActivity("McpAuth." + stage) : null;

    internal static void CountSuccess() => Outcomes.Add(1, new KeyValuePair<string, object?>("outcome", "Success"));

    internal static void CountRefusal(AuthenticationError error) =>
        Outcomes.Add(1, new("outcome", error.Code.ToString()), new("stage", error.Stage));
}
