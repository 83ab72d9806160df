using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.TestPeers;

/// <summary>
/// Key material for the token-exchange tests: a client key for <c>private_key_jwt</c> (written as PEM or JWK for McpAuth,
/// published as a public JWK for the token service), and a platform issuer that signs workload tokens (federated client
/// assertions, actor tokens) the way a cluster signs projected service-account tokens.
/// </summary>
public sealed class WorkloadKeys : IDisposable
{
    private readonly List<string> _files = [];

    public WorkloadKeys(string platformIssuer = "https://platform.test")
    {
        PlatformIssuer = platformIssuer;
        ClientRsa = new RsaSecurityKey(RSA.Create(2048)) { KeyId = "client-rsa" };
        ClientEc = new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "client-ec" };
        Platform = new RsaSecurityKey(RSA.Create(2048)) { KeyId = "platform-1" };
    }

    public RsaSecurityKey ClientRsa { get; }

    public ECDsaSecurityKey ClientEc { get; }

    public RsaSecurityKey Platform { get; }

    public string PlatformIssuer { get; }

    /// <summary>The public JWK of <paramref name="key"/> (its kid included).</summary>
    public static JsonObject PublicJwk(SecurityKey key)
    {
        var jwk = JsonWebKeyConverter.ConvertFromSecurityKey(key);
        var o = new JsonObject { ["kty"] = jwk.Kty, ["kid"] = key.KeyId, ["use"] = "sig" };
        if (jwk.Kty == "RSA")
        {
            o["n"] = jwk.N;
            o["e"] = jwk.E;
        }
        else
        {
            o["crv"] = jwk.Crv;
            o["x"] = jwk.X;
            o["y"] = jwk.Y;
        }

        return o;
    }

    public static JsonObject Jwks(params SecurityKey[] keys) => new() { ["keys"] = new JsonArray(keys.Select(k => (JsonNode)PublicJwk(k)).ToArray()) };

    /// <summary>Writes <paramref name="key"/>'s private part as PKCS#8 PEM to a temporary file (removed on dispose).</summary>
    public string WritePem(AsymmetricSecurityKey key, bool withCertificate = false)
    {
        string pem = key switch
        {
            RsaSecurityKey rsa => rsa.Rsa.ExportPkcs8PrivateKeyPem(),
            ECDsaSecurityKey ec => ec.ECDsa.ExportPkcs8PrivateKeyPem(),
            _ => throw new ArgumentException("RSA or EC", nameof(key)),
        };
        if (withCertificate && key is RsaSecurityKey r)
        {
            pem += "\n" + Certificate(r).ExportCertificatePem();
        }

        return Write(pem);
    }

    /// <summary>Writes <paramref name="key"/> as a private JWK (with its kid) to a temporary file.</summary>
    public string WriteJwk(AsymmetricSecurityKey key)
    {
        var jwk = key switch
        {
            RsaSecurityKey rsa => RsaJwk(rsa),
            ECDsaSecurityKey ec => EcJwk(ec),
            _ => throw new ArgumentException("RSA or EC", nameof(key)),
        };
        return Write(jwk.ToJsonString());
    }

    /// <summary>A self-signed certificate for the RSA client key (what an Entra app registration holds).</summary>
    public static X509Certificate2 Certificate(RsaSecurityKey key)
    {
        var request = new CertificateRequest("CN=mcpauth-client", key.Rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
    }

    /// <summary>A workload token from the platform: <c>iss</c> <see cref="PlatformIssuer"/>, the given <c>sub</c> and <c>aud</c>.</summary>
    public string PlatformToken(string subject, string audience, TimeSpan lifetime, string? jti = null)
    {
        var now = DateTimeOffset.UtcNow;
        return TestKeys.Sign(Platform, "RS256", new Dictionary<string, object>
        {
            ["iss"] = PlatformIssuer,
            ["sub"] = subject,
            ["aud"] = audience,
            ["iat"] = now.AddSeconds(-5).ToUnixTimeSeconds(),
            ["nbf"] = now.AddSeconds(-5).ToUnixTimeSeconds(),
            ["exp"] = now.Add(lifetime).ToUnixTimeSeconds(),
            ["jti"] = jti ?? Guid.NewGuid().ToString("N"),
        });
    }

    /// <summary>A temporary file with <paramref name="content"/> (removed on dispose).</summary>
    public string Write(string content)
    {
        var path = Path.Combine(Path.GetTempPath(), $"mcpauth-exchange-{Guid.NewGuid():N}");
        File.WriteAllText(path, content);
        _files.Add(path);
        return path;
    }

    public void Dispose()
    {
        foreach (var file in _files)
        {
            File.Delete(file);
        }
    }

    private static JsonObject RsaJwk(RsaSecurityKey key)
    {
        var p = key.Rsa.ExportParameters(true);
        return new JsonObject
        {
            ["kty"] = "RSA", ["kid"] = key.KeyId, ["n"] = TestKeys.B(p.Modulus), ["e"] = TestKeys.B(p.Exponent), ["d"] = TestKeys.B(p.D),
            ["p"] = TestKeys.B(p.P), ["q"] = TestKeys.B(p.Q), ["dp"] = TestKeys.B(p.DP), ["dq"] = TestKeys.B(p.DQ), ["qi"] = TestKeys.B(p.InverseQ),
        };
    }

    private static JsonObject EcJwk(ECDsaSecurityKey key)
    {
        var p = key.ECDsa.ExportParameters(true);
        return new JsonObject
        {
            ["kty"] = "EC", ["kid"] = key.KeyId, ["crv"] = "P-256", ["x"] = TestKeys.B(p.Q.X), ["y"] = TestKeys.B(p.Q.Y), ["d"] = TestKeys.B(p.D),
        };
    }
}
