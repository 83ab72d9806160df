using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.OpenIdConnect.Tests;

/// <summary>
/// <c>CertificateAuthority</c>: an HTTPS issuer on 127.0.0.1 whose certificate is signed by a CA the tests make. With
/// the CA's PEM configured the issuer is trusted; without it, it is not (→ Unavailable). Plain http is only for loopback.
/// </summary>
public sealed class CertificateAuthorityTests : IAsyncLifetime
{
    private readonly TestKeys _keys = new();
    private WebApplication _issuer = null!;
    private string _issuerUrl = "";
    private string _caPem = "";
    private int _discoveryHits;

    public async Task InitializeAsync()
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=McpAuth Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        using var leafKey = RSA.Create(2048);
        var leafRequest = new CertificateRequest("CN=127.0.0.1", leafKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        leafRequest.CertificateExtensions.Add(san.Build());
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var leafPublic = leafRequest.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12), RandomNumberGenerator.GetBytes(8));
        using var leafWithKey = leafPublic.CopyWithPrivateKey(leafKey);
        var leaf = X509CertificateLoader.LoadPkcs12(leafWithKey.Export(X509ContentType.Pkcs12), null);

        _caPem = Path.Combine(Path.GetTempPath(), $"mcpauth-ca-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(_caPem, ca.ExportCertificatePem());

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(leaf)));
        _issuer = builder.Build();
        _issuer.MapGet("/.well-known/openid-configuration", () =>
        {
            Interlocked.Increment(ref _discoveryHits);
            return Results.Json(new { issuer = _issuerUrl, jwks_uri = _issuerUrl + "/jwks", token_endpoint = _issuerUrl + "/token" });
        });
        _issuer.MapGet("/jwks", () =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_keys.Rsa.Rsa.ExportParameters(false)) { KeyId = _keys.Rsa.KeyId });
            return Results.Json(new { keys = new[] { new { kty = "RSA", kid = jwk.Kid, use = "sig", n = jwk.N, e = jwk.E } } });
        });
        await _issuer.StartAsync();
        _issuerUrl = _issuer.Urls.First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/');
    }

    public async Task DisposeAsync()
    {
        await _issuer.StopAsync();
        await _issuer.DisposeAsync();
        File.Delete(_caPem);
    }

    private string Token() => TestKeys.Sign(_keys.Rsa, "RS256", Claims.For(_issuerUrl));

    [Fact]
    public async Task WithTheCaPem_TheHttpsIssuerIsTrusted()
    {
        using var pipeline = new Harness(
            o => { o.AuthorizationUrl = _issuerUrl; o.Audience = Harness.Resource; },
            b => b.AddOidcProvider(p => p.CertificateAuthority = _caPem));
        var outcome = await pipeline.SendAsync(Token());
        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        _discoveryHits.Should().Be(1);
    }

    [Fact]
    public async Task WithoutTheCaPem_TheHttpsIssuerIsNotTrusted()
    {
        using var pipeline = new Harness(o => { o.AuthorizationUrl = _issuerUrl; o.Audience = Harness.Resource; });
        var outcome = await pipeline.SendAsync(Token());
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        _discoveryHits.Should().Be(0, "the TLS handshake fails before any request");
    }

    [Fact]
    public async Task PlainHttpIssuerOffLoopback_IsRefusedWithoutAnyRequest()
    {
        // .invalid never resolves (RFC 2606): nothing leaves this machine even if the rule were broken.
        using var pipeline = new Harness(o => { o.AuthorizationUrl = "http://issuer.mcpauth.invalid"; o.Audience = Harness.Resource; });
        var outcome = await pipeline.SendAsync(TestKeys.Sign(_keys.Rsa, "RS256", Claims.For("http://issuer.mcpauth.invalid")));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        pipeline.Store.DocumentFetches.Should().Be(0, "plain http off loopback is refused before sending");
    }
}
