using System.Runtime.CompilerServices;
using McpAuth.Diagnostics;
using McpAuth.Ports;
using McpAuth.Tokens;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.OpenIdConnect;

/// <summary>
/// <see cref="IOidcTokenValidator"/> on <see cref="JsonWebTokenHandler"/> and the issuer's published keys: signature
/// (RS/PS/ES 256/384/512 only, so no <c>none</c> and no HMAC key confusion), issuer, audience (when one is expected),
/// lifetime with a required <c>exp</c>. An unknown <c>kid</c>, or a bad signature under a known one, triggers one
/// rate-limited key refresh and a retry. <c>typ</c> may be <c>JWT</c> or <c>at+jwt</c> (RFC 9068).
/// </summary>
public sealed class OidcTokenValidator : IOidcTokenValidator
{
    /// <summary>The algorithms accepted for issuer-signed tokens. EdDSA is not supported by Microsoft.IdentityModel 8.</summary>
    public static readonly IReadOnlyList<string> AsymmetricAlgorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    private readonly IssuerMetadataStore _store;
    private readonly ILogger<OidcTokenValidator> _logger;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly ConditionalWeakTable<IssuerMetadata, ParameterSet> _parameters = new();
    private readonly string[] _audiences;
    private readonly TimeSpan _clockSkew;
    private readonly TimeProvider _time;

    /// <summary>Creates the validator.</summary>
    public OidcTokenValidator(IssuerMetadataStore store, IOptions<McpAuthOptions> options, TimeProvider time, ILogger<OidcTokenValidator> logger)
        : this(store, options?.Value.Audience is { Length: > 0 } audience ? [audience] : [], options!.Value.ClockSkew, time, logger)
    {
    }

    /// <summary>The validator of one issuer of several: its store and its audiences (any one; empty: none expected).</summary>
    internal OidcTokenValidator(IssuerMetadataStore store, IReadOnlyList<string> audiences, TimeSpan clockSkew, TimeProvider time, ILogger<OidcTokenValidator> logger)
    {
        _store = store;
        _logger = logger;
        _audiences = [.. audiences];
        _clockSkew = clockSkew;
        _time = time;
    }

    /// <summary>The issuer's metadata store this validator uses.</summary>
    internal IssuerMetadataStore Store => _store;

    /// <inheritdoc />
    public async ValueTask<OidcValidationResult> ValidateAsync(ParsedToken parsed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        if (parsed.Jwt is not { } token)
        {
            // An opaque token is the introspection stage's; one that reaches this stage unresolved is refused.
            return Reject(parsed, "The token is not a JWT and was not introspected.");
        }

        if (!AsymmetricAlgorithms.Contains(token.Alg))
        {
            return Reject(parsed, "The token's signing algorithm is not accepted for issuer-signed tokens.");
        }

        var arrived = _time.GetUtcNow();
        var metadata = await _store.GetAsync(cancellationToken).ConfigureAwait(false);
        if (metadata is null)
        {
            return OidcValidationResult.Unavailable("The issuer's metadata or keys could not be fetched.");
        }

        var kid = parsed.KeyId;
        if (kid is not null && !metadata.KeysById.ContainsKey(kid))
        {
            // Unknown kid: maybe the issuer rotated. Wait for a snapshot fetched after this token arrived, then decide.
            var refreshed = await _store.RefreshKeysAsync(metadata, arrived, cancellationToken).ConfigureAwait(false);
            if (refreshed is null)
            {
                return OidcValidationResult.Unavailable("The issuer cannot be reached, and the token's key is not among the cached ones.");
            }

            metadata = refreshed;
            if (!metadata.KeysById.ContainsKey(kid))
            {
                return Reject(parsed, "The token was signed with a key the issuer does not publish.");
            }
        }

        var result = await _handler.ValidateTokenAsync(token, Parameters(metadata, parsed)).ConfigureAwait(false);
        if (!result.IsValid && result.Exception is SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException
            && metadata.FetchedAt < arrived)
        {
            // A signature that fails under keys older than the token: the issuer may have replaced the material under the
            // same kid (or, without a kid, added a key). One snapshot fetched after the token arrived decides.
            var refreshed = await _store.RefreshKeysAsync(metadata, arrived, cancellationToken).ConfigureAwait(false);
            if (refreshed is not null && !ReferenceEquals(refreshed, metadata))
            {
                result = await _handler.ValidateTokenAsync(token, Parameters(refreshed, parsed)).ConfigureAwait(false);
            }
        }

        return result.IsValid ? OidcValidationResult.Valid : Reject(parsed, Describe(result.Exception));
    }

    private OidcValidationResult Reject(ParsedToken token, string reason)
    {
        Log.TokenRejected(_logger, LogValue.Clean(token.KeyId), reason);
        return OidcValidationResult.Invalid(reason);
    }

    // With a kid: the key with that id. Without one: the issuer's keys of the token's key type, at most MaxKeysTried.
    private TokenValidationParameters Parameters(IssuerMetadata metadata, ParsedToken token)
    {
        var set = _parameters.GetValue(metadata, m => new ParameterSet(m, Create));
        if (token.KeyId is not null)
        {
            return set.ByKid;
        }

        return token.Jwt!.Alg[0] switch
        {
            'E' => set.Ec,
            _ => set.Rsa,
        };
    }

    private TokenValidationParameters Create(IssuerMetadata m, IReadOnlyList<SecurityKey> keys, bool tryAll) => new()
    {
        ValidIssuer = m.Issuer,
        ValidateIssuer = true,
        IssuerSigningKeys = keys,
        ValidateIssuerSigningKey = true,
        ValidAlgorithms = AsymmetricAlgorithms,
        ValidAudiences = _audiences,
        ValidateAudience = _audiences.Length > 0,
        RequireExpirationTime = true,
        RequireSignedTokens = true,
        ValidateLifetime = true,
        ClockSkew = _clockSkew,
        LifetimeValidator = ValidateLifetime,
        TryAllIssuerSigningKeys = tryAll,
        SaveSigninToken = false,
    };

    /// <summary>The most keys a token without <c>kid</c> is tried against.</summary>
    public const int MaxKeysTried = 8;

    private sealed class ParameterSet
    {
        public ParameterSet(IssuerMetadata metadata, Func<IssuerMetadata, IReadOnlyList<SecurityKey>, bool, TokenValidationParameters> create)
        {
            ByKid = create(metadata, metadata.SigningKeys, false);
            Rsa = create(metadata, Of(metadata, "RSA"), true);
            Ec = create(metadata, Of(metadata, "EC"), true);
        }

        public TokenValidationParameters ByKid { get; }

        public TokenValidationParameters Rsa { get; }

        public TokenValidationParameters Ec { get; }

        private static SecurityKey[] Of(IssuerMetadata metadata, string kty) => metadata.SigningKeys
            .Where(k => k is JsonWebKey jwk ? jwk.Kty == kty : kty == "RSA" ? k is RsaSecurityKey : k is ECDsaSecurityKey)
            .Take(MaxKeysTried).ToArray();
    }

    // Lifetime on the injected TimeProvider (IdentityModel's own check reads the system clock).
    private bool ValidateLifetime(DateTime? notBefore, DateTime? expires, SecurityToken token, TokenValidationParameters parameters)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        if (expires is null)
        {
            throw new SecurityTokenNoExpirationException("The token has no expiry.");
        }

        if (now - _clockSkew >= expires.Value)
        {
            throw new SecurityTokenExpiredException("The token has expired.") { Expires = expires.Value };
        }

        if (notBefore is { } nbf && now + _clockSkew < nbf)
        {
            throw new SecurityTokenNotYetValidException("The token is not valid yet.") { NotBefore = nbf };
        }

        return true;
    }

    private static string Describe(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException => "The token has expired.",
        SecurityTokenNotYetValidException => "The token is not valid yet.",
        SecurityTokenNoExpirationException => "The token has no expiry (exp).",
        SecurityTokenInvalidIssuerException => "The token was issued by another issuer.",
        SecurityTokenInvalidAudienceException => "The token's audience does not match this server.",
        SecurityTokenSignatureKeyNotFoundException => "The token was signed with a key the issuer does not publish.",
        SecurityTokenInvalidAlgorithmException => "The token's signing algorithm is not accepted for issuer-signed tokens.",
        SecurityTokenInvalidSignatureException => "The token's signature is invalid.",
        _ => "The token is not valid for this issuer.",
    };
}
