using System.Text.Json;
using McpAuth.AspNetCore;
using McpAuth.OpenIdConnect;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the metadata documents MCP clients read before they have a token.</summary>
public static class McpAuthEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps, and nothing else: the RFC 9728 protected-resource metadata at <c>/.well-known/oauth-protected-resource</c> and
    /// <c>/.well-known/oauth-protected-resource{McpPath}</c> (the URL every McpAuth challenge names), and the issuer's
    /// authorization-server metadata at <c>/.well-known/oauth-authorization-server</c> and
    /// <c>/.well-known/openid-configuration</c> (the document McpAuth itself discovered: fixed upstream paths, no client
    /// header forwarded, size and time bounds, cached). All allow anonymous access and CORS for GET and OPTIONS; without
    /// an issuer they answer 404.
    /// </summary>
    public static IEndpointConventionBuilder MapMcpAuthMetadata(this IEndpointRouteBuilder endpoints, string authenticationScheme = McpAuthBearerDefaults.AuthenticationScheme)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var scheme = endpoints.ServiceProvider.GetService<McpAuthScheme.Registry>()?.Get(authenticationScheme)
                     ?? throw new InvalidOperationException("McpAuth is not registered: call services.AddAuthentication().AddMcpAuth(...) first.");
        var group = endpoints.MapGroup(string.Empty);
        foreach (var path in new[] { McpAuthBearerDefaults.ProtectedResourcePath, McpAuthBearerDefaults.ProtectedResourcePath + scheme.Options.McpPath }.Distinct())
        {
            group.MapMethods(path, [HttpMethods.Get, HttpMethods.Options], (HttpContext c) => ProtectedResource(c, scheme));
        }

        foreach (var path in new[] { "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration" })
        {
            group.MapMethods(path, [HttpMethods.Get, HttpMethods.Options], (HttpContext c) => IssuerMetadata(c, scheme));
        }

        group.AllowAnonymous();
        return group;
    }

    private static Task ProtectedResource(HttpContext context, McpAuthScheme scheme)
    {
        Cors(context.Response);
        if (!scheme.Pipeline.HasIssuer)
        {
            return NotFound(context);
        }

        if (HttpMethods.IsOptions(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        }

        var document = new Dictionary<string, object>
        {
            ["resource"] = scheme.ResourceUrl(context.Request),
            // Every trusted issuer (RFC 9728 §2: a list); with one, the one.
            ["authorization_servers"] = scheme.Pipeline.Issuers.Count > 0
                ? scheme.Pipeline.Issuers.Select(i => i.Url).ToArray()
                : new[] { scheme.Pipeline.AuthorizationUrl },
            ["scopes_supported"] = scheme.ScopesSupported,
            ["bearer_methods_supported"] = new[] { "header" },
            ["resource_name"] = scheme.Options.ResourceName ?? scheme.Options.Realm,
        };
        if (scheme.Pipeline.Dpop != McpAuth.DpopMode.Off)
        {
            document["dpop_signing_alg_values_supported"] = scheme.DpopAlgorithms;
            document["dpop_bound_access_tokens_required"] = scheme.Pipeline.Dpop == McpAuth.DpopMode.Required;
        }
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "public, max-age=300";
        return context.Response.WriteAsync(JsonSerializer.Serialize(document));
    }

    private static async Task IssuerMetadata(HttpContext context, McpAuthScheme scheme)
    {
        Cors(context.Response);
        var store = context.RequestServices.GetService<IssuerMetadataStore>();
        if (!scheme.Pipeline.HasIssuer || store is null)
        {
            await NotFound(context);
            return;
        }

        if (HttpMethods.IsOptions(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        var metadata = await store.GetAsync(context.RequestAborted);
        if (metadata is null)
        {
            await new Challenge(StatusCodes.Status503ServiceUnavailable, null, "temporarily_unavailable",
                    "The authorization server's metadata is unavailable; try again later.", scheme.Options.RetryAfterSeconds)
                .WriteAsync(context.Response);
            return;
        }

        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "public, max-age=300";
        await context.Response.WriteAsync(metadata.Document);
    }

    private static Task NotFound(HttpContext context) =>
        new Challenge(StatusCodes.Status404NotFound, null, "not_found", "No authorization server is configured.").WriteAsync(context.Response);

    private static void Cors(HttpResponse response)
    {
        response.Headers.AccessControlAllowOrigin = "*";
        response.Headers.AccessControlAllowMethods = "GET, OPTIONS";
        response.Headers.AccessControlAllowHeaders = "Content-Type, MCP-Protocol-Version";
        response.Headers.AccessControlMaxAge = "3600";
    }
}
