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

    /// <summary>The STS issued a token that names the parties acting for its subject (its <c>act</c> claim).</summary>
    public static TokenExchangeResult Exchanged(string accessToken, DateTimeOffset expiresAt, IReadOnlyList<TokenActor> actors) =>
        new(PortStatus.Accepted, accessToken, expiresAt, null) { Actors = actors ?? [] };

    /// <summary>The STS refused the subject token.</summary>
    public static TokenExchangeResult Refused(string reason) => new(PortStatus.Rejected, null, null, reason);

    /// <summary>The STS failed or could not be reached.</summary>
    public static TokenExchangeResult Unavailable(string reason) => new(PortStatus.Unavailable, null, null, reason);

    /// <summary>
    /// The delegation chain of the exchanged token (RFC 8693 §4.1 <c>act</c>, current actor first); empty when the token
    /// names none or is opaque.
    /// </summary>
    public IReadOnlyList<TokenActor> Actors { get; init; } = [];

    /// <inheritdoc />
    public override string ToString() => $"TokenExchangeResult {{ Status = {Status}, ExpiresAt = {ExpiresAt}, Reason = {Reason} }}";
}
