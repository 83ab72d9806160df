namespace McpAuth.Ports;

/// <summary>The answer of <see cref="ITokenExchangeClient"/>.</summary>
/// <param name="Status">Accepted (with a token), Rejected or Unavailable.</param>
/// <param name="AccessToken">The exchanged token (a JWT or opaque). Never log it.</param>
/// <param name="ExpiresAt">When the exchanged token expires.</param>
/// <param name="Reason">For a refusal, a short reason safe to show to a client.</param>
public sealed record TokenExchangeResult(PortStatus Status, string? AccessToken, DateTimeOffset? ExpiresAt, string? Reason)
{
    /// <summary>The STS issued a token.</summary>
    public static TokenExchangeResult Exchanged(string accessToken, DateTimeOffset expiresAt) =>
        new(PortStatus.Accepted, accessToken, expiresAt, null);

    /// <summary>The STS refused the subject token.</summary>
    public static TokenExchangeResult Refused(string reason) => new(PortStatus.Rejected, null, null, reason);

    /// <summary>The STS failed or could not be reached.</summary>
    public static TokenExchangeResult Unavailable(string reason) => new(PortStatus.Unavailable, null, null, reason);

    /// <inheritdoc />
    public override string ToString() => $"TokenExchangeResult {{ Status = {Status}, ExpiresAt = {ExpiresAt}, Reason = {Reason} }}";
}
