namespace McpAuth.Tokens;

/// <summary>Reads the token of an <c>Authorization: Bearer …</c> header (RFC 6750 §2.1). No allocation.</summary>
public static class BearerToken
{
    /// <summary>
    /// The token of a <c>Bearer</c> header (scheme case-insensitive, surrounding spaces ignored). False when the header is
    /// absent or names another scheme; true with an empty token for a bare <c>Bearer</c>.
    /// </summary>
    public static bool TryGet(string? authorization, out ReadOnlySpan<char> token) =>
        AuthorizationHeader.Parse(authorization, out token) == AuthorizationScheme.Bearer;
}
