using MediatR;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// Every token must carry the configured <see cref="McpAuthOptions.RequiredScopes"/>. Missing a scope → insufficient
/// scope, naming every scope needed. It stands after authentication so a forged or expired token always gets 401, never
/// 403 (RFC 6750: insufficient_scope is for valid tokens). With several issuers, a token also needs its issuer's
/// <see cref="IssuerOptions.RequiredScopes"/>.
/// </summary>
public sealed class RequiredScopesBehavior(IOptions<McpAuthOptions> options, IssuerDirectory? issuers = null) : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private readonly string[] _serverWide = options.Value.RequiredScopes.Where(s => !string.IsNullOrWhiteSpace(s)).Distinct(StringComparer.Ordinal).ToArray();
    private readonly IssuerDirectory _issuers = issuers ?? new IssuerDirectory(options);
    private readonly Dictionary<IssuerDirectory.Issuer, string[]> _byIssuer = new();

    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(next);
        var required = Required(request.State);
        if (required.Length == 0)
        {
            return next();
        }

        using (var scope = StageScope.Begin<RequiredScopesBehavior>())
        {
            var scopes = request.State.Scopes;
            foreach (var one in required)
            {
                if (!scopes.Contains(one))
                {
                    return Task.FromResult(scope.Fail(AuthenticationErrorCode.InsufficientScope, "The token lacks a required scope.", required));
                }
            }

            scope.Pass();
        }

        return next();
    }

    private string[] Required(AuthenticationState state)
    {
        if (!_issuers.RoutesByIssuer || state.Token is not { } token || _issuers.Route(token) is not { RequiredScopes.Count: > 0 } issuer)
        {
            return _serverWide;
        }

        lock (_byIssuer)
        {
            if (!_byIssuer.TryGetValue(issuer, out var combined))
            {
                combined = _serverWide.Concat(issuer.RequiredScopes).Distinct(StringComparer.Ordinal).ToArray();
                _byIssuer[issuer] = combined;
            }

            return combined;
        }
    }
}
