namespace McpAuth;

/// <summary>A user as a Kubernetes API server sees it (TokenReview <c>status.user</c>).</summary>
/// <param name="Username">The user name.</param>
/// <param name="Uid">The user's uid, when the cluster returns one.</param>
/// <param name="Groups">The user's groups.</param>
/// <param name="Extra">Extra attributes.</param>
public sealed record ClusterUser(
    string Username,
    string? Uid,
    IReadOnlyList<string> Groups,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Extra);
