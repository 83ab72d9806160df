using System.Text;
using McpAuth.AspNetCore;
using McpAuth.Ports;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.AspNetCore.Tests;

/// <summary>
/// An app that embeds McpAuth the way the README shows (AddAuthentication().AddMcpAuth(), MapMcp().RequireMcpAuth(),
/// MapMcpAuthMetadata(), AddHealthChecks().AddMcpAuthChecks()), with the official MCP SDK serving test tools, and fake
/// ports so each test chooses the peers' answers. On a TestServer, or on Kestrel at 127.0.0.1 when a test needs sockets.
/// </summary>
public sealed class EmbeddedApp : IAsyncDisposable
{
    public const string ServerUrl = "https://mcp.example.com";
    public const string Resource = ServerUrl + "/mcp";
    public const string Metadata = ServerUrl + "/.well-known/oauth-protected-resource/mcp";

    // The OIDC port is faked here, so one key (made once) is enough.
    private static readonly RsaSecurityKey SigningKey = new(System.Security.Cryptography.RSA.Create(2048)) { KeyId = "k1" };

    private EmbeddedApp(FakeOidcValidator oidc, FakeExchangeClient exchange, FakeReviewClient review)
    {
        Oidc = oidc;
        Exchange = exchange;
        Review = review;
    }

    public WebApplication App { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public FakeOidcValidator Oidc { get; }

    public FakeExchangeClient Exchange { get; }

    public FakeReviewClient Review { get; }

    public ToolRuns Runs => App.Services.GetRequiredService<ToolRuns>();

    public static async Task<EmbeddedApp> StartAsync(
        Action<McpAuthOptions>? pipeline = null, Action<McpAuthBearerOptions>? http = null,
        Action<WebApplicationBuilder>? services = null, Action<WebApplication>? endpoints = null, bool kestrel = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (kestrel)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }
        else
        {
            builder.WebHost.UseTestServer();
        }

        builder.Services.AddAuthentication().AddMcpAuth(o =>
        {
            o.AuthorizationUrl = "https://issuer.test";
            pipeline?.Invoke(o);
        }, s =>
        {
            s.ServerUrl = ServerUrl;
            http?.Invoke(s);
        });
        builder.Services.AddAuthorization();
        builder.Services.AddHealthChecks().AddMcpAuthChecks();
        builder.Services.AddSingleton<ToolRuns>();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddMcpServer().WithHttpTransport(o => o.Stateless = true).WithTools([typeof(TestTools)]);
        var self = new EmbeddedApp(new FakeOidcValidator(), new FakeExchangeClient(), new FakeReviewClient());
        builder.Services.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(self.Oidc));
        builder.Services.Replace(ServiceDescriptor.Singleton<ITokenExchangeClient>(self.Exchange));
        builder.Services.Replace(ServiceDescriptor.Singleton<ITokenReviewClient>(self.Review));
        services?.Invoke(builder);

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapMcp("/mcp").RequireMcpAuth();
        app.MapMcpAuthMetadata();
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains(McpAuthHealthChecksBuilderExtensions.ReadyTag) });
        endpoints?.Invoke(app);
        await app.StartAsync();
        self.App = app;
        self.Client = kestrel ? new HttpClient { BaseAddress = new Uri(app.Urls.First()) } : app.GetTestClient();
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    public static string Token(string scope = "read", string audience = Resource, int expiresIn = 600, IDictionary<string, object>? extra = null)
    {
        var claims = new Dictionary<string, object>
        {
            ["iss"] = "https://issuer.test",
            ["sub"] = "alice",
            ["aud"] = audience,
            ["exp"] = DateTimeOffset.UtcNow.AddSeconds(expiresIn).ToUnixTimeSeconds(),
            ["iat"] = DateTimeOffset.UtcNow.AddSeconds(-10).ToUnixTimeSeconds(),
            ["scope"] = scope,
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, object>())
        {
            claims[k] = v;
        }

        return TestKeys.Sign(SigningKey, "RS256", claims, kid: "k1");
    }

    public static HttpRequestMessage Mcp(string? token, string body = ToolsList, string? origin = null) =>
        Mcp(token, Encoding.UTF8.GetBytes(body), "application/json", origin);

    public static HttpRequestMessage Mcp(string? token, byte[] body, string contentType, string? origin = null)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = content };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        if (origin is not null)
        {
            request.Headers.TryAddWithoutValidation("Origin", origin);
        }

        return request;
    }

    public const string ToolsList = """{"jsonrpc":"2.0","id":1,"method":"tools/list"}""";

    public static string ToolCall(string tool, string? context = null, int id = 1)
    {
        var arguments = context is null ? new Dictionary<string, object>() : new Dictionary<string, object> { ["context"] = context };
        return System.Text.Json.JsonSerializer.Serialize(new { jsonrpc = "2.0", id, method = "tools/call", @params = new { name = tool, arguments } });
    }
}
