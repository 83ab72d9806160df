using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.OpenIdConnect.Exchange;

/// <summary>
/// <c>private_key_jwt</c> (RFC 7523 §2.2, OIDC Core §9): signs one client assertion per request with the key in
/// <see cref="TokenExchangeOptions.StsClientKeyFile"/>: <c>iss</c> = <c>sub</c> = the client id, <c>aud</c> = the token
/// endpoint, a random 128-bit <c>jti</c>, <c>iat</c> = <c>nbf</c> = now, <c>exp</c> = now + 60 s. A PEM that also holds
/// the key's certificate adds its thumbprints (<c>x5t</c>, which Microsoft Entra ID requires, and <c>x5t#S256</c>; an EC
/// certificate only <c>x5t#S256</c>). The key is reloaded when the file changes; it is never logged.
/// </summary>
internal sealed class ClientAssertionSigner(string keyFile, string? keyId, string? algorithm, TimeProvider time)
{
    /// <summary>How long an assertion may be used (the brief of RFC 7523 §3: short-lived).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly Lock _lock = new();
    private (DateTime Written, long Length, SigningKey Key)? _loaded;

    /// <summary>A new assertion for <paramref name="clientId"/> at <paramref name="audience"/>, or null with <paramref name="problem"/>.</summary>
    public string? Create(string clientId, string audience, out string? problem)
    {
        var key = Key(out problem);
        if (key is null)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var descriptor = new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object>
            {
                ["iss"] = clientId,
                ["sub"] = clientId,
                ["aud"] = audience,
                ["jti"] = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
                ["iat"] = now.ToUnixTimeSeconds(),
                ["nbf"] = now.ToUnixTimeSeconds(),
                ["exp"] = now.Add(Lifetime).ToUnixTimeSeconds(),
            },
            SigningCredentials = key.Credentials(),
            TokenType = "JWT",
            AdditionalHeaderClaims = key.Headers,
        };
        return Handler.CreateToken(descriptor);
    }

    private SigningKey? Key(out string? problem)
    {
        problem = null;
        try
        {
            var info = new FileInfo(keyFile);
            lock (_lock)
            {
                if (_loaded is { } loaded && loaded.Written == info.LastWriteTimeUtc && loaded.Length == info.Length)
                {
                    return loaded.Key;
                }

                var key = Load(keyFile, keyId, algorithm);
                _loaded = (info.LastWriteTimeUtc, info.Length, key);
                return key;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            problem = ex is InvalidDataException ? ex.Message : "cannot be read (" + ex.GetType().Name + ")";
            return null;
        }
    }

    /// <summary>The signing key in <paramref name="path"/>; an <see cref="InvalidDataException"/> says why it is unusable (without its content).</summary>
    public static SigningKey Load(string path, string? keyId, string? algorithm)
    {
        var text = File.ReadAllText(path);
        var (key, kid, headers, certificate) = text.TrimStart().StartsWith('{') ? FromJwk(text) : FromPem(text);
        key.KeyId = string.IsNullOrEmpty(keyId) ? kid ?? Thumbprint(key) : keyId;
        return new SigningKey(key, Algorithm(key, algorithm), headers, certificate);
    }

    private static (AsymmetricSecurityKey Key, string? Kid, Dictionary<string, object>? Headers, X509Certificate2? Certificate) FromPem(string text)
    {
        if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            return FromCertificatePem(text);
        }

        // A PKCS#8 "PRIVATE KEY" holds either kind: importing an EC one as RSA fails with a CryptographicException, not
        // an ArgumentException (which only says that no PEM label fits).
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(text);
            return (new RsaSecurityKey(Private(rsa)), null, null, null);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
        }

        var ec = ECDsa.Create();
        try
        {
            ec.ImportFromPem(text);
            return (new ECDsaSecurityKey(Private(ec)), null, null, null);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            ec.Dispose();
            throw new InvalidDataException("holds no unencrypted RSA or EC private key in PEM (PKCS#8, PKCS#1 or SEC 1) nor a private JWK");
        }
    }

    // JsonWebTokenHandler refuses x5t among the additional header claims: it writes x5t itself for X509SigningCredentials,
    // which exist for RSA certificates only. So an RSA certificate is kept to sign with; an EC one gives its key and x5t#S256.
    private static (AsymmetricSecurityKey Key, string? Kid, Dictionary<string, object>? Headers, X509Certificate2? Certificate) FromCertificatePem(string text)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(text, text);
        }
        catch (CryptographicException)
        {
            throw new InvalidDataException("holds a PEM that cannot be used (an encrypted key, or a certificate without its private key)");
        }

        var headers = new Dictionary<string, object> { ["x5t#S256"] = Base64UrlEncoder.Encode(certificate.GetCertHash(HashAlgorithmName.SHA256)) };
        try
        {
            if (certificate.GetRSAPrivateKey() is { } rsaKey)
            {
                return (new RsaSecurityKey(Private(rsaKey)), null, headers, certificate);
            }

            using (certificate)
            {
                using var ecKey = certificate.GetECDsaPrivateKey() ?? throw new InvalidDataException("holds a certificate whose key is neither RSA nor EC");
                return (new ECDsaSecurityKey(ECDsa.Create(ecKey.ExportParameters(includePrivateParameters: true))), null, headers, null);
            }
        }
        catch (CryptographicException)
        {
            certificate.Dispose();
            throw new InvalidDataException("holds a PEM that cannot be used (an encrypted key, or a certificate without its private key)");
        }
    }

    private static (AsymmetricSecurityKey Key, string? Kid, Dictionary<string, object>? Headers, X509Certificate2? Certificate) FromJwk(string text)
    {
        JsonWebKey jwk;
        try
        {
            jwk = new JsonWebKey(text);
        }
        catch (ArgumentException)
        {
            throw new InvalidDataException("holds JSON that is not a JWK");
        }

        if (string.IsNullOrEmpty(jwk.D))
        {
            throw new InvalidDataException("holds a JWK without its private part (d)");
        }

        try
        {
            return jwk.Kty switch
            {
                "RSA" => (new RsaSecurityKey(RSA.Create(new RSAParameters
                {
                    Modulus = B(jwk.N), Exponent = B(jwk.E), D = B(jwk.D), P = B(jwk.P), Q = B(jwk.Q), DP = B(jwk.DP), DQ = B(jwk.DQ), InverseQ = B(jwk.QI),
                })), jwk.Kid, null, null),
                "EC" => (new ECDsaSecurityKey(ECDsa.Create(new ECParameters
                {
                    Curve = jwk.Crv switch
                    {
                        "P-256" => ECCurve.NamedCurves.nistP256,
                        "P-384" => ECCurve.NamedCurves.nistP384,
                        "P-521" => ECCurve.NamedCurves.nistP521,
                        _ => throw new InvalidDataException("holds an EC JWK on a curve other than P-256, P-384 or P-521"),
                    },
                    Q = new ECPoint { X = B(jwk.X), Y = B(jwk.Y) },
                    D = B(jwk.D),
                })), jwk.Kid, null, null),
                _ => throw new InvalidDataException("holds a JWK whose kty is neither RSA nor EC"),
            };
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or ArgumentException)
        {
            throw new InvalidDataException("holds a JWK whose key parameters are not valid");
        }

        static byte[] B(string? value) => string.IsNullOrEmpty(value) ? [] : Base64UrlEncoder.DecodeBytes(value);
    }

    // A key imported from a PEM may be public only: refuse it now rather than fail at each request.
    private static RSA Private(RSA rsa)
    {
        _ = rsa.ExportParameters(includePrivateParameters: true);
        return rsa;
    }

    private static ECDsa Private(ECDsa ec)
    {
        _ = ec.ExportParameters(includePrivateParameters: true);
        return ec;
    }

    private static string Algorithm(AsymmetricSecurityKey key, string? configured)
    {
        var allowed = key switch
        {
            RsaSecurityKey => new[] { "RS256", "RS384", "RS512", "PS256", "PS384", "PS512" },
            ECDsaSecurityKey ec => [ec.ECDsa.KeySize switch { 256 => "ES256", 384 => "ES384", _ => "ES512" }],
            _ => [],
        };
        if (string.IsNullOrEmpty(configured))
        {
            return allowed[0];
        }

        return allowed.Contains(configured, StringComparer.Ordinal)
            ? configured
            : throw new InvalidDataException($"holds a key that cannot sign {LogValueOf(configured)} (it can sign {string.Join(", ", allowed)})");
    }

    private static string LogValueOf(string value) => Diagnostics.LogValue.Clean(value, 16);

    private static string Thumbprint(AsymmetricSecurityKey key) =>
        Base64UrlEncoder.Encode(JsonWebKeyConverter.ConvertFromSecurityKey(key).ComputeJwkThumbprint());
}

/// <summary>
/// A loaded client key: the key (its <c>kid</c> set), the algorithm it signs with, extra header members, and the RSA
/// certificate it came with (signed through it, so that the token handler writes <c>x5t</c>).
/// </summary>
internal sealed record SigningKey(AsymmetricSecurityKey Key, string Algorithm, Dictionary<string, object>? Headers, X509Certificate2? Certificate = null)
{
    public SigningCredentials Credentials()
    {
        if (Certificate is null)
        {
            return new SigningCredentials(Key, Algorithm);
        }

        var credentials = new X509SigningCredentials(Certificate, Algorithm);
        credentials.Key.KeyId = Key.KeyId;
        return credentials;
    }
}
