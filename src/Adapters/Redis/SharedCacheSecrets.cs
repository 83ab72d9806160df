using System.Security.Cryptography;
using System.Text;

namespace McpAuth.Redis;

/// <summary>
/// The two keys derived (HKDF-SHA256) from the shared secret: one for the HMAC cache keys, one for AES-256-GCM on the
/// values, so the secret itself is used for neither and a replica with another secret neither finds nor can read or forge
/// the others' entries.
/// </summary>
internal sealed class SharedCacheSecrets
{
    public const int MinimumSecretBytes = 32;

    private SharedCacheSecrets(byte[] keyKey, byte[] valueKey)
    {
        KeyKey = keyKey;
        ValueKey = valueKey;
    }

    /// <summary>The HMAC key of the cache keys.</summary>
    public byte[] KeyKey { get; }

    /// <summary>The AES-256-GCM key of the values.</summary>
    public byte[] ValueKey { get; }

    /// <summary>Null when <paramref name="base64"/> is not base64 of at least <see cref="MinimumSecretBytes"/> bytes.</summary>
    public static SharedCacheSecrets? TryCreate(string? base64)
    {
        if (string.IsNullOrWhiteSpace(base64))
        {
            return null;
        }

        var secret = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64.Trim(), secret, out var length) || length < MinimumSecretBytes)
        {
            return null;
        }

        var master = secret.AsSpan(0, length).ToArray();
        CryptographicOperations.ZeroMemory(secret);
        var keyKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, master, 32, info: Encoding.ASCII.GetBytes("mcpauth shared cache keys v1"));
        var valueKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, master, 32, info: Encoding.ASCII.GetBytes("mcpauth shared cache values v1"));
        CryptographicOperations.ZeroMemory(master);
        return new SharedCacheSecrets(keyKey, valueKey);
    }
}
