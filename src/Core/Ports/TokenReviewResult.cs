namespace McpAuth.Ports;

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
