using System.Security.Cryptography;
using System.Text;
using McpAuth.Diagnostics;
using MediatR;
using Microsoft.Extensions.Logging;

namespace McpAuth;

/// <summary>The terminal handler: every stage let the request through, so it builds the principal.</summary>
public sealed class AuthenticateRequestHandler(ILogger<AuthenticateRequestHandler> logger) : IRequestHandler<AuthenticateRequest, AuthenticationOutcome>
{
    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken)
    {
        var state = request.State;
        if (state.Token is null || state.EffectiveToken is null)
        {
            // Only reachable when a stage was removed or replaced and nothing parsed the token: fail closed.
            return Task.FromResult(AuthenticationOutcome.NoCredentials);
        }

        ClusterUser? clusterUser = null;
        if (state.ClusterUsers.Count > 0)
        {
            state.ClusterUsers.TryGetValue(request.Targets[0], out clusterUser);
        }

        var principal = new McpPrincipal(
            state.Token.Subject is { Length: > 0 } sub ? sub : null,
            state.Token.Issuer is { Length: > 0 } iss ? iss : null,
            state.Audiences,
            state.Scopes,
            state.EffectiveToken,
            state.Exchanged,
            clusterUser,
            state.ClusterUsers);
        if (logger.IsEnabled(LogLevel.Debug))
        {
            Log.Accepted(logger, TokenHash(state.RawToken!), principal.Subject, principal.Exchanged);
        }

        McpAuthDiagnostics.Outcomes.Add(1, new KeyValuePair<string, object?>("outcome", "Success"));
        return Task.FromResult(AuthenticationOutcome.Success(principal));
    }

    /// <summary>A short, non-reversible id of a token for correlating log lines (first 8 hex chars of its SHA-256).</summary>
    public static string TokenHash(string token) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)).AsSpan(0, 4));
}
