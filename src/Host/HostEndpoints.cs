using System.Text.Json;
using McpAuth.Adapters.Oidc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace McpAuth.Host;

/// <summary>
/// The host's own endpoints and URL rules: <c>/healthz</c>, the RFC 9728 protected-resource metadata, the issuer's
/// metadata (the document McpAuth discovered, served with CORS), Origin validation for <c>/mcp</c>.
/// </summary>
public sealed class HostEndpoints
{
    /// <summary>The MCP endpoint path.</summary>
    public const string McpPath = "/mcp";

    private readonly McpAuthOptions _auth;
    private readonly McpHostOptions _host;
    private readonly string[] _scopesSupported;
    private readonly bool _loopbackBind;
    private readonly string? _serverOrigin;
    private readonly string? _serverHost;

    /// <summary>Creates the endpoints from the options.</summary>
    public HostEndpoints(IOptions<McpAuthOptions> auth, IOptions<McpHostOptions> host)
    {
        _auth = auth.Value;
        _host = host.Value;
        _scopesSupported = _auth.RequiredScopes.Concat(_auth.ToolScopes.Values.SelectMany(v => v)).Where(s => !string.IsNullOrWhiteSpace(s))
            .Distinct(StringComparer.Ordinal).ToArray();
        _loopbackBind = IsLoopbackName(_host.BindAddress);
        if (Uri.TryCreate(_auth.ServerUrl, UriKind.Absolute, out var server))
        {
            _serverOrigin = server.GetLeftPart(UriPartial.Authority);
            _serverHost = server.Host;
        }

        Challenges = new ChallengeMapper(_host.Realm, _auth.OAuthAudience, _auth.RequiredScopes.ToArray(), _host.RetryAfterSeconds);
    }

    /// <summary>The outcome → HTTP mapping.</summary>
    public ChallengeMapper Challenges { get; }

    /// <summary>The server's public base URL: <c>ServerUrl</c>, else derived from the request.</summary>
    public string BaseUrl(HttpRequest request) =>
        !string.IsNullOrEmpty(_auth.ServerUrl) ? _auth.ServerUrl.TrimEnd('/') : $"{request.Scheme}://{request.Host.Value}";

    /// <summary>The absolute URL of the protected-resource metadata of <c>/mcp</c>.</summary>
    public string ResourceMetadataUrl(HttpRequest request) => BaseUrl(request) + "/.well-known/oauth-protected-resource" + McpPath;

    /// <summary>Maps <c>/healthz</c> and the well-known documents (none needs a token).</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Text("ok"));
        foreach (var path in new[] { "/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource" + McpPath })
        {
            app.MapMethods(path, ["GET", "OPTIONS"], (HttpContext c, HostEndpoints e) => e.ProtectedResource(c));
        }

        foreach (var path in new[] { "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration" })
        {
            app.MapMethods(path, ["GET", "OPTIONS"], (HttpContext c, HostEndpoints e) => e.IssuerMetadata(c));
        }
    }

    private Task ProtectedResource(HttpContext context)
    {
        Cors(context.Response);
        if (string.IsNullOrEmpty(_auth.AuthorizationUrl))
        {
            return NotFound(context);
        }

        if (HttpMethods.IsOptions(context.Request.Method))
        {
            context.Response.StatusCode = 204;
            return Task.CompletedTask;
        }

        var document = new Dictionary<string, object>
        {
            ["resource"] = BaseUrl(context.Request) + McpPath,
            ["authorization_servers"] = new[] { _auth.AuthorizationUrl },
            ["scopes_supported"] = _scopesSupported,
            ["bearer_methods_supported"] = new[] { "header" },
            ["resource_name"] = _host.Realm,
        };
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "public, max-age=300";
        return context.Response.WriteAsync(JsonSerializer.Serialize(document));
    }

    private async Task IssuerMetadata(HttpContext context)
    {
        Cors(context.Response);
        var store = context.RequestServices.GetService<IssuerMetadataStore>();
        if (string.IsNullOrEmpty(_auth.AuthorizationUrl) || store is null)
        {
            await NotFound(context);
            return;
        }

        if (HttpMethods.IsOptions(context.Request.Method))
        {
            context.Response.StatusCode = 204;
            return;
        }

        // The document McpAuth itself discovered (fixed upstream paths with RFC 8414 fallback, no client header forwarded,
        // 1 MiB and timeout bounds, cached); only our own response headers are sent.
        var metadata = await store.GetAsync(context.RequestAborted);
        if (metadata is null)
        {
            await new Challenge(503, null, "temporarily_unavailable", "The authorization server's metadata is unavailable; try again later.", _host.RetryAfterSeconds)
                .WriteAsync(context.Response);
            return;
        }

        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "public, max-age=300";
        await context.Response.WriteAsync(metadata.Document);
    }

    private static Task NotFound(HttpContext context) =>
        new Challenge(404, null, "not_found", "No authorization server is configured.").WriteAsync(context.Response);

    private static void Cors(HttpResponse response)
    {
        response.Headers.AccessControlAllowOrigin = "*";
        response.Headers.AccessControlAllowMethods = "GET, OPTIONS";
        response.Headers.AccessControlAllowHeaders = "Content-Type, MCP-Protocol-Version";
        response.Headers.AccessControlMaxAge = "3600";
    }

    /// <summary>
    /// MCP Streamable HTTP: servers must validate <c>Origin</c> (and, on a loopback bind, defend against DNS rebinding).
    /// Returns null when the request may go on, else the reason for a 403. Runs before anything else on <c>/mcp</c>.
    /// <list type="bullet">
    /// <item>Loopback bind: the <c>Host</c> header must name a loopback host or <c>ServerUrl</c>'s host.</item>
    /// <item><c>Origin</c>, when present: one of <c>AllowedOrigins</c> when configured; otherwise <c>ServerUrl</c>'s
    /// origin, or any loopback origin on a loopback bind. The request's own <c>Host</c> is never trusted for this, since
    /// a rebinding attacker controls both.</item>
    /// </list>
    /// </summary>
    public string? RefusalFor(HttpRequest request)
    {
        if (_loopbackBind && !IsLoopbackName(request.Host.Host)
            && !string.Equals(request.Host.Host, _serverHost, StringComparison.OrdinalIgnoreCase))
        {
            return "This Host is not allowed to call the MCP endpoint.";
        }

        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return null;
        }

        bool allowed;
        if (_host.AllowedOrigins.Count > 0)
        {
            allowed = _host.AllowedOrigins.Any(o => o == "*" || string.Equals(o.TrimEnd('/'), origin, StringComparison.OrdinalIgnoreCase));
        }
        else
        {
            allowed = (_serverOrigin is not null && string.Equals(origin, _serverOrigin, StringComparison.OrdinalIgnoreCase))
                      || (_loopbackBind && Uri.TryCreate(origin, UriKind.Absolute, out var uri) && IsLoopbackName(uri.Host));
        }

        return allowed ? null : "This Origin is not allowed to call the MCP endpoint.";
    }

    private static bool IsLoopbackName(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip));
}
