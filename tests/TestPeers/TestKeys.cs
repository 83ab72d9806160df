using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.TestPeers;

/// <summary>An issuer key set made by the tests: handed (with private parts) to oidc-provider, and used to forge tokens.</summary>
public sealed class TestKeys
{
    public TestKeys(string rsaKid = "rsa-1", string ecKid = "ec-1")
    {
        Rsa = new RsaSecurityKey(RSA.Create(2048)) { KeyId = rsaKid };
        Ec = new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = ecKid };
    }

    public RsaSecurityKey Rsa { get; }

    public ECDsaSecurityKey Ec { get; }

    /// <summary>The private JWKS for oidc-provider.</summary>
    public string PrivateJwks()
    {
        var rsa = Rsa.Rsa.ExportParameters(true);
        var ec = Ec.ECDsa.ExportParameters(true);
        var keys = new JsonArray
        {
            new JsonObject
            {
                ["kty"] = "RSA", ["kid"] = Rsa.KeyId, ["use"] = "sig", ["alg"] = "RS256",
                ["n"] = B(rsa.Modulus), ["e"] = B(rsa.Exponent), ["d"] = B(rsa.D), ["p"] = B(rsa.P), ["q"] = B(rsa.Q),
                ["dp"] = B(rsa.DP), ["dq"] = B(rsa.DQ), ["qi"] = B(rsa.InverseQ),
            },
            new JsonObject
            {
                ["kty"] = "EC", ["kid"] = Ec.KeyId, ["use"] = "sig", ["alg"] = "ES256", ["crv"] = "P-256",
                ["x"] = B(ec.Q.X), ["y"] = B(ec.Q.Y), ["d"] = B(ec.D),
            },
        };
        return new JsonObject { ["keys"] = keys }.ToJsonString();
    }

    /// <summary>Signs <paramref name="claims"/> with one of these keys (or a given one), e.g. to make expired tokens the issuer would have signed.</summary>
    public static string Sign(SecurityKey key, string alg, IDictionary<string, object> claims, string? typ = "JWT", string? kid = null)
    {
        if (kid is not null && key.KeyId != kid)
        {
            throw new ArgumentException("the kid is the key's KeyId", nameof(kid));
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Claims = claims,
            SigningCredentials = new SigningCredentials(key, alg),
            TokenType = typ,
        };
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(descriptor);
    }

    /// <summary>An unsigned token (<c>alg: none</c>).</summary>
    public static string Unsigned(IDictionary<string, object> claims, string kid) =>
        $"{B(JsonSerializer.SerializeToUtf8Bytes(new { alg = "none", typ = "JWT", kid }))}.{B(JsonSerializer.SerializeToUtf8Bytes(claims))}.";

    /// <summary>HS256 signed with the bytes of a public key: the classic key-confusion forgery.</summary>
    public static string HmacWithPublicKey(RsaSecurityKey publicKey, IDictionary<string, object> claims, string kid)
    {
        var secret = publicKey.Rsa.ExportSubjectPublicKeyInfo();
        var header = B(JsonSerializer.SerializeToUtf8Bytes(new { alg = "HS256", typ = "JWT", kid }));
        var payload = B(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signature = HMACSHA256.HashData(secret, System.Text.Encoding.ASCII.GetBytes(header + "." + payload));
        return $"{header}.{payload}.{B(signature)}";
    }

    public static string B(byte[]? bytes) => Base64UrlEncoder.Encode(bytes ?? []);
}
