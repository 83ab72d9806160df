using McpAuth.Tokens;

namespace McpAuth.Ports;

/// <summary>
/// Asks the authorization server about an opaque access token (RFC 7662 token introspection). Reports "active" (with
/// the token's claims as the server states them), "not active" and "server unavailable" distinctly; never throws for
/// any of them. An adapter checks the answer's issuer and token type; the pipeline checks lifetime and audience.
/// </summary>
public interface ITokenIntrospector
{
    /// <summary>Introspects <paramref name="token"/> (an opaque <see cref="ParsedToken"/>).</summary>
    ValueTask<IntrospectionResult> IntrospectAsync(ParsedToken token, CancellationToken cancellationToken);
}
