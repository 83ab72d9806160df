using System.Globalization;
using System.Security.Claims;
using System.Text.Json;

namespace McpAuth.Tokens;

/// <summary>
/// What an RFC 7662 introspection answer says about an opaque token, read once into the shape of
/// <see cref="ParsedToken"/>. A member of the wrong type is a malformed answer (<see cref="FormatException"/>), never
/// silently ignored: an <c>aud</c> that is a number must not read as "no audience".
/// </summary>
internal sealed class IntrospectedClaims
{
    private const int MaxClaims = 256;

    public IReadOnlyList<string> Audiences { get; private init; } = [];

    public IReadOnlyList<string> Scopes { get; private init; } = [];

    public IReadOnlyList<Claim> Claims { get; private init; } = [];

    public DateTimeOffset? ExpiresAt { get; private init; }

    public DateTimeOffset? NotBefore { get; private init; }

    public DateTimeOffset? IssuedAt { get; private init; }

    public string? Subject { get; private init; }

    public string? Issuer { get; private init; }

    public string? ConfirmationThumbprint { get; private init; }

    public static IntrospectedClaims Read(JsonElement response)
    {
        if (response.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("The introspection answer is not a JSON object.");
        }

        var issuer = OptionalString(response, "iss");
        var claimIssuer = issuer ?? ClaimsIdentity.DefaultIssuer;
        var scopes = ReadScopes(response);
        var claims = new List<Claim>(16);
        foreach (var member in response.EnumerateObject())
        {
            if (member.NameEquals("active") || member.NameEquals("scope"))
            {
                continue;
            }

            AddClaims(claims, member.Name, member.Value, claimIssuer);
            if (claims.Count > MaxClaims)
            {
                throw new FormatException("The introspection answer has too many claims.");
            }
        }

        foreach (var scope in scopes)
        {
            claims.Add(new Claim("scope", scope, ClaimValueTypes.String, claimIssuer, claimIssuer));
        }

        return new IntrospectedClaims
        {
            Issuer = issuer,
            Subject = OptionalString(response, "sub"),
            ExpiresAt = OptionalDate(response, "exp"),
            NotBefore = OptionalDate(response, "nbf"),
            IssuedAt = OptionalDate(response, "iat"),
            Audiences = ReadAudiences(response),
            Scopes = scopes,
            ConfirmationThumbprint = ReadJkt(response),
            Claims = claims.ToArray(),
        };
    }

    private static string? OptionalString(JsonElement response, string name)
    {
        if (!response.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString() is { Length: > 0 } s ? s : null
            : throw new FormatException($"The introspection answer's '{name}' is not a string.");
    }

    private static DateTimeOffset? OptionalDate(JsonElement response, string name)
    {
        if (!response.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var seconds) || double.IsNaN(seconds) || double.IsInfinity(seconds))
        {
            throw new FormatException($"The introspection answer's '{name}' is not a number.");
        }

        const long maxSeconds = 253402300799; // 9999-12-31T23:59:59Z
        return DateTimeOffset.FromUnixTimeSeconds((long)Math.Clamp(Math.Floor(seconds), 0, maxSeconds));
    }

    private static string[] ReadAudiences(JsonElement response)
    {
        if (!response.TryGetProperty("aud", out var aud) || aud.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (aud.ValueKind == JsonValueKind.String)
        {
            return aud.GetString() is { Length: > 0 } one ? [one] : [];
        }

        if (aud.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("The introspection answer's 'aud' is neither a string nor an array.");
        }

        var list = new List<string>(aud.GetArrayLength());
        foreach (var e in aud.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.String)
            {
                throw new FormatException("The introspection answer's 'aud' has an element that is not a string.");
            }

            if (e.GetString() is { Length: > 0 } s)
            {
                list.Add(s);
            }
        }

        return list.ToArray();
    }

    // RFC 7662 §2.2: a space-separated string; some servers send an array.
    private static string[] ReadScopes(JsonElement response)
    {
        if (!response.TryGetProperty("scope", out var scope) || scope.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        List<string>? list = null;
        if (scope.ValueKind == JsonValueKind.String)
        {
            ScopeText.AddSpaceSeparated(ref list, scope.GetString());
        }
        else if (scope.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in scope.EnumerateArray())
            {
                if (e.ValueKind == JsonValueKind.String)
                {
                    ScopeText.AddSpaceSeparated(ref list, e.GetString());
                }
            }
        }
        else
        {
            throw new FormatException("The introspection answer's 'scope' is not a string.");
        }

        return list is null ? [] : list.ToArray();
    }

    private static string? ReadJkt(JsonElement response)
    {
        if (!response.TryGetProperty("cnf", out var cnf) || cnf.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        // A cnf without a usable jkt is a binding we do not understand: "" makes the DPoP stage refuse it, as for a JWT.
        return cnf.ValueKind == JsonValueKind.Object && cnf.TryGetProperty("jkt", out var jkt) && jkt.ValueKind == JsonValueKind.String
            ? jkt.GetString()
            : "";
    }

    private static void AddClaims(List<Claim> claims, string type, JsonElement value, string issuer)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var e in value.EnumerateArray())
                {
                    if (e.ValueKind is not JsonValueKind.Array)
                    {
                        AddClaims(claims, type, e, issuer);
                    }
                }

                break;
            case JsonValueKind.String:
                claims.Add(new Claim(type, value.GetString()!, ClaimValueTypes.String, issuer, issuer));
                break;
            case JsonValueKind.Number:
                claims.Add(value.TryGetInt64(out var l)
                    ? new Claim(type, l.ToString(CultureInfo.InvariantCulture), ClaimValueTypes.Integer64, issuer, issuer)
                    : new Claim(type, value.GetRawText(), ClaimValueTypes.Double, issuer, issuer));
                break;
            case JsonValueKind.True:
            case JsonValueKind.False:
                claims.Add(new Claim(type, value.ValueKind == JsonValueKind.True ? "true" : "false", ClaimValueTypes.Boolean, issuer, issuer));
                break;
            case JsonValueKind.Object:
                claims.Add(new Claim(type, value.GetRawText(), "JSON", issuer, issuer));
                break;
        }
    }
}
