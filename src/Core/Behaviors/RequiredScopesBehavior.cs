using MediatR;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// Every token must carry the configured <see cref="McpAuthOptions.RequiredScopes"/>. Missing a scope → insufficient
/// scope, naming every scope needed. It stands after authentication so a forged or expired token always gets 401, never
/// 403 (RFC 6750: insufficient_scope is for valid tokens). With several issuers, a token also needs its issuer's
/// <see cref="IssuerOptions.RequiredScopes"/>.
/// </summary>
public sealed class RequiredScopesBehavior : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private readonly string[] _serverWide;
    private readonly IssuerDirectory _issuers;

    // The issuers are fixed at start: each one's list (server-wide scopes, then its own) is made once, not per request.
    private readonly Dictionary<IssuerDirectory.Issuer, string[]> _byIssuer;

    /// <summary>Creates the stage; without <paramref name="issuers"/>, the directory is built from <paramref name="options"/>.</summary>
    public RequiredScopesBehavior(IOptions<McpAuthOptions> options, IssuerDirectory? issuers = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _serverWide = options.Value.RequiredScopes.Where(s => !string.IsNullOrWhiteSpace(s)).Distinct(StringComparer.Ordinal).ToArray();
        _issuers = issuers ?? new IssuerDirectory(options);
        _byIssuer = _issuers.All.Distinct().ToDictionary(i => i, i => _serverWide.Concat(i.RequiredScopes).Distinct(StringComparer.Ordinal).ToArray());
    }

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

    private string[] Required(AuthenticationState state) =>
        _issuers.RoutesByIssuer && state.Token is { } token && _issuers.Route(token) is { } issuer
            ? _byIssuer[issuer]
            : _serverWide;
}
