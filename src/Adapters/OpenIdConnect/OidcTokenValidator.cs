using System.Runtime.CompilerServices;
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
    private readonly ConditionalWeakTable<IssuerMetadata, TokenValidationParameters> _parameters = new();
    private readonly string? _audience;
    private readonly TimeSpan _clockSkew;
    private readonly TimeProvider _time;

    /// <summary>Creates the validator.</summary>
    public OidcTokenValidator(IssuerMetadataStore store, IOptions<McpAuthOptions> options, TimeProvider time, ILogger<OidcTokenValidator> logger)
    {
        _store = store;
        _logger = logger;
        _audience = options.Value.Audience is { Length: > 0 } audience ? audience : null;
        _clockSkew = options.Value.ClockSkew;
        _time = time;
    }

    /// <inheritdoc />
    public async ValueTask<OidcValidationResult> ValidateAsync(ParsedToken parsed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        var token = parsed.Jwt;
        if (!AsymmetricAlgorithms.Contains(token.Alg))
        {
            return Reject(token, "The token's signing algorithm is not accepted for issuer-signed tokens.");
        }

        var metadata = await _store.GetAsync(cancellationToken).ConfigureAwait(false);
        if (metadata is null)
        {
            return OidcValidationResult.Unavailable("The issuer's metadata or keys could not be fetched.");
        }

        if (!string.IsNullOrEmpty(token.Kid) && !metadata.KeysById.ContainsKey(token.Kid))
        {
            // Unknown kid: maybe the issuer rotated. One awaited, rate-limited refresh.
            metadata = await _store.RefreshKeysAsync(metadata, cancellationToken).ConfigureAwait(false) ?? metadata;
        }

        var result = await _handler.ValidateTokenAsync(token, Parameters(metadata)).ConfigureAwait(false);
        if (!result.IsValid && result.Exception is SecurityTokenInvalidSignatureException && !string.IsNullOrEmpty(token.Kid)
            && metadata.KeysById.ContainsKey(token.Kid))
        {
            // A known kid whose signature fails: the issuer may have replaced the key material under the same id.
            var refreshed = await _store.RefreshKeysAsync(metadata, cancellationToken).ConfigureAwait(false);
            if (refreshed is not null && !ReferenceEquals(refreshed, metadata))
            {
                result = await _handler.ValidateTokenAsync(token, Parameters(refreshed)).ConfigureAwait(false);
            }
        }

        return result.IsValid ? OidcValidationResult.Valid : Reject(token, Describe(result.Exception));
    }

    private OidcValidationResult Reject(JsonWebToken token, string reason)
    {
        Log.TokenRejected(_logger, token.Kid, reason);
        return OidcValidationResult.Invalid(reason);
    }

    private TokenValidationParameters Parameters(IssuerMetadata metadata) =>
        _parameters.GetValue(metadata, m => new TokenValidationParameters
        {
            ValidIssuer = m.Issuer,
            ValidateIssuer = true,
            IssuerSigningKeys = m.SigningKeys,
            ValidateIssuerSigningKey = true,
            ValidAlgorithms = AsymmetricAlgorithms,
            ValidAudience = _audience,
            ValidateAudience = _audience is not null,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateLifetime = true,
            ClockSkew = _clockSkew,
            LifetimeValidator = ValidateLifetime,
            TryAllIssuerSigningKeys = false,
            SaveSigninToken = false,
        });

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
