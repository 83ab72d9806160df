using System.Runtime.InteropServices;

namespace McpAuth.Caching;

/// <summary>
/// A 256-bit HMAC of a secret (a token, or a token with its context): the key of every McpAuth cache, so no cache ever
/// holds a raw token as a key. Made by <see cref="CacheKeys"/>.
/// </summary>
/// <param name="A">Bits 0–63.</param>
/// <param name="B">Bits 64–127.</param>
/// <param name="C">Bits 128–191.</param>
/// <param name="D">Bits 192–255.</param>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct CacheKey(ulong A, ulong B, ulong C, ulong D)
{
    /// <summary>The key as 64 lowercase hex characters (for a distributed store's key names).</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[32];
        MemoryMarshal.Write(bytes, in this);
        return Convert.ToHexStringLower(bytes);
    }
}
