using McpAuth.Ports;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.Host.Tests;

/// <summary>The reference host on a TestServer, with fake ports where a test wants to choose the peers' answers.</summary>
public sealed class HostHarness : IAsyncDisposable
{
    private readonly WebApplication _app;

    private HostHarness(WebApplication app, FakeOidcValidator oidc, FakeExchangeClient exchange, FakeReviewClient review)
    {
        _app = app;
        Client = app.GetTestClient();
        Oidc = oidc;
        Exchange = exchange;
        Review = review;
    }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public FakeOidcValidator Oidc { get; }

    public FakeExchangeClient Exchange { get; }

    public FakeReviewClient Review { get; }

    public static async Task<HostHarness> StartAsync(params string[] args)
    {
        var oidc = new FakeOidcValidator();
        var exchange = new FakeExchangeClient();
        var review = new FakeReviewClient();
        var result = McpAuthHost.Build(args, b =>
        {
            b.WebHost.UseTestServer();
            b.Services.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(oidc));
            b.Services.Replace(ServiceDescriptor.Singleton<ITokenExchangeClient>(exchange));
            b.Services.Replace(ServiceDescriptor.Singleton<ITokenReviewClient>(review));
        });
        result.App.Should().NotBeNull(result.Message);
        await result.App!.StartAsync();
        return new HostHarness(result.App, oidc, exchange, review);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    // The OIDC port is faked in these tests, so one key (made once, not per token) is enough.
    private static readonly RsaSecurityKey SigningKey = new(System.Security.Cryptography.RSA.Create(2048)) { KeyId = "k1" };

    public static string Token(string scope = "read", string audience = "https://mcp.example.com/mcp", int expiresIn = 600) =>
        TestKeys.Sign(SigningKey, "RS256", new Dictionary<string, object>
        {
            ["iss"] = "https://issuer.test",
            ["sub"] = "alice",
            ["aud"] = audience,
            ["exp"] = DateTimeOffset.UtcNow.AddSeconds(expiresIn).ToUnixTimeSeconds(),
            ["iat"] = DateTimeOffset.UtcNow.AddSeconds(-10).ToUnixTimeSeconds(),
            ["scope"] = scope,
        }, kid: "k1");

    public static HttpRequestMessage Mcp(string? token, string body = """{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", string? origin = null, string path = "/mcp")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
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

    public static string ToolCall(string tool, string? context = null, int id = 1)
    {
        var arguments = context is null ? new Dictionary<string, object>() : new Dictionary<string, object> { ["context"] = context };
        return System.Text.Json.JsonSerializer.Serialize(new { jsonrpc = "2.0", id, method = "tools/call", @params = new { name = tool, arguments } });
    }
}
