namespace McpAuth.Ports;

/// <summary>What to review on which cluster.</summary>
/// <param name="Target">The cluster (kubeconfig context); empty = the default one.</param>
/// <param name="Token">The token to review. Never log it.</param>
/// <param name="Audiences">The audiences to request; empty means none (the API server's own).</param>
/// <param name="TokenExpiresAt">When the token expires, when known: no result about it is reused past this.</param>
public sealed record TokenReviewRequest(string Target, string Token, IReadOnlyList<string> Audiences, DateTimeOffset? TokenExpiresAt = null)
{
    /// <inheritdoc />
    public override string ToString() => $"TokenReviewRequest {{ Target = {Target}, Audiences = [{string.Join(", ", Audiences)}] }}";
}
