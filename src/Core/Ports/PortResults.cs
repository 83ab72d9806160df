namespace McpAuth.Ports;

/// <summary>How a peer answered. Adapters translate their transport errors into these; no exception type leaks.</summary>
public enum PortStatus
{
    /// <summary>The peer accepted the token.</summary>
    Accepted,

    /// <summary>The peer (or the adapter, on the peer's data) refused the token: the caller's fault.</summary>
    Rejected,

    /// <summary>The request named something the adapter does not know, e.g. an unknown cluster.</summary>
    InvalidRequest,

    /// <summary>The peer failed, timed out or could not be reached: not the caller's fault.</summary>
    Unavailable,
}

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

/// <summary>What to review on which cluster.</summary>
/// <param name="Target">The cluster (kubeconfig context); empty = the default one.</param>
/// <param name="Token">The token to review. Never log it.</param>
/// <param name="Audiences">The audiences to request; empty means none (the API server's own).</param>
public sealed record TokenReviewRequest(string Target, string Token, IReadOnlyList<string> Audiences)
{
    /// <inheritdoc />
    public override string ToString() => $"TokenReviewRequest {{ Target = {Target}, Audiences = [{string.Join(", ", Audiences)}] }}";
}

/// <summary>The answer of <see cref="ITokenReviewClient"/>.</summary>
/// <param name="Status">Accepted (authenticated), Rejected, InvalidRequest (unknown target) or Unavailable.</param>
/// <param name="User">The user the cluster sees, when authenticated.</param>
/// <param name="Audiences">The <c>status.audiences</c> the cluster returned.</param>
/// <param name="Reason">For a refusal, a short reason safe to show to a client.</param>
public sealed record TokenReviewResult(PortStatus Status, ClusterUser? User, IReadOnlyList<string> Audiences, string? Reason)
{
    /// <summary>The cluster authenticated the token.</summary>
    public static TokenReviewResult Authenticated(ClusterUser user, IReadOnlyList<string> audiences) =>
        new(PortStatus.Accepted, user, audiences, null);

    /// <summary>The cluster did not authenticate the token.</summary>
    public static TokenReviewResult NotAuthenticated(string reason) => new(PortStatus.Rejected, null, [], reason);

    /// <summary>The target cluster is not known.</summary>
    public static TokenReviewResult UnknownTarget(string reason) => new(PortStatus.InvalidRequest, null, [], reason);

    /// <summary>The API server failed or could not be reached.</summary>
    public static TokenReviewResult Unavailable(string reason) => new(PortStatus.Unavailable, null, [], reason);
}
