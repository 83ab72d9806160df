using McpAuth.Caching;
using McpAuth.Ports;
using Microsoft.Extensions.Options;

namespace McpAuth.OpenIdConnect;

/// <summary>
/// Caching decorator of <see cref="ITokenExchangeClient"/>: an exchanged token is reused until
/// <see cref="TokenExchangeOptions.ExchangeCacheMargin"/> before the earlier of its expiry and the subject token's;
/// keyed by an HMAC of subject token + audience + scopes (never the raw token); concurrent identical exchanges run
/// once; refusals and failures are not cached.
/// </summary>
public sealed class CachingTokenExchangeClient(
    ITokenExchangeClient inner, IOptions<McpAuthOptions> mcpAuth, IOptions<TokenExchangeOptions> options, CacheKeys keys, TimeProvider time)
    : ITokenExchangeClient
{
    private readonly SecretKeyedCache<TokenExchangeResult> _cache = new(options.Value.ExchangeCacheMaxEntries, time);
    private readonly string _audience = mcpAuth.Value.StsAudience ?? string.Empty;
    private readonly string _scopes = string.Join(' ', options.Value.StsScopes);
    private readonly TimeSpan _margin = options.Value.ExchangeCacheMargin;

    /// <summary>Exchanges actually sent to the STS through this decorator.</summary>
    public long Exchanges => _cache.FactoryCalls;

    /// <inheritdoc />
    public ValueTask<TokenExchangeResult> ExchangeAsync(string subjectToken, DateTimeOffset? subjectExpiresAt, CancellationToken cancellationToken) =>
        _cache.GetOrCreateAsync(
            keys.OfParts(subjectToken, _audience, _scopes),
            () => inner.ExchangeAsync(subjectToken, subjectExpiresAt, CancellationToken.None).AsTask(),
            result => result.Status == PortStatus.Accepted && result.ExpiresAt is { } exp
                ? Min(exp, subjectExpiresAt) - _margin
                : null,
            cancellationToken);

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset? b) => b is { } v && v < a ? v : a;
}
