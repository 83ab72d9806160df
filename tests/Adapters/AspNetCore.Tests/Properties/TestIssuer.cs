using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using McpAuth.OpenIdConnect;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.AspNetCore.Tests.Properties;

/// <summary>
/// An in-memory issuer with one RSA key: discovery and JWKS served by a stub handler (no network), the real McpAuth
/// pipeline in OIDC mode in front of it, and a signer for compact JWS with any header. Adapted from
/// <c>bench/McpAuth.Benchmarks/BenchIssuer.cs</c>.
/// </summary>
public sealed class TestIssuer : IDisposable
{
    public const string Issuer = "https://issuer.properties";
    public const string Audience = "https://mcp.properties/mcp";
    public const string Kid = "rsa-1";

    private readonly ServiceProvider _services;

    public TestIssuer()
    {
        Rsa = RSA.Create(2048);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMcpAuth(o =>
            {
                o.AuthorizationUrl = Issuer;
                o.Audience = Audience;
            })
            // Each forged token forces a key refresh (unknown kid, or a failed signature); the default 2 s between two
            // fetches would make every case wait. The stub answers at once, so let every refresh through.
            .AddOidcProvider(o => o.KeyRefreshInterval = TimeSpan.FromMilliseconds(1));
        services.AddHttpClient(IssuerMetadataStore.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => new StubHandler(this));
        _services = services.BuildServiceProvider();
        Mediator = _services.GetRequiredService<IMediator>();
    }

    /// <summary>The issuer's signing key (private).</summary>
    public RSA Rsa { get; }

    /// <summary>The real pipeline: parse, offline checks, validated-token cache, issuer signature check, ...</summary>
    public IMediator Mediator { get; }

    /// <summary>JWKS and discovery requests answered so far.</summary>
    public int Fetches;

    /// <summary>The issuer's public key as a JWK (the one entry of the JWKS).</summary>
    public JsonWebKey PublicJwk => JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(Rsa.ExportParameters(false)) { KeyId = Kid });

    public string Jwks()
    {
        var jwk = PublicJwk;
        return JsonSerializer.Serialize(new { keys = new object[] { new { kty = "RSA", kid = jwk.Kid, use = "sig", n = jwk.N, e = jwk.E } } });
    }

    /// <summary>Sends <c>Authorization: Bearer &lt;token&gt;</c> through the pipeline, off the test's synchronization context.</summary>
    public AuthenticationOutcome Authenticate(string token) =>
        Task.Run(() => Mediator.Send(new AuthenticateRequest("Bearer " + token))).GetAwaiter().GetResult();

    /// <summary>A compact JWS of <paramref name="headerJson"/> and <paramref name="payloadJson"/>, signed by <paramref name="sign"/>.</summary>
    public static string Jws(string headerJson, string payloadJson, Func<byte[], byte[]> sign)
    {
        var input = $"{TextGen.B64(headerJson)}.{TextGen.B64(payloadJson)}";
        return $"{input}.{TextGen.B64(sign(Encoding.ASCII.GetBytes(input)))}";
    }

    /// <summary>A signer for a JWS <paramref name="alg"/> with an RSA, EC or HMAC key.</summary>
    public static Func<byte[], byte[]> Signer(string alg, object key) => (alg, key) switch
    {
        (['R', 'S', ..], RSA rsa) => input => rsa.SignData(input, Hash(alg), RSASignaturePadding.Pkcs1),
        (['P', 'S', ..], RSA rsa) => input => rsa.SignData(input, Hash(alg), RSASignaturePadding.Pss),
        (['E', 'S', ..], ECDsa ec) => input => ec.SignData(input, Hash(alg), DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
        (['H', 'S', ..], byte[] secret) => input => alg switch
        {
            "HS256" => HMACSHA256.HashData(secret, input),
            "HS384" => HMACSHA384.HashData(secret, input),
            _ => HMACSHA512.HashData(secret, input),
        },
        _ => throw new ArgumentException($"no signer for {alg} with {key.GetType().Name}"),
    };

    private static HashAlgorithmName Hash(string alg) => alg[2..] switch
    {
        "256" => HashAlgorithmName.SHA256,
        "384" => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };

    public void Dispose()
    {
        _services.Dispose();
        Rsa.Dispose();
    }

    /// <summary>Serves discovery and the JWKS.</summary>
    private sealed class StubHandler(TestIssuer issuer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref issuer.Fetches);
            var body = request.RequestUri!.AbsolutePath switch
            {
                "/.well-known/openid-configuration" => JsonSerializer.Serialize(new { issuer = Issuer, jwks_uri = Issuer + "/jwks" }),
                "/jwks" => issuer.Jwks(),
                _ => null,
            };
            return Task.FromResult(body is null
                ? new HttpResponseMessage(HttpStatusCode.NotFound)
                : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
        }
    }
}
