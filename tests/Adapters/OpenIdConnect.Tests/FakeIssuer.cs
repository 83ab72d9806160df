using System.Collections.Concurrent;
using System.Net;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.OpenIdConnect.Tests;

/// <summary>
/// A minimal plain-http issuer on 127.0.0.1 for tests that need to control what the metadata publishes (an off-loopback
/// <c>token_endpoint</c>) or to stop the issuer at will: OIDC discovery, a JWKS with the public RSA key of
/// <see cref="Keys"/>, and a <c>/token</c> endpoint that answers an RFC 8693 exchange. Counts every request by path.
/// </summary>
internal sealed class FakeIssuer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _stopped;

    private FakeIssuer(WebApplication app) => _app = app;

    public TestKeys Keys { get; } = new();

    public string Issuer { get; private set; } = "";

    /// <summary>The <c>token_endpoint</c> the metadata publishes; default: this issuer's own <c>/token</c>.</summary>
    public string? TokenEndpoint { get; set; }

    public ConcurrentDictionary<string, int> Hits { get; } = new(StringComparer.Ordinal);

    public int Count(string path) => Hits.TryGetValue(path, out var n) ? n : 0;

    public static async Task<FakeIssuer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var issuer = new FakeIssuer(app);
        app.Use((context, next) =>
        {
            issuer.Hits.AddOrUpdate(context.Request.Path.Value ?? "", 1, (_, n) => n + 1);
            return next(context);
        });
        app.MapGet("/.well-known/openid-configuration", () => Results.Json(new
        {
            issuer = issuer.Issuer,
            jwks_uri = issuer.Issuer + "/jwks",
            token_endpoint = issuer.TokenEndpoint ?? issuer.Issuer + "/token",
        }));
        app.MapGet("/jwks", () =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(issuer.Keys.Rsa.Rsa.ExportParameters(false)) { KeyId = issuer.Keys.Rsa.KeyId });
            return Results.Json(new { keys = new[] { new { kty = "RSA", kid = jwk.Kid, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } } });
        });
        app.MapPost("/token", () => Results.Json(RecordingHandler.ExchangeResponse("from-fake-issuer")));
        await app.StartAsync();
        issuer.Issuer = app.Urls.First().TrimEnd('/');
        return issuer;
    }

    /// <summary>A token this issuer would have signed, for <see cref="Harness.Resource"/>.</summary>
    public string Token() => TestKeys.Sign(Keys.Rsa, "RS256", Claims.For(Issuer));

    /// <summary>Stops answering: the port refuses connections from now on.</summary>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _app.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }
}
