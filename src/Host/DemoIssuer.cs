using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.Host;

/// <summary>
/// <c>--demo</c>: a development issuer inside the host, on the same loopback port under <c>/demo-issuer</c>: OIDC
/// discovery and a JWKS with a key generated at start. Refused on a non-loopback bind. For trying McpAuth, never for
/// production.
/// </summary>
public sealed class DemoIssuer
{
    private readonly RsaSecurityKey _key = new(RSA.Create(2048)) { KeyId = "demo-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)) };

    /// <summary>Creates the issuer for a host listening at <paramref name="baseUrl"/>.</summary>
    public DemoIssuer(string baseUrl) => Issuer = baseUrl.TrimEnd('/') + "/demo-issuer";

    /// <summary>The issuer URL.</summary>
    public string Issuer { get; }

    /// <summary>Maps discovery and JWKS.</summary>
    public void Map(WebApplication app)
    {
        app.MapGet("/demo-issuer/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = Issuer,
            ["jwks_uri"] = Issuer + "/jwks",
            ["token_endpoint"] = Issuer + "/token",
            ["response_types_supported"] = new[] { "code" },
            ["subject_types_supported"] = new[] { "public" },
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        }));
        app.MapGet("/demo-issuer/jwks", () =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_key.Rsa.ExportParameters(false)) { KeyId = _key.KeyId });
            return Results.Text(JsonSerializer.Serialize(new { keys = new[] { new { kty = jwk.Kty, kid = jwk.Kid, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } } }), "application/json");
        });
    }

    /// <summary>A token for <paramref name="audience"/>, valid for <paramref name="lifetime"/>.</summary>
    public string CreateToken(string audience, IEnumerable<string> scopes, TimeSpan lifetime, string subject = "demo-user")
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            Subject = new System.Security.Claims.ClaimsIdentity([new System.Security.Claims.Claim("sub", subject)]),
            Claims = new Dictionary<string, object> { ["scope"] = string.Join(' ', scopes) },
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            TokenType = "at+jwt",
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
        });
    }
}
