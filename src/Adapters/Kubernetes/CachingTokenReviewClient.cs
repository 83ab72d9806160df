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

    private readonly SecretKeyedCache<Reviewed> _cache = new(options.Value.ReviewCacheMaxEntries, time);
    private readonly TimeSpan _authenticatedTtl = options.Value.ReviewCacheAuthenticatedTtl;
    private readonly TimeSpan _rejectedTtl = options.Value.ReviewCacheRejectedTtl;

    /// <summary>Reviews actually sent to an API server through this decorator.</summary>
    public long Reviews => _cache.FactoryCalls;

    /// <inheritdoc />
    public ValueTask<TokenReviewResult> ReviewAsync(TokenReviewRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var key = keys.OfParts(request.Target, request.Token, string.Join('\n', request.Audiences));
        var pending = _cache.GetOrCreateAsync(key, () => ReviewOrShareAsync(key, request), r => r.Until, cancellationToken);
        return pending.IsCompletedSuccessfully ? new ValueTask<TokenReviewResult>(pending.Result.Result) : ResultOf(pending);
    }

    private static async ValueTask<TokenReviewResult> ResultOf(ValueTask<Reviewed> pending) => (await pending.ConfigureAwait(false)).Result;

    private async Task<Reviewed> ReviewOrShareAsync(CacheKey key, TokenReviewRequest request)
    {
        if (shared is not null && await shared.GetAsync(Purpose, key, CancellationToken.None).ConfigureAwait(false) is { } stored
            && SharedForm.Read(stored.Value) is { } reused)
        {
            // Kept no longer than the replica that made the review allowed: its TTL ran from when it asked the API server.
            return new Reviewed(reused, NotPast(stored.Until, Lifetime(reused, request)));
        }

        var result = await inner.ReviewAsync(request, CancellationToken.None).ConfigureAwait(false);
        var until = Lifetime(result, request);
        if (shared is not null && until is { } shareUntil)
        {
            await shared.SetAsync(Purpose, key, SharedForm.Write(result), shareUntil, CancellationToken.None).ConfigureAwait(false);
        }

        return new Reviewed(result, until);
    }

    private DateTimeOffset? Lifetime(TokenReviewResult result, TokenReviewRequest request) => result.Status switch
    {
        PortStatus.Accepted => NotPast(time.GetUtcNow() + _authenticatedTtl, request.TokenExpiresAt),
        PortStatus.Rejected => time.GetUtcNow() + _rejectedTtl,
        _ => null,
    };

    // A review and how long it may be reused (null: not cached).
    private sealed record Reviewed(TokenReviewResult Result, DateTimeOffset? Until);

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

    // The earlier of the two: an authenticated result is never reused past the token's own expiry, a shared one never past
    // the time its maker allowed.
    private static DateTimeOffset NotPast(DateTimeOffset until, DateTimeOffset? expiresAt) => expiresAt is { } exp && exp < until ? exp : until;
}
