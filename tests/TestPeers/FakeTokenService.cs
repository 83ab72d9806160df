using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.TestPeers;

/// <summary>
/// An HTTP fake of a token service whose real server cannot run here (Microsoft Entra ID, Keycloak), on 127.0.0.1. It
/// records each request exactly as it arrived (every form field with all its values, the Authorization header, the
/// content type) and answers what <see cref="Answer"/> says: by default the success shape of <see cref="Shape"/>, with a
/// JWT access token signed by the fake's own key. The documented request and response shapes live in the tests that
/// use it (EntraFakeTests, KeycloakFakeTests), next to the rows for each documented error.
/// </summary>
public sealed class FakeTokenService : IAsyncDisposable
{
    /// <summary>Microsoft Entra ID's v2.0 token endpoint path (tenant <c>contoso-tenant</c>).</summary>
    public const string EntraPath = "/contoso-tenant/oauth2/v2.0/token";

    /// <summary>Keycloak's token endpoint path (realm <c>mcp</c>).</summary>
    public const string KeycloakPath = "/realms/mcp/protocol/openid-connect/token";

    private readonly WebApplication _app;
    private readonly RsaSecurityKey _key = new(RSA.Create(2048)) { KeyId = "fake-sts" };
    private int _issued;

    private FakeTokenService(WebApplication app, string path)
    {
        _app = app;
        Path = path;
    }

    /// <summary>The path of the token endpoint (any other path answers 404).</summary>
    public string Path { get; }

    public string Url { get; private set; } = "";

    public string TokenUrl => Url + Path;

    /// <summary>Which documented success shape the default answer has: <c>entra</c> or <c>keycloak</c>.</summary>
    public string Shape { get; set; } = "entra";

    /// <summary>The audience of the tokens the default answer issues.</summary>
    public string IssuedAudience { get; set; } = "downstream-api";

    /// <summary>The answer to a request; null: the default success answer.</summary>
    public Func<TokenServiceRequest, TokenServiceAnswer>? Answer { get; set; }

    public ConcurrentQueue<TokenServiceRequest> Requests { get; } = new();

    public static async Task<FakeTokenService> StartAsync(string path)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fake = new FakeTokenService(app, path);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        fake.Url = app.Urls.First().TrimEnd('/');
        return fake;
    }

    /// <summary>A JSON answer.</summary>
    public static TokenServiceAnswer Json(int status, object body) => new(status, JsonSerializer.Serialize(body), "application/json; charset=utf-8");

    /// <summary>A JWT access token signed by the fake (<c>iss</c> the fake's URL), with <paramref name="extra"/> claims (e.g. <c>act</c>).</summary>
    public string IssueToken(string subject, IDictionary<string, object>? extra = null)
    {
        var now = DateTimeOffset.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["iss"] = Url,
            ["sub"] = subject,
            ["aud"] = IssuedAudience,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.AddHours(1).ToUnixTimeSeconds(),
            ["jti"] = Interlocked.Increment(ref _issued).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (name, value) in extra ?? new Dictionary<string, object>())
        {
            claims[name] = value;
        }

        return TestKeys.Sign(_key, "RS256", claims, typ: "at+jwt");
    }

    /// <summary>The documented success answer of <see cref="Shape"/> for a freshly issued token.</summary>
    public TokenServiceAnswer Success(string subject = "alice", IDictionary<string, object>? extra = null, int expiresIn = 3599)
    {
        var token = IssueToken(subject, extra);
        return Shape == "keycloak"
            ? Json(200, new Dictionary<string, object>
            {
                // Keycloak standard token exchange (requested_token_type access_token): no refresh token by default.
                ["access_token"] = token, ["expires_in"] = expiresIn, ["refresh_expires_in"] = 0, ["token_type"] = "Bearer",
                ["not-before-policy"] = 0, ["session_state"] = "5c7a8f3e-8d1f-4c55-9a4c-7c1d2c0c4d11", ["scope"] = "profile email",
                ["issued_token_type"] = "urn:ietf:params:oauth:token-type:access_token",
            })
            : Json(200, new Dictionary<string, object>
            {
                // Entra on-behalf-of success response (v2.0 endpoint).
                ["token_type"] = "Bearer", ["scope"] = "api://downstream/.default", ["expires_in"] = expiresIn, ["ext_expires_in"] = expiresIn,
                ["access_token"] = token, ["refresh_token"] = "0.ARoA-fake-refresh-token",
            });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _key.Rsa.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (context.Request.Path != Path)
        {
            context.Response.StatusCode = 404;
            return;
        }

        var form = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (context.Request.HasFormContentType)
        {
            foreach (var (key, values) in await context.Request.ReadFormAsync())
            {
                form[key] = values.Select(v => v ?? "").ToArray();
            }
        }

        var request = new TokenServiceRequest(
            context.Request.Method, context.Request.ContentType, context.Request.Headers.Authorization.ToString() is { Length: > 0 } a ? a : null, form);
        Requests.Enqueue(request);
        var answer = Answer?.Invoke(request) ?? Success();
        context.Response.StatusCode = answer.Status;
        context.Response.ContentType = answer.ContentType;
        await context.Response.WriteAsync(answer.Body);
    }
}

/// <summary>One request to <see cref="FakeTokenService"/>, as it arrived.</summary>
public sealed record TokenServiceRequest(string Method, string? ContentType, string? Authorization, IReadOnlyDictionary<string, string[]> Form)
{
    /// <summary>The form's field names, sorted.</summary>
    public IReadOnlyList<string> Keys => Form.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>The single value of <paramref name="name"/>; null when absent. A field sent twice fails the test.</summary>
    public string? this[string name] => Form.TryGetValue(name, out var values)
        ? values.Length == 1 ? values[0] : throw new InvalidOperationException($"form field {name} was sent {values.Length} times")
        : null;

    /// <summary>The id and secret of an <c>Authorization: Basic</c> header, form-decoded (RFC 6749 §2.3.1); null without one.</summary>
    public (string Id, string Secret)? Basic()
    {
        if (Authorization is null || !Authorization.StartsWith("Basic ", StringComparison.Ordinal))
        {
            return null;
        }

        var pair = Encoding.UTF8.GetString(Convert.FromBase64String(Authorization["Basic ".Length..]));
        var colon = pair.IndexOf(':', StringComparison.Ordinal);
        return (Uri.UnescapeDataString(pair[..colon].Replace('+', ' ')), Uri.UnescapeDataString(pair[(colon + 1)..].Replace('+', ' ')));
    }

    /// <summary>The claims of the client assertion (read, not verified: the tests check them one by one).</summary>
    public JsonElement AssertionClaims() => Payload(this["client_assertion"] ?? throw new InvalidOperationException("no client_assertion"));

    /// <summary>The header of the client assertion.</summary>
    public JsonElement AssertionHeader() =>
        JsonDocument.Parse(Base64UrlEncoder.DecodeBytes((this["client_assertion"] ?? throw new InvalidOperationException("no client_assertion")).Split('.')[0])).RootElement;

    public static JsonElement Payload(string jwt) => JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(jwt.Split('.')[1])).RootElement;
}

/// <summary>What <see cref="FakeTokenService"/> answers.</summary>
public sealed record TokenServiceAnswer(int Status, string Body, string ContentType);
