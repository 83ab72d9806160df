using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace McpAuth.Host.Tests.Demo;

/// <summary>
/// Hand-made OAuth requests for the refusal rows, which no real client would send (no PKCE, <c>plain</c>, a redirect
/// URI it did not register, a reused refresh token). The happy paths are the SDK clients' tests.
/// </summary>
public sealed class OAuthProbe(DemoHost demo) : IDisposable
{
    public const string RedirectUri = "http://127.0.0.1:33420/callback";

    public HttpClient Http { get; } = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(30) };

    public static (string Verifier, string Challenge) Pkce()
    {
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    public async Task<HttpResponseMessage> RegisterAsync(object metadata) =>
        await Http.PostAsJsonAsync(demo.Issuer + "/register", metadata);

    public async Task<string> RegisterClientAsync(string redirectUri = RedirectUri, string name = "McpAuth probe")
    {
        using var response = await RegisterAsync(new { client_name = name, redirect_uris = new[] { redirectUri } });
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("client_id").GetString()!;
    }

    public Task<HttpResponseMessage> AuthorizeAsync(IDictionary<string, string?> parameters) =>
        Http.GetAsync(QueryHelpers.AddQueryString(demo.Issuer + "/authorize", parameters));

    public static Dictionary<string, string?> AuthorizationParameters(string clientId, string challenge, string scope, string resource) => new()
    {
        ["response_type"] = "code",
        ["client_id"] = clientId,
        ["redirect_uri"] = RedirectUri,
        ["scope"] = scope,
        ["state"] = "probe-state",
        ["code_challenge"] = challenge,
        ["code_challenge_method"] = "S256",
        ["resource"] = resource,
    };

    public Task<HttpResponseMessage> TokenAsync(Dictionary<string, string> form) =>
        Http.PostAsync(demo.Issuer + "/token", new FormUrlEncodedContent(form));

    /// <summary>Authorization code + PKCE on the auto-approving demo; returns the token response.</summary>
    public async Task<JsonElement> CodeFlowAsync(string clientId, string scope, string? resource = null)
    {
        using var token = await CodeFlowResponseAsync(clientId, scope, resource);
        token.StatusCode.Should().Be(HttpStatusCode.OK, await token.Content.ReadAsStringAsync());
        return await token.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Authorization code + PKCE; the token request's response, with <paramref name="dpopProof"/> as its <c>DPoP</c> header when set.</summary>
    public async Task<HttpResponseMessage> CodeFlowResponseAsync(string clientId, string scope, string? resource = null, string? dpopProof = null)
    {
        var (verifier, challenge) = Pkce();
        using var authorization = await AuthorizeAsync(AuthorizationParameters(clientId, challenge, scope, resource ?? demo.Resource));
        authorization.StatusCode.Should().Be(HttpStatusCode.Found, await authorization.Content.ReadAsStringAsync());
        var code = Callback(authorization)["code"];
        using var request = new HttpRequestMessage(HttpMethod.Post, demo.Issuer + "/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code", ["client_id"] = clientId, ["code"] = code!, ["code_verifier"] = verifier,
                ["redirect_uri"] = RedirectUri, ["resource"] = resource ?? demo.Resource,
            }),
        };
        if (dpopProof is not null)
        {
            request.Headers.TryAddWithoutValidation("DPoP", dpopProof);
        }

        return await Http.SendAsync(request);
    }

    public static Dictionary<string, string?> Callback(HttpResponseMessage authorization)
    {
        var location = authorization.Headers.Location;
        location.Should().NotBeNull();
        location!.GetLeftPart(UriPartial.Path).Should().Be(RedirectUri);
        return QueryHelpers.ParseQuery(location.Query).ToDictionary(p => p.Key, p => (string?)p.Value.ToString());
    }

    public async Task<HttpResponseMessage> CallToolAsync(string? token, string tool) =>
        await Http.SendAsync(HostHarness.Mcp(token, HostHarness.ToolCall(tool), path: demo.Resource));

    public void Dispose() => Http.Dispose();

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
