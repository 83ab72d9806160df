using MediatR;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// Every token must carry the configured <see cref="McpAuthOptions.RequiredScopes"/>. Missing a scope → insufficient
/// scope, naming every scope needed. It stands after authentication so a forged or expired token always gets 401, never
/// 403 (RFC 6750: insufficient_scope is for valid tokens).
/// </summary>
public sealed class RequiredScopesBehavior(IOptions<McpAuthOptions> options) : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private readonly string[] _required = options.Value.RequiredScopes.Where(s => !string.IsNullOrWhiteSpace(s)).Distinct(StringComparer.Ordinal).ToArray();

    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(next);
        if (_required.Length == 0)
        {
            return next();
        }

        using (var scope = StageScope.Begin<RequiredScopesBehavior>())
        {
            var scopes = request.State.Scopes;
            foreach (var required in _required)
            {
                if (!scopes.Contains(required))
                {
                    return Task.FromResult(scope.Fail(AuthenticationErrorCode.InsufficientScope, "The token lacks a required scope.", _required));
                }
            }

            scope.Pass();
        }

        return next();
    }
}
