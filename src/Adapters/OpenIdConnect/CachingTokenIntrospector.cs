using McpAuth.Caching;
using McpAuth.Ports;
using McpAuth.Tokens;
using Microsoft.Extensions.Options;

namespace McpAuth.OpenIdConnect;

/// <summary>
/// Caching decorator of <see cref="ITokenIntrospector"/>, keyed by an HMAC of the token (never the raw token): an
/// "active" answer is reused until the earlier of the token's <c>exp</c> and <see cref="IntrospectionOptions.IntrospectionCacheMaxAge"/>
/// from now (so a revocation is seen within that time); a "not active" answer for
/// <see cref="IntrospectionOptions.IntrospectionInactiveCacheTtl"/>; an unavailable one not at all. Concurrent
/// identical calls run once.
/// </summary>
public sealed class CachingTokenIntrospector(
    ITokenIntrospector inner, IOptions<IntrospectionOptions> options, CacheKeys keys, TimeProvider time) : ITokenIntrospector
{
    private const string Purpose = "introspection-v1";

    private readonly SecretKeyedCache<IntrospectionResult> _cache = new(options.Value.IntrospectionCacheMaxEntries, time);
    private readonly TimeSpan _maxAge = options.Value.IntrospectionCacheMaxAge;
    private readonly TimeSpan _inactiveTtl = options.Value.IntrospectionInactiveCacheTtl;

    /// <summary>Calls actually sent to the introspection endpoint through this decorator.</summary>
    public long Introspections => _cache.FactoryCalls;

    /// <inheritdoc />
    public ValueTask<IntrospectionResult> IntrospectAsync(ParsedToken token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (!_cache.Enabled)
        {
            return inner.IntrospectAsync(token, cancellationToken);
        }

        var key = keys.OfParts(Purpose, token.Raw);
        return _cache.GetOrCreateAsync(key, () => inner.IntrospectAsync(token, CancellationToken.None).AsTask(), Lifetime, cancellationToken);
    }

    private DateTimeOffset? Lifetime(IntrospectionResult result)
    {
        var now = time.GetUtcNow();
        return result.Status switch
        {
            PortStatus.Accepted when _maxAge > TimeSpan.Zero => result.Token?.ExpiresAt is { } exp && exp < now + _maxAge ? exp : now + _maxAge,
            PortStatus.Rejected when _inactiveTtl > TimeSpan.Zero => now + _inactiveTtl,
            _ => null,
        };
    }
}
