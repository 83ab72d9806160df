using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace McpAuth.Caching;

/// <summary>A token the issuer check accepted, as parsed: reused on later requests instead of parsing and verifying again.</summary>
/// <param name="Raw">The token string. Held only in memory, never logged, never a cache key.</param>
/// <param name="Token">The parsed token.</param>
/// <param name="Scopes">Its scopes.</param>
/// <param name="Audiences">Its audiences.</param>
/// <param name="ExpiresAt">Its <c>exp</c>.</param>
/// <param name="NotBefore">Its <c>nbf</c>.</param>
/// <param name="IssuedAt">Its <c>iat</c>.</param>
public sealed record ValidatedToken(
    string Raw, JsonWebToken Token, IReadOnlyList<string> Scopes, IReadOnlyList<string> Audiences,
    DateTimeOffset? ExpiresAt, DateTimeOffset? NotBefore, DateTimeOffset? IssuedAt)
{
    /// <inheritdoc />
    public override string ToString() => $"ValidatedToken {{ Kid = {Token.Kid}, ExpiresAt = {ExpiresAt} }}";
}

/// <summary>
/// Remembers tokens that passed the issuer's signature, issuer and audience checks, so a repeated token costs a
/// lookup instead of parsing and cryptography. Keyed by HMAC-SHA256 of the token under a per-process random key (no
/// raw token is a key); an entry lives until the earlier of the token's <c>exp</c> and
/// <see cref="McpAuthOptions.TokenCacheMaxAge"/>; at most <see cref="McpAuthOptions.TokenCacheMaxEntries"/> entries;
/// <see cref="InvalidateKeys"/> drops what a key removed from the issuer's JWKS verified. Offline checks still run on
/// every request: the cache only replaces parsing and the issuer check.
/// </summary>
public sealed class ValidatedTokenCache
{
    private readonly byte[] _hmacKey = RandomNumberGenerator.GetBytes(32);

    // One reusable HMAC state per thread (and cache instance): no native context is created per lookup.
    private readonly ThreadLocal<IncrementalHash?> _hmacs = new();
    private readonly ConcurrentDictionary<Digest, Entry> _entries = new();
    private readonly TimeProvider _time;
    private readonly int _maxEntries;
    private readonly TimeSpan _maxAge;
    private readonly Lock _evictionLock = new();
    private int _count;

    /// <summary>Creates the cache from <see cref="McpAuthOptions"/>.</summary>
    public ValidatedTokenCache(IOptions<McpAuthOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _maxEntries = Math.Max(0, options.Value.TokenCacheMaxEntries);
        _maxAge = options.Value.TokenCacheMaxAge;
    }

    /// <summary>False when the cache is switched off (<c>TokenCacheMaxEntries = 0</c>).</summary>
    public bool Enabled => _maxEntries > 0 && _maxAge > TimeSpan.Zero;

    /// <summary>Entries held now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Looks <paramref name="token"/> up. Expired entries are removed and missed.</summary>
    public bool TryGet(ReadOnlySpan<char> token, out ValidatedToken validated)
    {
        validated = null!;
        if (!Enabled || !_entries.TryGetValue(DigestOf(token), out var entry))
        {
            return false;
        }

        if (_time.GetUtcNow() >= entry.Until)
        {
            Remove(entry.Key);
            return false;
        }

        validated = entry.Token;
        return true;
    }

    /// <summary>Remembers a token the issuer check accepted (tokens without <c>exp</c> are not cached).</summary>
    public void Add(ValidatedToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (!Enabled || token.ExpiresAt is not { } exp)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var until = exp < now + _maxAge ? exp : now + _maxAge;
        if (until <= now)
        {
            return;
        }

        if (Volatile.Read(ref _count) >= _maxEntries)
        {
            Evict(now);
        }

        var key = DigestOf(token.Raw);
        var entry = new Entry(key, token, until);
        if (_entries.TryAdd(key, entry))
        {
            Interlocked.Increment(ref _count);
        }
        else
        {
            _entries[key] = entry;
        }
    }

    /// <summary>
    /// Drops every entry verified by a key whose <c>kid</c> matches <paramref name="removed"/> (the issuer stopped
    /// publishing it or replaced its material). Returns how many were dropped.
    /// </summary>
    public int InvalidateKeys(Func<string?, bool> removed)
    {
        ArgumentNullException.ThrowIfNull(removed);
        var dropped = 0;
        foreach (var (key, entry) in _entries)
        {
            if (removed(entry.Token.Token.Kid) && Remove(key))
            {
                dropped++;
            }
        }

        return dropped;
    }

    /// <summary>Drops everything.</summary>
    public void Clear() => InvalidateKeys(_ => true);

    private bool Remove(Digest key)
    {
        if (_entries.TryRemove(key, out _))
        {
            Interlocked.Decrement(ref _count);
            return true;
        }

        return false;
    }

    // Over the limit: drop expired entries, then the ones closest to expiry, down to 90 % of the limit.
    private void Evict(DateTimeOffset now)
    {
        lock (_evictionLock)
        {
            if (Volatile.Read(ref _count) < _maxEntries)
            {
                return;
            }

            var target = _maxEntries - Math.Max(1, _maxEntries / 10);
            var byExpiry = new List<Entry>(_entries.Count);
            foreach (var (key, entry) in _entries)
            {
                if (entry.Until <= now)
                {
                    Remove(key);
                }
                else
                {
                    byExpiry.Add(entry);
                }
            }

            if (Volatile.Read(ref _count) <= target)
            {
                return;
            }

            byExpiry.Sort((a, b) => a.Until.CompareTo(b.Until));
            foreach (var entry in byExpiry)
            {
                if (Volatile.Read(ref _count) <= target)
                {
                    break;
                }

                Remove(entry.Key);
            }
        }
    }

    private Digest DigestOf(ReadOnlySpan<char> token)
    {
        var max = Encoding.UTF8.GetMaxByteCount(token.Length);
        byte[]? rented = null;
        var buffer = max <= 2048 ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var length = Encoding.UTF8.GetBytes(token, buffer);
            Span<byte> mac = stackalloc byte[32];
            var hmac = _hmacs.Value ??= IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _hmacKey);
            hmac.AppendData(buffer[..length]);
            hmac.GetHashAndReset(mac);
            return MemoryMarshal.Read<Digest>(mac);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Digest(ulong A, ulong B, ulong C, ulong D);

    private sealed record Entry(Digest Key, ValidatedToken Token, DateTimeOffset Until);
}
