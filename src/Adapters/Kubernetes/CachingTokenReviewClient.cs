using McpAuth.Caching;
using McpAuth.Ports;
using Microsoft.Extensions.Options;

namespace McpAuth.Kubernetes;

/// <summary>
/// Caching decorator of <see cref="ITokenReviewClient"/>, like kube-apiserver's cached token authenticator: key = HMAC
/// over target, token and audiences; authenticated results are reused for
/// <see cref="KubernetesTokenReviewOptions.ReviewCacheAuthenticatedTtl"/>, rejections for
/// <see cref="KubernetesTokenReviewOptions.ReviewCacheRejectedTtl"/>; unknown targets and errors are not cached;
/// concurrent identical reviews run once; bounded in entries.
/// </summary>
public sealed class CachingTokenReviewClient(ITokenReviewClient inner, IOptions<KubernetesTokenReviewOptions> options, CacheKeys keys, TimeProvider time)
    : ITokenReviewClient
{
    private readonly SecretKeyedCache<TokenReviewResult> _cache = new(options.Value.ReviewCacheMaxEntries, time);
    private readonly TimeSpan _authenticatedTtl = options.Value.ReviewCacheAuthenticatedTtl;
    private readonly TimeSpan _rejectedTtl = options.Value.ReviewCacheRejectedTtl;

    /// <summary>Reviews actually sent to an API server through this decorator.</summary>
    public long Reviews => _cache.FactoryCalls;

    /// <inheritdoc />
    public ValueTask<TokenReviewResult> ReviewAsync(TokenReviewRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _cache.GetOrCreateAsync(
            keys.OfParts(request.Target, request.Token, string.Join('\n', request.Audiences)),
            () => inner.ReviewAsync(request, CancellationToken.None).AsTask(),
            result => result.Status switch
            {
                PortStatus.Accepted => NotPast(time.GetUtcNow() + _authenticatedTtl, request.TokenExpiresAt),
                PortStatus.Rejected => time.GetUtcNow() + _rejectedTtl,
                _ => null,
            },
            cancellationToken);
    }

    // An authenticated result is never reused past the token's own expiry.
    private static DateTimeOffset NotPast(DateTimeOffset until, DateTimeOffset? expiresAt) => expiresAt is { } exp && exp < until ? exp : until;
}
