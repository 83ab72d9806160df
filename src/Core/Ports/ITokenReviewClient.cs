namespace McpAuth.Ports;

/// <summary>Asks a Kubernetes API server whether it authenticates a token (TokenReview).</summary>
public interface ITokenReviewClient
{
    /// <summary>Reviews <see cref="TokenReviewRequest.Token"/> on <see cref="TokenReviewRequest.Target"/>.</summary>
    ValueTask<TokenReviewResult> ReviewAsync(TokenReviewRequest request, CancellationToken cancellationToken);
}
