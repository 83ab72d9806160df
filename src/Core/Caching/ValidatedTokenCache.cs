using McpAuth.Tokens;
using Microsoft.Extensions.Options;

namespace McpAuth.Caching;

/// <summary>
/// Tokens that passed the issuer's signature, issuer and audience checks, kept as parsed (with their claims), so a
/// repeated token costs one HMAC and a lookup instead of parsing and cryptography. An entry lives until the earlier of
/// the token's <c>exp</c> and <see cref="McpAuthOptions.TokenCacheMaxAge"/>; at most
/// <see cref="McpAuthOptions.TokenCacheMaxEntries"/> entries; <see cref="InvalidateKeys"/> drops what a key that the
/// issuer stopped publishing verified. Offline checks still run on every request.
/// </summary>
public sealed class ValidatedTokenCache
{
    private readonly SecretKeyedCache<ParsedToken> _cache;
    private readonly CacheKeys _keys;
    private readonly TimeProvider _time;
    private readonly TimeSpan _maxAge;

    /// <summary>Creates the cache from <see cref="McpAuthOptions"/>.</summary>
    public ValidatedTokenCache(IOptions<McpAuthOptions> options, TimeProvider time, CacheKeys keys)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _keys = keys;
        _maxAge = options.Value.TokenCacheMaxAge;
        _cache = new SecretKeyedCache<ParsedToken>(_maxAge > TimeSpan.Zero ? options.Value.TokenCacheMaxEntries : 0, time);
    }

    /// <summary>False when the cache is switched off (<c>TokenCacheMaxEntries</c> or <c>TokenCacheMaxAge</c> 0).</summary>
    public bool Enabled => _cache.Enabled;

    /// <summary>Entries held now.</summary>
    public int Count => _cache.Count;

    /// <summary>Read before verifying a token; pass to <see cref="Add"/> (see <see cref="SecretKeyedCache{TValue}.Epoch"/>).</summary>
    public long Epoch => _cache.Epoch;

    /// <summary>
    /// Looks <paramref name="token"/> up. The last hit of each thread is remembered with the epoch and expiry it had: the
    /// same token again on that thread (a client repeating its token, the common case) is recognised by comparing the
    /// token itself, without computing its HMAC, as long as no key was invalidated and the entry has not expired since.
    /// </summary>
    public bool TryGet(ReadOnlySpan<char> token, out ParsedToken parsed)
    {
        var epoch = _cache.Epoch;
        if (_lastHit is { } last && ReferenceEquals(last.Cache, this) && last.Epoch == epoch
            && token.SequenceEqual(last.Token.Raw) && _time.GetUtcNow() < last.Until)
        {
            parsed = last.Token;
            return true;
        }

        if (_cache.TryGet(_keys.OfSecret(token), out parsed, out var until))
        {
            _lastHit = new LastHit(this, parsed, epoch, until);
            return true;
        }

        return false;
    }

    [ThreadStatic]
    private static LastHit? _lastHit;

    private sealed record LastHit(ValidatedTokenCache Cache, ParsedToken Token, long Epoch, DateTimeOffset Until);

    /// <summary>
    /// Remembers a token the issuer check accepted (tokens without <c>exp</c> are not cached), unless keys were
    /// invalidated since <paramref name="epoch"/>.
    /// </summary>
    public bool Add(ParsedToken token, long epoch)
    {
        ArgumentNullException.ThrowIfNull(token);
        // Introspected (opaque) tokens are not kept here: their adapter caches answers for a short, configured time so that
        // a revocation at the issuer is seen; a JWT's validity is its own.
        if (!Enabled || token.IsOpaque || token.ExpiresAt is not { } exp)
        {
            return false;
        }

        var cap = _time.GetUtcNow() + _maxAge;
        return _cache.Set(_keys.OfSecret(token.Raw), token, exp < cap ? exp : cap, epoch);
    }

    /// <summary>
    /// Drops every entry verified by a key whose <c>kid</c> matches <paramref name="removed"/> (the issuer stopped
    /// publishing it or replaced its material). Returns how many were dropped.
    /// </summary>
    public int InvalidateKeys(Func<string?, bool> removed)
    {
        ArgumentNullException.ThrowIfNull(removed);
        return _cache.RemoveWhere(t => removed(t.KeyId));
    }
}
