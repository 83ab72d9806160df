using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.Dpop;

/// <summary>
/// Checks a DPoP proof as RFC 9449 §4.3 says: one compact JWS of bounded size; <c>typ</c> <c>dpop+jwt</c>; an asymmetric
/// <c>alg</c> from <see cref="McpAuthOptions.DpopAlgorithms"/>; a public <c>jwk</c> header (a private member is refused),
/// whose key verifies the signature; <c>htm</c> equal to the request's method; <c>htu</c> equal to the request's URI
/// without query and fragment, compared after RFC 3986 normalization; <c>iat</c> within
/// <see cref="McpAuthOptions.DpopProofLifetime"/> of now, either way; a <c>jti</c>; and <c>ath</c> equal to the base64url
/// SHA-256 of the access token. Never throws for bad input.
/// </summary>
public sealed class DpopProofValidator
{
    /// <summary>The largest proof accepted, in characters.</summary>
    public const int MaxProofLength = 8 * 1024;

    private static readonly HashSet<string> PrivateMembers = new(StringComparer.Ordinal) { "d", "p", "q", "dp", "dq", "qi", "oth", "k" };
    private const int MaxKeysKept = 4096;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    // A client signs every proof with the same key: the key parsed from one proof's header is reused for the next one with
    // the same header JWK (exact text), so the EC or RSA key is imported once, not per request. Bounded: when full, it
    // starts over (a flood of fresh keys costs what it cost without the memo).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, JsonWebKey> _keys = new(StringComparer.Ordinal);
    private readonly HashSet<string> _algorithms;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;

    /// <summary>Creates the validator from <see cref="McpAuthOptions"/>.</summary>
    public DpopProofValidator(IOptions<McpAuthOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _algorithms = options.Value.DpopAlgorithms.Where(a => a is not ("none" or "HS256" or "HS384" or "HS512")).ToHashSet(StringComparer.Ordinal);
        _lifetime = options.Value.DpopProofLifetime;
        _time = time;
    }

    /// <summary>The algorithms a proof may use.</summary>
    public IReadOnlyCollection<string> Algorithms => _algorithms;

    /// <summary>Checks <paramref name="proof"/> for <paramref name="request"/> and <paramref name="accessToken"/>; null and a reason when it fails.</summary>
    public ValueTask<(DpopProof? Proof, string? Error)> ValidateAsync(string? proof, DpopRequest request, string accessToken)
    {
        ArgumentNullException.ThrowIfNull(accessToken);
        return ValidateCoreAsync(proof, request, accessToken);
    }

    /// <summary>
    /// Checks <paramref name="proof"/> for a token request (RFC 9449 §5: a proof sent to the authorization server's token
    /// endpoint, which carries no <c>ath</c> because there is no access token yet); everything else as for a resource.
    /// </summary>
    public ValueTask<(DpopProof? Proof, string? Error)> ValidateTokenRequestAsync(string? proof, DpopRequest request) =>
        ValidateCoreAsync(proof, request, accessToken: null);

    private async ValueTask<(DpopProof? Proof, string? Error)> ValidateCoreAsync(string? proof, DpopRequest request, string? accessToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrEmpty(proof))
        {
            return (null, "The request has no DPoP proof.");
        }

        if (proof.Length > MaxProofLength || proof.AsSpan().Count('.') != 2 || proof.Contains(',', StringComparison.Ordinal))
        {
            return (null, "The DPoP proof is not one compact JWS.");
        }

        JsonWebToken jwt;
        JsonWebKey key;
        try
        {
            jwt = new JsonWebToken(proof);
            if (!string.Equals(jwt.Typ, "dpop+jwt", StringComparison.OrdinalIgnoreCase))
            {
                return (null, "The DPoP proof's typ is not dpop+jwt.");
            }

            if (jwt.Alg is not { } alg || !_algorithms.Contains(alg))
            {
                return (null, "The DPoP proof's signing algorithm is not accepted.");
            }

            if (PublicKey(proof) is not { } jwk)
            {
                return (null, "The DPoP proof has no public jwk header (a private key member is refused).");
            }

            key = jwk;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or JsonException or SecurityTokenException or InvalidOperationException)
        {
            return (null, "The DPoP proof is not a valid JWS.");
        }

        var result = await _handler.ValidateTokenAsync(jwt, new TokenValidationParameters
        {
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = false,
            ValidAlgorithms = _algorithms,
            ValidTypes = ["dpop+jwt"],
            IssuerSigningKeyResolver = (_, _, _, _) => [key],
        }).ConfigureAwait(false);
        if (!result.IsValid)
        {
            return (null, "The DPoP proof's signature is not valid under its jwk.");
        }

        if (!jwt.TryGetPayloadValue<string>("htm", out var htm) || !string.Equals(htm, request.Method, StringComparison.Ordinal))
        {
            return (null, "The DPoP proof's htm is not this request's method.");
        }

        if (!jwt.TryGetPayloadValue<string>("htu", out var htu) || !SameUri(htu, request.Uri))
        {
            return (null, "The DPoP proof's htu is not this request's URI.");
        }

        if (!jwt.TryGetPayloadValue<long>("iat", out var iatSeconds))
        {
            return (null, "The DPoP proof has no iat.");
        }

        var iat = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(iatSeconds, 0, 253402300799));
        var now = _time.GetUtcNow();
        if (iat < now - _lifetime || iat > now + _lifetime)
        {
            return (null, "The DPoP proof's iat is outside the accepted window.");
        }

        if (!jwt.TryGetPayloadValue<string>("jti", out var jti) || string.IsNullOrEmpty(jti) || jti.Length > 256)
        {
            return (null, "The DPoP proof has no usable jti.");
        }

        if (accessToken is not null
            && (!jwt.TryGetPayloadValue<string>("ath", out var ath) || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(ath), Encoding.ASCII.GetBytes(Ath(accessToken)))))
        {
            return (null, "The DPoP proof's ath is not the hash of this access token.");
        }

        jwt.TryGetPayloadValue<string>("nonce", out var nonce);
        return (new DpopProof(Base64UrlEncoder.Encode(key.ComputeJwkThumbprint()), jti, nonce, iat), null);
    }

    /// <summary>The <c>ath</c> of an access token: base64url SHA-256 of its ASCII form.</summary>
    public static string Ath(string accessToken) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));

    // The jwk header as a public RSA or EC key; null when absent, symmetric, or carrying a private member.
    private JsonWebKey? PublicKey(string proof)
    {
        var header = Base64UrlEncoder.DecodeBytes(proof[..proof.IndexOf('.', StringComparison.Ordinal)]);
        using var document = JsonDocument.Parse(header);
        if (!document.RootElement.TryGetProperty("jwk", out var jwk) || jwk.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var member in jwk.EnumerateObject())
        {
            if (PrivateMembers.Contains(member.Name))
            {
                return null;
            }
        }

        var text = jwk.GetRawText();
        if (_keys.TryGetValue(text, out var known))
        {
            return known;
        }

        var key = new JsonWebKey(text);
        if (key.Kty is not (JsonWebAlgorithmsKeyTypes.RSA or JsonWebAlgorithmsKeyTypes.EllipticCurve))
        {
            return null;
        }

        if (_keys.Count >= MaxKeysKept)
        {
            _keys.Clear();
        }

        _keys[text] = key;
        return key;
    }

    // RFC 9449 §4.3: htu matches the request URI ignoring query and fragment, after RFC 3986 §6.2.2/§6.2.3 normalization
    // (case of scheme and host, default ports, percent-encoding of unreserved characters).
    private static bool SameUri(string htu, string requestUri) =>
        Uri.TryCreate(htu, UriKind.Absolute, out var a) && Uri.TryCreate(requestUri, UriKind.Absolute, out var b)
        && (a.Scheme == Uri.UriSchemeHttps || a.Scheme == Uri.UriSchemeHttp)
        && Uri.Compare(a, b, UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.SafeUnescaped, StringComparison.Ordinal) == 0;
}
