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
/// A plain-http issuer on 127.0.0.1 whose RFC 7662 endpoint (<c>/introspect</c>) answers what a test sets
/// (<see cref="Respond"/>) and records each request exactly as it arrived (headers, form): OIDC discovery publishing
/// <c>introspection_endpoint</c> (unless <see cref="PublishIntrospectionEndpoint"/> is off) and a JWKS.
/// </summary>
internal sealed class FakeIntrospectionServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeIntrospectionServer(WebApplication app) => _app = app;

    public TestKeys Keys { get; } = new();

    public string Issuer { get; private set; } = "";

    public string Endpoint => Issuer + "/introspect";

    public bool PublishIntrospectionEndpoint { get; set; } = true;

    /// <summary>The <c>introspection_endpoint</c> discovery publishes; default: <see cref="Endpoint"/>.</summary>
    public string? PublishedEndpoint { get; set; }

    /// <summary>What <c>/introspect</c> answers; default: 200 <c>{"active":false}</c>.</summary>
    public Func<HttpContext, Task> Respond { get; set; } = context => Json(context, 200, """{"active":false}""");

    public ConcurrentQueue<Recorded> Requests { get; } = new();

    public static Task Json(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body);
    }

    public static async Task<FakeIntrospectionServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FakeIntrospectionServer(app);
        app.MapGet("/.well-known/openid-configuration", () => server.PublishIntrospectionEndpoint
            ? Results.Json(new { issuer = server.Issuer, jwks_uri = server.Issuer + "/jwks", token_endpoint = server.Issuer + "/token", introspection_endpoint = server.PublishedEndpoint ?? server.Endpoint })
            : Results.Json(new { issuer = server.Issuer, jwks_uri = server.Issuer + "/jwks", token_endpoint = server.Issuer + "/token" }));
        app.MapGet("/jwks", () =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(server.Keys.Rsa.Rsa.ExportParameters(false)) { KeyId = server.Keys.Rsa.KeyId });
            return Results.Json(new { keys = new[] { new { kty = "RSA", kid = jwk.Kid, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } } });
        });
        app.MapPost("/introspect", async context =>
        {
            var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync() : null;
            server.Requests.Enqueue(new Recorded(
                context.Request.Headers.Authorization.ToString(),
                context.Request.ContentType ?? "",
                context.Request.Headers.Accept.ToString(),
                form?.Select(f => new KeyValuePair<string, string>(f.Key, f.Value.ToString())).OrderBy(f => f.Key, StringComparer.Ordinal).ToList() ?? []));
            await server.Respond(context);
        });
        await app.StartAsync();
        server.Issuer = app.Urls.First().TrimEnd('/');
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>One request to the introspection endpoint.</summary>
    /// <param name="Authorization">The Authorization header as sent ("" when none).</param>
    /// <param name="ContentType">The request's Content-Type.</param>
    /// <param name="Accept">The Accept header.</param>
    /// <param name="Form">The form fields, sorted by name.</param>
    internal sealed record Recorded(string Authorization, string ContentType, string Accept, IReadOnlyList<KeyValuePair<string, string>> Form)
    {
        public Dictionary<string, string> Fields => Form.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
    }
}
