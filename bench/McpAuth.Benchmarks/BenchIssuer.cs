using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using McpAuth.OpenIdConnect;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.Benchmarks;

/// <summary>An in-memory issuer (discovery + JWKS served by a stub handler, no network) and tokens signed by it.</summary>
public sealed class BenchIssuer
{
    public const string Issuer = "https://issuer.bench";
    public const string Audience = "https://mcp.bench/mcp";

    public RsaSecurityKey Rsa { get; } = new(RSA.Create(2048)) { KeyId = "rsa-1" };

    public ECDsaSecurityKey Ec { get; } = new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "ec-1" };

    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public string Token(SecurityKey key, string alg, int expiresInSeconds = 3600, string? jti = null)
    {
        var now = DateTimeOffset.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["iss"] = Issuer, ["sub"] = "alice", ["aud"] = Audience, ["scope"] = "read write",
            ["iat"] = now.AddSeconds(-10).ToUnixTimeSeconds(), ["nbf"] = now.AddSeconds(-10).ToUnixTimeSeconds(),
            ["exp"] = now.AddSeconds(expiresInSeconds).ToUnixTimeSeconds(),
        };
        if (jti is not null)
        {
            claims["jti"] = jti;
        }

        return _handler.CreateToken(new SecurityTokenDescriptor { Claims = claims, SigningCredentials = new SigningCredentials(key, alg), TokenType = "at+jwt" });
    }

    public TokenValidationParameters BareParameters() => new()
    {
        ValidIssuer = Issuer,
        ValidAudience = Audience,
        IssuerSigningKeys = [PublicOf(Rsa), PublicOf(Ec)],
        ValidAlgorithms = OidcTokenValidator.AsymmetricAlgorithms,
        RequireExpirationTime = true,
        ClockSkew = TimeSpan.FromSeconds(60),
        TryAllIssuerSigningKeys = false,
    };

    /// <summary>The McpAuth pipeline in OIDC mode with the real OIDC adapter, fed by the stub issuer.</summary>
    public IMediator Pipeline(int tokenCacheMaxEntries = 10_000, Action<IServiceCollection>? more = null, Action<McpAuthOptions>? options = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMcpAuth(o =>
        {
            o.AuthorizationUrl = Issuer;
            o.Audience = Audience;
            o.TokenCacheMaxEntries = tokenCacheMaxEntries;
            options?.Invoke(o);
        }).AddOidcProvider();
        services.AddHttpClient(IssuerMetadataStore.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => new StubHandler(this));
        more?.Invoke(services);
        return services.BuildServiceProvider().GetRequiredService<IMediator>();
    }

    private static SecurityKey PublicOf(SecurityKey key) => key switch
    {
        RsaSecurityKey r => new RsaSecurityKey(r.Rsa.ExportParameters(false)) { KeyId = r.KeyId },
        ECDsaSecurityKey e => new ECDsaSecurityKey(ECDsa.Create(e.ECDsa.ExportParameters(false))) { KeyId = e.KeyId },
        _ => key,
    };

    public string Jwks()
    {
        var rsa = JsonWebKeyConverter.ConvertFromRSASecurityKey((RsaSecurityKey)PublicOf(Rsa));
        var ec = JsonWebKeyConverter.ConvertFromECDsaSecurityKey((ECDsaSecurityKey)PublicOf(Ec));
        return JsonSerializer.Serialize(new
        {
            keys = new object[]
            {
                new { kty = "RSA", kid = rsa.Kid, use = "sig", n = rsa.N, e = rsa.E },
                new { kty = "EC", kid = ec.Kid, use = "sig", crv = ec.Crv, x = ec.X, y = ec.Y },
            },
        });
    }

    /// <summary>Serves discovery, JWKS and (for the report) an RFC 8693 token endpoint; counts calls.</summary>
    public sealed class StubHandler(BenchIssuer issuer) : HttpMessageHandler
    {
        public static int TokenEndpointCalls;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            string body;
            if (path == "/.well-known/openid-configuration")
            {
                body = JsonSerializer.Serialize(new { issuer = Issuer, jwks_uri = Issuer + "/jwks", token_endpoint = Issuer + "/token" });
            }
            else if (path == "/jwks")
            {
                body = issuer.Jwks();
            }
            else if (path == "/token")
            {
                Interlocked.Increment(ref TokenEndpointCalls);
                await Task.Delay(50, cancellationToken); // a real STS takes time: concurrent callers pile up
                body = JsonSerializer.Serialize(new { access_token = "exchanged-" + Guid.NewGuid().ToString("N"), token_type = "Bearer", expires_in = 3600 });
            }
            else
            {
                return new HttpResponseMessage(HttpStatusCode.NotFound);
            }

            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        }
    }
}
