using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using McpAuth.Host.Demo;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace McpAuth.Host.Tests.Demo;

/// <summary>
/// Serves a client's Client ID Metadata Document over https on loopback, as a client (or its developer) publishes it,
/// and counts how often the authorization server fetched it. The SDKs accept only https document URLs; the certificate
/// is made here, and <see cref="Trust"/> lets the demo's document fetcher trust it (as a real one trusts a public CA).
/// </summary>
public sealed class MetadataDocumentServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _fetches;

    private MetadataDocumentServer(WebApplication app, string url, X509Certificate2 certificate)
    {
        _app = app;
        Url = url;
        Certificate = certificate;
    }

    public X509Certificate2 Certificate { get; }

    public string Url { get; }

    public int Fetches => Volatile.Read(ref _fetches);

    /// <summary>Starts a server whose document lists <paramref name="redirectUri"/>; <paramref name="document"/> may replace it.</summary>
    public static async Task<MetadataDocumentServer> StartAsync(string redirectUri, Func<string, object>? document = null)
    {
        var port = Repo.FreePort();
        var url = $"https://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/client/metadata.json";
        var certificate = SelfSigned();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.UseHttps(certificate)));
        builder.Services.AddLogging(l => l.ClearProviders());
        var app = builder.Build();
        MetadataDocumentServer? server = null;
        app.MapGet("/client/metadata.json", () =>
        {
            Interlocked.Increment(ref server!._fetches);
            return Results.Json(document?.Invoke(url) ?? new
            {
                client_id = url,
                client_name = "McpAuth test client (metadata document)",
                redirect_uris = new[] { redirectUri },
                grant_types = new[] { "authorization_code", "refresh_token" },
                response_types = new[] { "code" },
                token_endpoint_auth_method = "none",
            });
        });
        server = new MetadataDocumentServer(app, url, certificate);
        await app.StartAsync();
        return server;
    }

    /// <summary>Makes the demo's metadata-document fetcher trust this server's certificate (and only for it).</summary>
    public void Trust(WebApplicationBuilder demo) =>
        demo.Services.AddHttpClient(DemoClientRegistration.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == Certificate.GetCertHashString() },
        });

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Certificate.Dispose();
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }
}
