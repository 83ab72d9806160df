using System.Collections.Frozen;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;

namespace McpAuth.Tokens;

/// <summary>
/// A bearer token parsed as a compact JWS, not verified: the one place where claims are read out of a token (lifetime,
/// audiences, scopes, the claims of the principal). The parse stage makes it; the validated-token cache keeps it.
/// An opaque token (not a JWT; accepted only when introspection is configured) has no claims until the introspection
/// stage replaces it with <see cref="FromIntrospection"/>'s view of the authorization server's answer (RFC 7662).
/// </summary>
public sealed class ParsedToken
{
    /// <summary>The JWS algorithms a token may name (the original's list); <c>none</c> and anything else are refused.</summary>
    public static readonly FrozenSet<string> SupportedAlgorithms = FrozenSet.ToFrozenSet(
        ["EdDSA", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"],
        StringComparer.Ordinal);

    private const string ScopeClaim = "scope";

    private ParsedToken(string raw, JsonWebToken jwt)
    {
        Raw = raw;
        Jwt = jwt;
        ExpiresAt = ToDate(jwt, JwtRegisteredClaimNames.Exp);
        NotBefore = ToDate(jwt, JwtRegisteredClaimNames.Nbf);
        IssuedAt = ToDate(jwt, JwtRegisteredClaimNames.Iat);
        Audiences = jwt.Audiences as IReadOnlyList<string> ?? jwt.Audiences.ToArray();
        Scopes = ReadScopes(jwt);
        Subject = jwt.TryGetPayloadValue<string>(JwtRegisteredClaimNames.Sub, out var sub) && sub is { Length: > 0 } ? sub : null;
        Issuer = jwt.Issuer is { Length: > 0 } iss ? iss : null;
        Claims = ReadClaims(jwt, Scopes);
        ConfirmationThumbprint = ReadJkt(jwt);
    }

    // An opaque token: nothing is known until it is introspected (then the authorization server's answer says it all).
    private ParsedToken(string raw, IntrospectedClaims? introspected)
    {
        Raw = raw;
        Audiences = introspected?.Audiences ?? [];
        Scopes = introspected?.Scopes ?? [];
        Claims = introspected?.Claims ?? [];
        if (introspected is not null)
        {
            IsIntrospected = true;
            ExpiresAt = introspected.ExpiresAt;
            NotBefore = introspected.NotBefore;
            IssuedAt = introspected.IssuedAt;
            Subject = introspected.Subject;
            Issuer = introspected.Issuer;
            ConfirmationThumbprint = introspected.ConfirmationThumbprint;
        }
    }

    /// <summary>The token as sent. Never log it.</summary>
    public string Raw { get; }

    /// <summary>The parsed JWS; null for an opaque token.</summary>
    public JsonWebToken? Jwt { get; }

    /// <summary>True for a token that is not a JWT (its claims come from introspection, when <see cref="IsIntrospected"/>).</summary>
    public bool IsOpaque => Jwt is null;

    /// <summary>True when the claims are the authorization server's introspection answer (RFC 7662), not the token's own.</summary>
    public bool IsIntrospected { get; }

    /// <summary>The <c>kid</c> header, when present.</summary>
    public string? KeyId => Jwt?.Kid is { Length: > 0 } kid ? kid : null;

    /// <summary>The token's <c>sub</c>.</summary>
    public string? Subject { get; }

    /// <summary>The token's <c>iss</c>.</summary>
    public string? Issuer { get; }

    /// <summary>The token's <c>exp</c>, when present.</summary>
    public DateTimeOffset? ExpiresAt { get; }

    /// <summary>The token's <c>nbf</c>, when present.</summary>
    public DateTimeOffset? NotBefore { get; }

    /// <summary>The token's <c>iat</c>, when present.</summary>
    public DateTimeOffset? IssuedAt { get; }

    /// <summary>The token's audiences.</summary>
    public IReadOnlyList<string> Audiences { get; }

    /// <summary>Scopes from the <c>scope</c> claim and <c>scp</c> (array or space-separated), de-duplicated, in token order.</summary>
    public IReadOnlyList<string> Scopes { get; }

    /// <summary>The <c>cnf.jkt</c> claim (RFC 9449 §6.1): the thumbprint of the key the token is bound to, when it is DPoP-bound.</summary>
    public string? ConfirmationThumbprint { get; }

    /// <summary>
    /// The claims of the principal: every payload claim with its type as in the token (like <c>MapInboundClaims = false</c>),
    /// arrays as one claim per element, except <c>scope</c>, which appears once per scope.
    /// </summary>
    public IReadOnlyList<Claim> Claims { get; }

    /// <summary>
    /// Parses <paramref name="token"/>. Returns null and a safe reason when it is empty, longer than
    /// <paramref name="maxLength"/>, not a compact JWS with base64url JSON parts, or names an algorithm not in
    /// <see cref="SupportedAlgorithms"/>. Never throws for bad input.
    /// </summary>
    public static ParsedToken? TryParse(ReadOnlySpan<char> token, int maxLength, out string? error) =>
        TryParse(token, maxLength, allowOpaque: false, out error);

    /// <summary>
    /// Parses <paramref name="token"/> as <see cref="TryParse(ReadOnlySpan{char}, int, out string?)"/> does; with
    /// <paramref name="allowOpaque"/> (introspection configured), a token that is not shaped like a JWS (not three
    /// dot-separated parts) and is an RFC 6750 <c>b64token</c> is returned as an opaque token for introspection. A
    /// JWS-shaped token is always parsed and checked as a JWT here, so a broken JWT is never sent to introspection.
    /// </summary>
    public static ParsedToken? TryParse(ReadOnlySpan<char> token, int maxLength, bool allowOpaque, out string? error)
    {
        if (allowOpaque && !token.IsEmpty && token.Length <= maxLength && token.Count('.') != 2)
        {
            if (IsB64Token(token))
            {
                error = null;
                return new ParsedToken(token.ToString(), introspected: null);
            }

            error = "The bearer token has characters a bearer token cannot have.";
            return null;
        }

        error = Precheck(token, maxLength);
        if (error is not null)
        {
            return null;
        }

        try
        {
            var raw = token.ToString();
            var jwt = new JsonWebToken(raw);
            if (!SupportedAlgorithms.Contains(jwt.Alg ?? string.Empty))
            {
                error = "The bearer token's signing algorithm is not accepted.";
                return null;
            }

            if (jwt.TryGetHeaderValue<object>("crit", out _))
            {
                // RFC 7515 §4.1.11: a recipient must refuse a JWS whose critical extensions it does not understand; we
                // understand none.
                error = "The bearer token names critical header parameters this server does not understand.";
                return null;
            }

            if (!IsAccessTokenType(jwt.Typ))
            {
                error = "The bearer token is not an access token (its typ is not at+jwt or JWT).";
                return null;
            }

            return new ParsedToken(raw, jwt);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException or System.Text.Json.JsonException
                                       or OverflowException or Microsoft.IdentityModel.Tokens.SecurityTokenException)
        {
            error = "The bearer token is not a JWT (its header or payload is not valid base64url JSON).";
            return null;
        }
    }

    /// <summary>
    /// The view of an opaque token from its authorization server's introspection answer (RFC 7662 §2.2), which must be
    /// an object with <c>"active": true</c>. Read: <c>sub</c>, <c>iss</c>, <c>exp</c>, <c>nbf</c>, <c>iat</c>, <c>aud</c>
    /// (string or array), <c>scope</c> (space-separated, or an array), <c>cnf.jkt</c>; every member becomes a claim of
    /// the principal (arrays as one claim per element), except <c>active</c>. Returns null and a safe reason when the
    /// answer is malformed (a member of the wrong type).
    /// </summary>
    public static ParsedToken? FromIntrospection(string raw, JsonElement response, out string? error)
    {
        ArgumentNullException.ThrowIfNull(raw);
        try
        {
            error = null;
            return new ParsedToken(raw, IntrospectedClaims.Read(response));
        }
        catch (FormatException ex)
        {
            error = ex.Message;
            return null;
        }
    }

    /// <inheritdoc />
    public override string ToString() => IsOpaque
        ? $"ParsedToken {{ Opaque, Introspected = {IsIntrospected}, ExpiresAt = {ExpiresAt} }}"
        : $"ParsedToken {{ Kid = {KeyId}, ExpiresAt = {ExpiresAt} }}";

    // RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    private static bool IsB64Token(ReadOnlySpan<char> token)
    {
        var end = token.Length;
        while (end > 0 && token[end - 1] == '=')
        {
            end--;
        }

        if (end == 0)
        {
            return false;
        }

        foreach (var c in token[..end])
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '+' or '/'))
            {
                return false;
            }
        }

        return true;
    }

    // Cheap structural checks first: they refuse most garbage without the exception a full parse would throw.
    private static string? Precheck(ReadOnlySpan<char> token, int maxLength)
    {
        if (token.IsEmpty)
        {
            return "The bearer token is empty.";
        }

        if (token.Length > maxLength)
        {
            return $"The bearer token is longer than {maxLength} bytes.";
        }

        if (token.Count('.') != 2)
        {
            return "The bearer token is not a JWT (it must have exactly three dot-separated parts).";
        }

        var index = 0;
        foreach (var part in token.Split('.'))
        {
            var text = token[part];
            if (text.IsEmpty || !IsBase64Url(text) || (index < 2 && !StartsWithJsonObject(text)))
            {
                return "The bearer token is not a JWT (its parts are not base64url JSON).";
            }

            index++;
        }

        return null;
    }

    /// <summary>
    /// The access-token <c>typ</c> policy (RFC 9068 §2.1, RFC 8725 §3.11): <c>at+jwt</c> or <c>application/at+jwt</c>, plain
    /// <c>JWT</c>, or no <c>typ</c> at all; compared case-insensitively, as media types are. Any other type (an ID token,
    /// a logout token, a DPoP proof, a security event) is not an access token and is refused, so a token minted for
    /// another purpose cannot be replayed as one.
    /// </summary>
    public static bool IsAccessTokenType(string? typ) =>
        string.IsNullOrEmpty(typ)
        || typ.Equals("at+jwt", StringComparison.OrdinalIgnoreCase)
        || typ.Equals("application/at+jwt", StringComparison.OrdinalIgnoreCase)
        || typ.Equals("JWT", StringComparison.OrdinalIgnoreCase);

    private static bool StartsWithJsonObject(ReadOnlySpan<char> part)
    {
        Span<byte> first = stackalloc byte[3];
        return part.Length >= 4
               && System.Buffers.Text.Base64Url.TryDecodeFromChars(part[..4], first, out var written)
               && written > 0 && first[0] == (byte)'{';
    }

    private static bool IsBase64Url(ReadOnlySpan<char> part)
    {
        foreach (var c in part)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_'))
            {
                return false;
            }
        }

        return part.Length % 4 != 1;
    }

    private static DateTimeOffset? ToDate(JsonWebToken jwt, string claim)
    {
        if (!jwt.TryGetPayloadValue<object>(claim, out var value) || value is null)
        {
            return null;
        }

        var seconds = value switch
        {
            long l => l,
            int i => i,
            double d when !double.IsNaN(d) && !double.IsInfinity(d) => (long)Math.Clamp(Math.Floor(d), long.MinValue, long.MaxValue),
            decimal m => (long)Math.Clamp(Math.Floor(m), long.MinValue, long.MaxValue),
            _ => throw new FormatException($"The '{claim}' claim is not a number."),
        };
        const long maxSeconds = 253402300799; // 9999-12-31T23:59:59Z
        return DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, maxSeconds));
    }

    private static IReadOnlyList<string> ReadScopes(JsonWebToken jwt)
    {
        List<string>? scopes = null;
        AddClaim(ref scopes, jwt, ScopeClaim);
        AddClaim(ref scopes, jwt, "scp");
        return scopes is null ? [] : scopes;

        // A string (space-separated) or an array of strings (some servers send scope as an array); array elements that
        // are not strings (null, numbers, objects) are skipped, never turned into scope names such as "null".
        static void AddClaim(ref List<string>? list, JsonWebToken jwt, string claim)
        {
            if (!jwt.TryGetPayloadValue<object>(claim, out var value) || value is null)
            {
                return;
            }

            if (value is string text)
            {
                ScopeText.AddSpaceSeparated(ref list, text);
                return;
            }

            if (value is JsonElement { ValueKind: JsonValueKind.Array } array)
            {
                foreach (var e in array.EnumerateArray())
                {
                    if (e.ValueKind == JsonValueKind.String)
                    {
                        ScopeText.AddSpaceSeparated(ref list, e.GetString());
                    }
                }
            }
            else if (value is System.Collections.IEnumerable items)
            {
                foreach (var item in items)
                {
                    if (item is string s)
                    {
                        ScopeText.AddSpaceSeparated(ref list, s);
                    }
                    else if (item is JsonElement { ValueKind: JsonValueKind.String } e)
                    {
                        ScopeText.AddSpaceSeparated(ref list, e.GetString());
                    }
                }
            }
        }
    }

    private static string? ReadJkt(JsonWebToken jwt)
    {
        if (!jwt.TryGetPayloadValue<object>("cnf", out _))
        {
            return null;
        }

        using var payload = System.Text.Json.JsonDocument.Parse(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(jwt.EncodedPayload));
        return payload.RootElement.TryGetProperty("cnf", out var cnf) && cnf.ValueKind == System.Text.Json.JsonValueKind.Object
               && cnf.TryGetProperty("jkt", out var jkt) && jkt.ValueKind == System.Text.Json.JsonValueKind.String
            ? jkt.GetString()
            : "";
    }

    private static Claim[] ReadClaims(JsonWebToken jwt, IReadOnlyList<string> scopes)
    {
        var claims = new List<Claim>(16);
        var issuer = jwt.Issuer is { Length: > 0 } iss ? iss : ClaimsIdentity.DefaultIssuer;
        foreach (var claim in jwt.Claims)
        {
            if (claim.Type != ScopeClaim)
            {
                claims.Add(claim);
            }
        }

        foreach (var s in scopes)
        {
            claims.Add(new Claim(ScopeClaim, s, ClaimValueTypes.String, issuer, issuer));
        }

        return claims.ToArray();
    }
}
