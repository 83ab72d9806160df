namespace McpAuth.Tokens;

/// <summary>The schemes of an <c>Authorization</c> header McpAuth understands.</summary>
public enum AuthorizationScheme
{
    /// <summary>No header, or a scheme McpAuth does not handle (e.g. Basic).</summary>
    None,

    /// <summary><c>Bearer</c> (RFC 6750).</summary>
    Bearer,

    /// <summary><c>DPoP</c> (RFC 9449): a sender-constrained token, sent with a <c>DPoP</c> proof header.</summary>
    DPoP,
}

/// <summary>Reads the scheme and token of an <c>Authorization</c> header. No allocation.</summary>
public static class AuthorizationHeader
{
    /// <summary>
    /// The scheme (case-insensitive, surrounding spaces ignored) and its token (may be empty for a bare scheme). A header
    /// with another scheme, or none, gives <see cref="AuthorizationScheme.None"/>.
    /// </summary>
    public static AuthorizationScheme Parse(string? authorization, out ReadOnlySpan<char> token)
    {
        token = default;
        if (string.IsNullOrEmpty(authorization))
        {
            return AuthorizationScheme.None;
        }

        var value = authorization.AsSpan().Trim();
        if (TryScheme(value, "Bearer", out token))
        {
            return AuthorizationScheme.Bearer;
        }

        return TryScheme(value, "DPoP", out token) ? AuthorizationScheme.DPoP : AuthorizationScheme.None;
    }

    private static bool TryScheme(ReadOnlySpan<char> value, string scheme, out ReadOnlySpan<char> token)
    {
        token = default;
        if (value.Length < scheme.Length
            || !value[..scheme.Length].Equals(scheme, StringComparison.OrdinalIgnoreCase)
            || (value.Length > scheme.Length && value[scheme.Length] != ' '))
        {
            return false;
        }

        token = value[scheme.Length..].Trim(' ');
        return true;
    }
}
