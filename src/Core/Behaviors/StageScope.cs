using System.Diagnostics;
using McpAuth.Diagnostics;

namespace McpAuth.Behaviors;

/// <summary>
/// What every stage, built in or third-party, uses to report its work: a span <c>McpAuth.&lt;stage&gt;</c> (only when
/// someone listens), the <c>mcpauth.outcome</c> tag, and the refusal metric. Begin it around the stage's own work and
/// dispose it before calling <c>next()</c>, so the span covers this stage only.
/// </summary>
/// <example>
/// <code>
/// using (var scope = StageScope.Begin&lt;TenantCheckBehavior&gt;())
/// {
///     if (!allowed) return scope.Fail(AuthenticationErrorCode.InsufficientScope, "Unknown tenant.");
///     scope.Pass();
/// }
/// return await next();
/// </code>
/// </example>
public readonly struct StageScope : IDisposable
{
    private readonly Activity? _activity;

    private StageScope(string name, Activity? activity)
    {
        Name = name;
        _activity = activity;
    }

    /// <summary>The stage's name.</summary>
    public string Name { get; }

    /// <summary>Starts the scope of <typeparamref name="TStage"/> (named by <see cref="StageName"/>).</summary>
    public static StageScope Begin<TStage>() => Begin(StageName.Of<TStage>());

    /// <summary>Starts the scope of the stage called <paramref name="name"/>.</summary>
    public static StageScope Begin(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new StageScope(name, McpAuthDiagnostics.StartStage(name));
    }

    /// <summary>The stage let the request through; <paramref name="outcome"/> tags the span (e.g. <c>cached</c>).</summary>
    public void Pass(string outcome = "passed") => _activity?.SetTag(McpAuthDiagnostics.OutcomeTag, outcome);

    /// <summary>The stage refuses the request: tags the span, counts the refusal, and returns the outcome to return.</summary>
    public AuthenticationOutcome Fail(AuthenticationErrorCode code, string description, IReadOnlyList<string>? requiredScopes = null) =>
        Fail(new AuthenticationError(code, description, Name, requiredScopes));

    /// <summary>The stage refuses the request with <paramref name="error"/> (its stage is replaced by this stage's name).</summary>
    public AuthenticationOutcome Fail(AuthenticationError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (!string.Equals(error.Stage, Name, StringComparison.Ordinal))
        {
            error = error with { Stage = Name };
        }

        _activity?.SetTag(McpAuthDiagnostics.OutcomeTag, error.Code.ToString());
        McpAuthDiagnostics.CountRefusal(error);
        return AuthenticationOutcome.Failure(error);
    }

    /// <summary>
    /// For a stage that needs the request's calls: null when <paramref name="calls"/> were read; otherwise the refusal to
    /// return. Calls that were not supplied fail closed as <see cref="AuthenticationErrorCode.Unavailable"/> (the host
    /// did not give McpAuth what this stage needs); a refused body keeps its own code (400, 408 or 413).
    /// </summary>
    public AuthenticationOutcome? FailUnlessRead(McpCallSet calls)
    {
        ArgumentNullException.ThrowIfNull(calls);
        return calls.Status switch
        {
            McpCallSetStatus.Read => null,
            McpCallSetStatus.NotSupplied => Fail(AuthenticationErrorCode.Unavailable,
                "The server cannot see this request's MCP calls, which its authorization needs; try again later."),
            _ => Fail(calls.Refusal!),
        };
    }

    /// <summary>Ends the span.</summary>
    public void Dispose() => _activity?.Dispose();
}
