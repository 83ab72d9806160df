using System.Security.Cryptography;
using System.Text;
using McpAuth.Diagnostics;
using MediatR;
using Microsoft.Extensions.Logging;

namespace McpAuth;

/// <summary>
/// The terminal handler: every stage let the request through, so it builds the principal (its subject under the
/// token's issuer's claim mapping, when several issuers are configured).
/// </summary>
public sealed class AuthenticateRequestHandler(ILogger<AuthenticateRequestHandler> logger, IssuerDirectory? issuers = null)
    : IRequestHandler<AuthenticateRequest, AuthenticationOutcome>
{
    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var state = request.State;
        if (state.Token is not { } token || state.EffectiveToken is null)
        {
            // Only reachable when a stage was removed or replaced and nothing parsed the token: fail closed.
            return Task.FromResult(AuthenticationOutcome.NoCredentials);
        }

        ClusterUser? clusterUser = null;
        foreach (var user in state.ClusterUsers.Values)
        {
            clusterUser = user; // the first target reviewed
            break;
        }

        var principal = new McpPrincipal(
            issuers is { RoutesByIssuer: true } && issuers.Route(token) is { } issuer ? issuer.SubjectOf(token) : token.Subject, token.Issuer, token.Audiences, token.Scopes, token.Claims,
            state.EffectiveToken, state.Exchanged, clusterUser, state.ClusterUsers);
        if (logger.IsEnabled(LogLevel.Debug))
        {
            Log.Accepted(logger, TokenHash(token.Raw), principal.Subject, principal.Exchanged);
        }

        McpAuthDiagnostics.CountSuccess();
        return Task.FromResult(AuthenticationOutcome.Success(principal));
    }

    /// <summary>A short, non-reversible id of a token for correlating log lines (first 8 hex chars of its SHA-256).</summary>
    public static string TokenHash(string token) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)).AsSpan(0, 4));
}
