using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using McpAuth.Caching;

namespace McpAuth.Redis;

/// <summary>
/// AES-256-GCM for stored values: <c>version(1) | nonce(12) | tag(16) | ciphertext</c>, the plaintext being
/// <c>until (Unix ms, 8 bytes) | value</c>, with the purpose and the cache key as associated data: a value moved to
/// another key, altered, sealed under another secret, or put back after its time does not open.
/// </summary>
internal static class SealedValue
{
    private const byte Version = 2;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int HeaderSize = 1 + NonceSize + TagSize;
    private const int UntilSize = 8;

    public static byte[] Seal(byte[] key, string purpose, CacheKey slot, DateTimeOffset until, ReadOnlySpan<byte> value)
    {
        var plaintext = new byte[UntilSize + value.Length];
        BinaryPrimitives.WriteInt64BigEndian(plaintext, until.ToUnixTimeMilliseconds());
        value.CopyTo(plaintext.AsSpan(UntilSize));

        var sealedValue = new byte[HeaderSize + plaintext.Length];
        sealedValue[0] = Version;
        var nonce = sealedValue.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plaintext, sealedValue.AsSpan(HeaderSize), sealedValue.AsSpan(1 + NonceSize, TagSize), AssociatedData(purpose, slot));
        CryptographicOperations.ZeroMemory(plaintext);
        return sealedValue;
    }

    /// <summary>The value and its time, or null when the sealed value is malformed or does not authenticate.</summary>
    public static (byte[] Value, DateTimeOffset Until)? Open(byte[] key, string purpose, CacheKey slot, ReadOnlySpan<byte> sealedValue)
    {
        if (sealedValue.Length < HeaderSize + UntilSize || sealedValue[0] != Version)
        {
            return null;
        }

        var plaintext = new byte[sealedValue.Length - HeaderSize];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(sealedValue.Slice(1, NonceSize), sealedValue[HeaderSize..], sealedValue.Slice(1 + NonceSize, TagSize), plaintext, AssociatedData(purpose, slot));
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }

        var milliseconds = BinaryPrimitives.ReadInt64BigEndian(plaintext);
        if (milliseconds < DateTimeOffset.MinValue.ToUnixTimeMilliseconds() || milliseconds > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            return null;
        }

        return (plaintext[UntilSize..], DateTimeOffset.FromUnixTimeMilliseconds(milliseconds));
    }

    private static byte[] AssociatedData(string purpose, CacheKey slot) => Encoding.ASCII.GetBytes(purpose + ":" + slot);
}
