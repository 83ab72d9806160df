using McpAuth.Caching;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.Dpop;

/// <summary>
/// Server nonces for DPoP proofs (RFC 9449 §8), without state: a nonce is an HMAC of the current time window under the
/// cache key secret (shared by replicas that share a cache), so every replica issues and accepts the same nonces. A nonce
/// is accepted in its window and the next one; windows are <see cref="McpAuthOptions.DpopProofLifetime"/> long.
/// </summary>
public sealed class DpopNonces(CacheKeys keys, IOptions<McpAuthOptions> options, TimeProvider time)
{
    private readonly long _windowTicks = Math.Max(TimeSpan.FromSeconds(10).Ticks, options.Value.DpopProofLifetime.Ticks);

    /// <summary>The nonce clients must use now.</summary>
    public string Current() => Of(Window(time.GetUtcNow()));

    /// <summary>True for the current nonce or the previous window's.</summary>
    public bool IsValid(string? nonce)
    {
        if (string.IsNullOrEmpty(nonce) || nonce.Length > 64)
        {
            return false;
        }

        var window = Window(time.GetUtcNow());
        return string.Equals(nonce, Of(window), StringComparison.Ordinal) || string.Equals(nonce, Of(window - 1), StringComparison.Ordinal);
    }

    private long Window(DateTimeOffset now) => now.UtcTicks / _windowTicks;

    private string Of(long window)
    {
        var key = keys.OfParts("dpop-nonce", window.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var bytes = new byte[16];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), key.A);
        BitConverter.TryWriteBytes(bytes.AsSpan(8, 8), key.B);
        return Base64UrlEncoder.Encode(bytes);
    }
}
