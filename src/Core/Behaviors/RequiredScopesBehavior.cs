using McpAuth.Diagnostics;
using MediatR;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// Stage 6: every token must carry the configured <see cref="McpAuthOptions.RequiredScopes"/>. Missing a scope →
/// insufficient scope, naming every scope needed. It stands after authentication so a forged or expired token always
/// gets 401, never 403 (RFC 6750: insufficient_scope is for valid tokens).
/// </summary>
public sealed class RequiredScopesBehavior(IOptions<McpAuthOptions> options) : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private readonly string[] _required = options.Value.RequiredScopes.Where(s => !string.IsNullOrWhiteSpace(s)).Distinct(StringComparer.Ordinal).ToArray();

    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        if (_required.Length == 0)
        {
            return next();
        }

        using (var activity = McpAuthDiagnostics.StartStage("McpAuth." + Stage.RequiredScopes))
        {
            var scopes = request.State.Scopes;
            foreach (var scope in _required)
            {
                if (!scopes.Contains(scope))
                {
                    return Task.FromResult(Stage.Fail(activity, Stage.RequiredScopes, AuthenticationErrorCode.InsufficientScope,
                        "The token lacks a required scope.", _required));
                }
            }

            Stage.Pass(activity);
        }

        return next();
    }
}
