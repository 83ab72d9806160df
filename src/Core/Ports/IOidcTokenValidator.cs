using McpAuth.Tokens;

namespace McpAuth.Ports;

/// <summary>
/// Verifies a token against the configured issuer: signature (issuer's keys), issuer, audience, and a required
/// <c>exp</c>. Reports "invalid" and "provider unavailable" distinctly; never throws for either.
/// </summary>
public interface IOidcTokenValidator
{
    /// <summary>Validates <paramref name="token"/>.</summary>
    ValueTask<OidcValidationResult> ValidateAsync(ParsedToken token, CancellationToken cancellationToken);
}
