using System.Net;
using System.Text.Json;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace McpAuth.Host.Demo;

/// <summary>
/// What the demo accepts from a client that registers itself (RFC 7591) or is described by a Client ID Metadata
/// Document: a public client (<c>token_endpoint_auth_method</c> <c>none</c>) using the authorization code grant, whose
/// redirect URIs are loopback (<c>http://127.0.0.1:port/…</c>, <c>[::1]</c>, <c>localhost</c>) or a custom scheme
/// (<c>com.example.app:/callback</c>, RFC 8252). Everything else is refused with the RFC 7591 error codes.
/// </summary>
internal static class DemoClientPolicy
{
    public const int MaxRedirectUris = 10;
    public const int MaxClientNameLength = 100;

    // Schemes that a browser would run or read instead of handing to an app: never a redirect target.
    private static readonly HashSet<string> ForbiddenSchemes = new(StringComparer.OrdinalIgnoreCase)
    {
        "javascript", "data", "file", "vbscript", "about", "blob", "filesystem", "ftp", "ws", "wss", "view-source",
    };

    private static readonly string[] SupportedGrantTypes = [GrantTypes.AuthorizationCode, GrantTypes.RefreshToken];

    /// <summary>Why <paramref name="value"/> is not an acceptable redirect URI, or null when it is.</summary>
    public static string? RedirectUriProblem(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || value.Length > 2000)
        {
            return "is not an absolute URI";
        }

        if (!string.IsNullOrEmpty(uri.Fragment) || value.Contains('#', StringComparison.Ordinal))
        {
            return "has a fragment";
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "has user information";
        }

        if (uri.Scheme is "http" or "https")
        {
            return uri.IsLoopback || uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || IsLoopbackAddress(uri.Host)
                ? null
                : "is an http(s) URI that is not on loopback (127.0.0.1, [::1] or localhost)";
        }

        return ForbiddenSchemes.Contains(uri.Scheme) ? $"uses the scheme '{uri.Scheme}', which is not an app's custom scheme" : null;
    }

    /// <summary>
    /// Reads client metadata (a registration request or a metadata document) into an application descriptor, or says
    /// why it is refused (<paramref name="error"/> is an RFC 7591 error code).
    /// </summary>
    /// <param name="metadata">The client's metadata.</param>
    /// <param name="clientId">The client ID it gets.</param>
    /// <param name="scopes">The scopes it may ask for.</param>
    /// <param name="resource">The resource it may ask for.</param>
    /// <param name="registration">
    /// A registration request rather than a metadata document: a secret-based <c>token_endpoint_auth_method</c> is then
    /// replaced by <c>none</c>, which the response says (RFC 7591 §3.2.1: the server may substitute values; clients such
    /// as the C# SDK 2.4.0 ask for <c>client_secret_post</c> and use what they are given). A document is refused instead.
    /// </param>
    /// <param name="error">The RFC 7591 error code when refused.</param>
    /// <param name="description">Why it is refused.</param>
    public static OpenIddictApplicationDescriptor? Read(JsonElement metadata, string clientId, IEnumerable<string> scopes, string resource, bool registration,
        out string? error, out string? description)
    {
        error = "invalid_client_metadata";
        if (metadata.ValueKind != JsonValueKind.Object)
        {
            description = "The client metadata is not a JSON object.";
            return null;
        }

        if (!metadata.TryGetProperty("redirect_uris", out var uris) || uris.ValueKind != JsonValueKind.Array || uris.GetArrayLength() == 0)
        {
            error = "invalid_redirect_uri";
            description = "redirect_uris must be a non-empty array of URIs.";
            return null;
        }

        if (uris.GetArrayLength() > MaxRedirectUris)
        {
            error = "invalid_redirect_uri";
            description = $"At most {MaxRedirectUris} redirect URIs are accepted.";
            return null;
        }

        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientType = ClientTypes.Public,
            ApplicationType = ApplicationTypes.Native,
            ConsentType = ConsentTypes.Explicit,
        };
        foreach (var item in uris.EnumerateArray())
        {
            var value = item.ValueKind == JsonValueKind.String ? item.GetString()! : string.Empty;
            if (RedirectUriProblem(value) is { } problem)
            {
                error = "invalid_redirect_uri";
                description = $"The redirect URI '{Clip(value)}' {problem}: the demo accepts loopback or custom-scheme redirect URIs only.";
                return null;
            }

            descriptor.RedirectUris.Add(new Uri(value, UriKind.Absolute));
        }

        if (metadata.TryGetProperty("token_endpoint_auth_method", out var method) && method.ValueKind == JsonValueKind.String && method.GetString() is { } m
            && m != ClientAuthenticationMethods.None && !(registration && m is ClientAuthenticationMethods.ClientSecretPost or ClientAuthenticationMethods.ClientSecretBasic))
        {
            description = $"token_endpoint_auth_method '{Clip(m)}' is not supported: the demo registers public clients only ('none').";
            return null;
        }

        if (metadata.TryGetProperty("grant_types", out var grants) && grants.ValueKind == JsonValueKind.Array)
        {
            var unsupported = grants.EnumerateArray().Select(g => g.GetString() ?? string.Empty).FirstOrDefault(g => !SupportedGrantTypes.Contains(g));
            if (unsupported is not null)
            {
                description = $"The grant type '{Clip(unsupported)}' is not supported: authorization_code and refresh_token only.";
                return null;
            }
        }

        if (metadata.TryGetProperty("response_types", out var responses) && responses.ValueKind == JsonValueKind.Array
            && responses.EnumerateArray().Any(r => r.GetString() != ResponseTypes.Code))
        {
            description = "Only the response type 'code' is supported.";
            return null;
        }

        var name = metadata.TryGetProperty("client_name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()!.Trim() : string.Empty;
        descriptor.DisplayName = name.Length == 0 ? clientId : name.Length > MaxClientNameLength ? name[..MaxClientNameLength] : name;

        // What every demo client may ask for; the user's consent decides what it gets. PKCE is enforced server-wide and
        // per client; the resource is the MCP endpoint (RFC 8707).
        descriptor.Permissions.UnionWith(
        [
            Permissions.Endpoints.Authorization, Permissions.Endpoints.Token,
            Permissions.GrantTypes.AuthorizationCode, Permissions.GrantTypes.RefreshToken,
            Permissions.ResponseTypes.Code,
            Permissions.Prefixes.Resource + resource,
        ]);
        descriptor.Permissions.UnionWith(scopes.Select(s => Permissions.Prefixes.Scope + s));
        descriptor.Requirements.Add(Requirements.Features.ProofKeyForCodeExchange);
        error = null;
        description = null;
        return descriptor;
    }

    /// <summary>The RFC 7591 registration response for a descriptor.</summary>
    public static Dictionary<string, object> Response(OpenIddictApplicationDescriptor descriptor, DateTimeOffset issuedAt) => new()
    {
        ["client_id"] = descriptor.ClientId!,
        ["client_id_issued_at"] = issuedAt.ToUnixTimeSeconds(),
        ["client_name"] = descriptor.DisplayName!,
        ["redirect_uris"] = descriptor.RedirectUris.Select(u => u.OriginalString).ToArray(),
        ["token_endpoint_auth_method"] = ClientAuthenticationMethods.None,
        ["grant_types"] = SupportedGrantTypes,
        ["response_types"] = new[] { ResponseTypes.Code },
    };

    public static string Clip(string value) => LogClean(value, 100);

    /// <summary>A value a client chose, made safe for a log line or a message: no control characters, bounded.</summary>
    public static string LogClean(string? value, int max = 128)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        var clean = new string(value.Where(c => !char.IsControl(c)).Take(max).ToArray());
        return value.Length > max ? clean + "…" : clean;
    }

    private static bool IsLoopbackAddress(string host) => IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
}
