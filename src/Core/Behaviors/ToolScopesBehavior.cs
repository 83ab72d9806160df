using McpAuth.Diagnostics;
using MediatR;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// Stage 7, step-up authorization (MCP 2025-11-25): a <c>tools/call</c> of a tool listed in
/// <see cref="McpAuthOptions.ToolScopes"/> needs those scopes too. Missing one → insufficient scope naming every scope
/// the operation needs (the required scopes plus the tool's). Other methods and tools need nothing extra.
/// </summary>
public sealed class ToolScopesBehavior(IOptions<McpAuthOptions> options) : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    /// <summary>The JSON-RPC method that calls a tool.</summary>
    public const string ToolsCall = "tools/call";

    private readonly Dictionary<string, string[]> _toolScopes = options.Value.ToolScopes
        .Where(kv => kv.Value is { Length: > 0 })
        .ToDictionary(kv => kv.Key, kv => options.Value.RequiredScopes.Concat(kv.Value).Where(s => !string.IsNullOrWhiteSpace(s)).Distinct(StringComparer.Ordinal).ToArray(), StringComparer.Ordinal);

    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        if (_toolScopes.Count == 0)
        {
            return next();
        }

        using (var activity = McpAuthDiagnostics.StartStage("McpAuth." + Stage.ToolScopes))
        {
            var scopes = request.State.Scopes;
            foreach (var call in request.Calls)
            {
                if (call.Method == ToolsCall && call.ToolName is not null
                    && _toolScopes.TryGetValue(call.ToolName, out var needed) && !needed.All(scopes.Contains))
                {
                    return Task.FromResult(Stage.Fail(activity, Stage.ToolScopes, AuthenticationErrorCode.InsufficientScope,
                        $"The tool '{call.ToolName}' needs more scopes than the token carries.", needed));
                }
            }

            Stage.Pass(activity);
        }

        return next();
    }
}
