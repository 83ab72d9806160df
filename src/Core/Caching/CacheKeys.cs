using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace McpAuth.Caching;

/// <summary>
/// Makes <see cref="CacheKey"/>s: HMAC-SHA256 under one secret key, random per process unless a key is given (replicas
/// that share a cache share the key). One reusable HMAC state per thread, so a lookup creates no native context.
/// </summary>
public sealed class CacheKeys : IDisposable
{
    private readonly byte[] _key;
    private readonly ThreadLocal<IncrementalHash> _hmacs;

    /// <summary>Keys under a random per-process secret.</summary>
    public CacheKeys()
        : this(RandomNumberGenerator.GetBytes(32))
    {
    }

    /// <summary>Keys under <paramref name="key"/> (at least 32 bytes).</summary>
    public CacheKeys(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < 32)
        {
            throw new ArgumentException("A cache key secret must be at least 32 bytes.", nameof(key));
        }

        _key = (byte[])key.Clone();
        _hmacs = new ThreadLocal<IncrementalHash>(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key));
    }

    /// <summary>The key of one secret string (e.g. a bearer token).</summary>
    public CacheKey OfSecret(ReadOnlySpan<char> secret)
    {
        var max = Encoding.UTF8.GetMaxByteCount(secret.Length);
        byte[]? rented = null;
        var buffer = max <= 2048 ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var length = Encoding.UTF8.GetBytes(secret, buffer);
            return Mac(buffer[..length]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    /// <summary>The key of several parts (each length-prefixed, so <c>("ab","c")</c> and <c>("a","bc")</c> differ).</summary>
    public CacheKey OfParts(params ReadOnlySpan<string?> parts)
    {
        var max = 0;
        foreach (var p in parts)
        {
            max += 4 + Encoding.UTF8.GetMaxByteCount(p?.Length ?? 0);
        }

        byte[]? rented = null;
        var buffer = max <= 4096 ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var written = 0;
            foreach (var p in parts)
            {
                var n = Encoding.UTF8.GetBytes(p ?? string.Empty, buffer[(written + 4)..]);
                BinaryPrimitives.WriteInt32LittleEndian(buffer[written..], n);
                written += 4 + n;
            }

            return Mac(buffer[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    private CacheKey Mac(ReadOnlySpan<byte> data)
    {
        Span<byte> mac = stackalloc byte[32];
        var hmac = _hmacs.Value!;
        hmac.AppendData(data);
        hmac.GetHashAndReset(mac);
        return MemoryMarshal.Read<CacheKey>(mac);
    }

    /// <inheritdoc />
    public void Dispose() => _hmacs.Dispose();
}
