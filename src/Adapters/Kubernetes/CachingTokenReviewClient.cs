using McpAuth.Adapters.Caching;
using McpAuth.Ports;
using Microsoft.Extensions.Options;

namespace McpAuth.Adapters.Kubernetes;

/// <summary>
/// Caching decorator of <see cref="ITokenReviewClient"/>, like kube-apiserver's cached token authenticator: key =
/// HMAC-SHA256 (per-process random key) over target, token and audiences; authenticated results are reused for
/// <see cref="KubernetesTokenReviewOptions.ReviewCacheAuthenticatedTtl"/>, rejections for
/// <see cref="KubernetesTokenReviewOptions.ReviewCacheRejectedTtl"/>; unknown targets and errors are not cached;
/// concurrent identical reviews run once; bounded in entries.
/// </summary>
public sealed class CachingTokenReviewClient(ITokenReviewClient inner, IOptions<KubernetesTokenReviewOptions> options, TimeProvider time)
    : ITokenReviewClient, IDisposable
{
    private readonly SecretKeyedCache<TokenReviewResult> _cache = new(options.Value.ReviewCacheMaxEntries, time);
    private readonly TimeSpan _authenticatedTtl = options.Value.ReviewCacheAuthenticatedTtl;
    private readonly TimeSpan _rejectedTtl = options.Value.ReviewCacheRejectedTtl;

    /// <summary>Reviews actually sent to an API server through this decorator.</summary>
    public long Reviews => _cache.FactoryCalls;

    /// <inheritdoc />
    public ValueTask<TokenReviewResult> ReviewAsync(TokenReviewRequest request, CancellationToken cancellationToken) =>
        _cache.GetOrCreateAsync(
            _cache.Key(request.Target, request.Token, string.Join('\n', request.Audiences)),
            () => inner.ReviewAsync(request, CancellationToken.None).AsTask(),
            result => result.Status switch
            {
                PortStatus.Accepted => time.GetUtcNow() + _authenticatedTtl,
                PortStatus.Rejected => time.GetUtcNow() + _rejectedTtl,
                _ => null,
            },
            cancellationToken);

    /// <inheritdoc />
    public void Dispose() => _cache.Dispose();
}
