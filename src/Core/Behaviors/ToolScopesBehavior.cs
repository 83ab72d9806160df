using McpAuth.Diagnostics;
using MediatR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// Step-up authorization (MCP 2025-11-25): a <c>tools/call</c> of a tool listed in <see cref="McpAuthOptions.ToolScopes"/>
/// needs those scopes too. Missing one → insufficient scope naming every scope the operation needs (the required scopes
/// plus the tool's). Tool names match case-insensitively (the MCP SDK matches ordinally: stricter, never looser). The
/// calls are read here, after authentication; calls that cannot be read refuse the request.
/// </summary>
public sealed class ToolScopesBehavior(IOptions<McpAuthOptions> options, ILogger<ToolScopesBehavior> logger)
    : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    // Keys that differ only in case are one tool here (names match case-insensitively): their scopes are merged.
    private readonly Dictionary<string, string[]> _toolScopes = options.Value.ToolScopes
        .Where(kv => kv.Value is { Length: > 0 })
        .GroupBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase)
        .ToDictionary(
            g => g.Key,
            g => options.Value.RequiredScopes.Concat(g.SelectMany(kv => kv.Value)).Where(s => !string.IsNullOrWhiteSpace(s)).Distinct(StringComparer.Ordinal).ToArray(),
            StringComparer.OrdinalIgnoreCase);

    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(next);
        return _toolScopes.Count == 0 ? next() : CheckAsync(request, cancellationToken, next);
    }

    private async Task<AuthenticationOutcome> CheckAsync(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        using (var scope = StageScope.Begin<ToolScopesBehavior>())
        {
            var calls = await request.GetCallsAsync(cancellationToken).ConfigureAwait(false);
            if (scope.FailUnlessRead(calls) is { } refused)
            {
                if (calls.Status == McpCallSetStatus.NotSupplied)
                {
                    Log.CallsNotSupplied(logger, scope.Name);
                }
                else
                {
                    Log.CallsUnusable(logger, scope.Name, calls.Status);
                }

                return refused;
            }

            var scopes = request.State.Scopes;
            foreach (var call in calls.Calls)
            {
                if (call.IsToolCall && call.ToolName is not null
                    && _toolScopes.TryGetValue(call.ToolName, out var needed) && !needed.All(scopes.Contains))
                {
                    return scope.Fail(AuthenticationErrorCode.InsufficientScope, $"The tool '{call.ToolName}' needs more scopes than the token carries.", needed);
                }
            }

            scope.Pass();
        }

        return await next().ConfigureAwait(false);
    }
}
