using System.Security.Cryptography;
using System.Text;
using McpAuth.Caching;

namespace McpAuth.Redis;

/// <summary>
/// AES-256-GCM for stored values: <c>version(1) | nonce(12) | tag(16) | ciphertext</c>, with the purpose and the cache key
/// as associated data, so a value moved to another key, altered, or sealed under another secret does not open.
/// </summary>
internal static class SealedValue
{
    private const byte Version = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int HeaderSize = 1 + NonceSize + TagSize;

    public static byte[] Seal(byte[] key, string purpose, CacheKey slot, ReadOnlySpan<byte> plaintext)
    {
        var sealedValue = new byte[HeaderSize + plaintext.Length];
        sealedValue[0] = Version;
        var nonce = sealedValue.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plaintext, sealedValue.AsSpan(HeaderSize), sealedValue.AsSpan(1 + NonceSize, TagSize), AssociatedData(purpose, slot));
        return sealedValue;
    }

    /// <summary>The plaintext, or null when the value is malformed or does not authenticate.</summary>
    public static byte[]? Open(byte[] key, string purpose, CacheKey slot, ReadOnlySpan<byte> sealedValue)
    {
        if (sealedValue.Length < HeaderSize || sealedValue[0] != Version)
        {
            return null;
        }

        var plaintext = new byte[sealedValue.Length - HeaderSize];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(sealedValue.Slice(1, NonceSize), sealedValue[HeaderSize..], sealedValue.Slice(1 + NonceSize, TagSize), plaintext, AssociatedData(purpose, slot));
            return plaintext;
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
    }

    private static byte[] AssociatedData(string purpose, CacheKey slot) => Encoding.ASCII.GetBytes(purpose + ":" + slot);
}
