using McpAuth.Caching;
using McpAuth.Ports;
using Microsoft.Extensions.Options;

namespace McpAuth.Kubernetes;

/// <summary>
/// Caching decorator of <see cref="ITokenReviewClient"/>, like kube-apiserver's cached token authenticator: key = HMAC
/// over target, token and audiences; authenticated results are reused for
/// <see cref="KubernetesTokenReviewOptions.ReviewCacheAuthenticatedTtl"/>, rejections for
/// <see cref="KubernetesTokenReviewOptions.ReviewCacheRejectedTtl"/>; unknown targets and errors are not cached;
/// concurrent identical reviews run once; bounded in entries. With an <see cref="ISharedCache"/> registered, a review one
/// replica made is reused by the others.
/// </summary>
public sealed class CachingTokenReviewClient(
    ITokenReviewClient inner, IOptions<KubernetesTokenReviewOptions> options, CacheKeys keys, TimeProvider time, ISharedCache? shared = null)
    : ITokenReviewClient
{
    private const string Purpose = "review-v1";

    private readonly SecretKeyedCache<TokenReviewResult> _cache = new(options.Value.ReviewCacheMaxEntries, time);
    private readonly TimeSpan _authenticatedTtl = options.Value.ReviewCacheAuthenticatedTtl;
    private readonly TimeSpan _rejectedTtl = options.Value.ReviewCacheRejectedTtl;

    /// <summary>Reviews actually sent to an API server through this decorator.</summary>
    public long Reviews => _cache.FactoryCalls;

    /// <inheritdoc />
    public ValueTask<TokenReviewResult> ReviewAsync(TokenReviewRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var key = keys.OfParts(request.Target, request.Token, string.Join('\n', request.Audiences));
        return _cache.GetOrCreateAsync(key, () => ReviewOrShareAsync(key, request), r => Lifetime(r, request), cancellationToken);
    }

    private async Task<TokenReviewResult> ReviewOrShareAsync(CacheKey key, TokenReviewRequest request)
    {
        if (shared is not null && await shared.GetAsync(Purpose, key, CancellationToken.None).ConfigureAwait(false) is { } stored
            && SharedForm.Read(stored) is { } reused)
        {
            return reused;
        }

        var result = await inner.ReviewAsync(request, CancellationToken.None).ConfigureAwait(false);
        if (shared is not null && Lifetime(result, request) is { } until)
        {
            await shared.SetAsync(Purpose, key, SharedForm.Write(result), until, CancellationToken.None).ConfigureAwait(false);
        }

        return result;
    }

    private DateTimeOffset? Lifetime(TokenReviewResult result, TokenReviewRequest request) => result.Status switch
    {
        PortStatus.Accepted => NotPast(time.GetUtcNow() + _authenticatedTtl, request.TokenExpiresAt),
        PortStatus.Rejected => time.GetUtcNow() + _rejectedTtl,
        _ => null,
    };

    // What a replica shares: the review's answer (sealed by the shared cache).
    private static class SharedForm
    {
        public static byte[] Write(TokenReviewResult result) => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Shared(
            result.Status == PortStatus.Accepted, result.User?.Username, result.User?.Uid, result.User?.Groups.ToArray(),
            result.User?.Extra.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()), result.Audiences.ToArray(), result.Reason));

        public static TokenReviewResult? Read(byte[] bytes)
        {
            try
            {
                var s = System.Text.Json.JsonSerializer.Deserialize<Shared>(bytes);
                return s switch
                {
                    { Authenticated: true, Username: { } name } => TokenReviewResult.Authenticated(
                        new ClusterUser(name, s.Uid, s.Groups ?? [], (s.Extra ?? []).ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value)),
                        s.Audiences ?? []),
                    { Authenticated: false } => TokenReviewResult.NotAuthenticated(s.Reason ?? "The cluster did not authenticate the token."),
                    _ => null,
                };
            }
            catch (System.Text.Json.JsonException)
            {
                return null;
            }
        }

        private sealed record Shared(
            bool Authenticated, string? Username, string? Uid, string[]? Groups, Dictionary<string, string[]>? Extra, string[]? Audiences, string? Reason);
    }

    // An authenticated result is never reused past the token's own expiry.
    private static DateTimeOffset NotPast(DateTimeOffset until, DateTimeOffset? expiresAt) => expiresAt is { } exp && exp < until ? exp : until;
}
