namespace McpAuth.Ports;

/// <summary>The answer of <see cref="IOidcTokenValidator"/>.</summary>
/// <param name="Status">Accepted, Rejected or Unavailable.</param>
/// <param name="Reason">For a refusal, a short reason safe to show to a client.</param>
public readonly record struct OidcValidationResult(PortStatus Status, string? Reason = null)
{
    /// <summary>The token's signature, issuer, audience and lifetime are valid.</summary>
    public static OidcValidationResult Valid { get; } = new(PortStatus.Accepted);

    /// <summary>The token is not valid for this issuer.</summary>
    public static OidcValidationResult Invalid(string reason) => new(PortStatus.Rejected, reason);

    /// <summary>The issuer could not be asked.</summary>
    public static OidcValidationResult Unavailable(string reason) => new(PortStatus.Unavailable, reason);
}
