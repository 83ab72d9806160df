using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.OpenIdConnect.Exchange;

/// <summary>
/// A secret the platform keeps in a file (a client secret, a federated client assertion, the server's own actor token):
/// read at each use, so a rotation is seen at once (Kubernetes swaps projected files behind a symlink, which file
/// watchers miss). At most 16 KiB; surrounding whitespace is dropped. A JWT in it is never used past its <c>exp</c>.
/// Problems are described without the content.
/// </summary>
internal sealed class CredentialFile(string path, TimeProvider time)
{
    private const int MaxBytes = 16 * 1024;

    // A JWT this close to its exp is not sent: it could expire on the way.
    private static readonly TimeSpan ExpiryMargin = TimeSpan.FromSeconds(5);

    public string Path { get; } = path;

    /// <summary>The content, or null with <paramref name="problem"/>.</summary>
    public string? Read(out string? problem)
    {
        try
        {
            var info = new FileInfo(Path);
            if (!info.Exists)
            {
                problem = "does not exist";
                return null;
            }

            if (info.Length > MaxBytes)
            {
                problem = $"is larger than {MaxBytes} bytes";
                return null;
            }

            var content = File.ReadAllText(Path, Encoding.UTF8).Trim();
            problem = content.Length == 0 ? "is empty" : null;
            return problem is null ? content : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problem = "cannot be read (" + ex.GetType().Name + ")";
            return null;
        }
    }

    /// <summary>
    /// The content as a JWT that is not expired, or null with <paramref name="problem"/>. <paramref name="requireJwt"/>:
    /// content that is not a JWT with an <c>exp</c> is refused; otherwise only a JWT's <c>exp</c> is checked.
    /// </summary>
    public string? ReadToken(bool requireJwt, out string? problem)
    {
        var token = Read(out problem);
        if (token is null)
        {
            return null;
        }

        var expiresAt = ExpiryOf(token, out var isJwt);
        if (requireJwt && expiresAt is null)
        {
            problem = isJwt ? "holds a JWT without exp" : "does not hold a JWT";
            return null;
        }

        if (expiresAt is { } exp && exp - ExpiryMargin <= time.GetUtcNow())
        {
            problem = "holds a JWT past its exp (the platform has not rotated it)";
            return null;
        }

        return token;
    }

    // The exp of a compact JWS, read without verifying it (it is our own credential, not the caller's).
    internal static DateTimeOffset? ExpiryOf(string token, out bool isJwt)
    {
        isJwt = false;
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        try
        {
            using var payload = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(parts[1]));
            isJwt = payload.RootElement.ValueKind == JsonValueKind.Object;
            return isJwt && payload.RootElement.TryGetProperty("exp", out var exp) && exp.ValueKind == JsonValueKind.Number && exp.TryGetInt64(out var seconds)
                   && seconds is > 0 and < 253402300800
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : null;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException)
        {
            return null;
        }
    }
}
