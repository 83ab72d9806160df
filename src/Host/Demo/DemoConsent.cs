using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static System.Net.WebUtility;

namespace McpAuth.Host.Demo;

/// <summary>
/// The authorization endpoint's user part. OpenIddict has already validated the request (client, redirect URI, PKCE
/// S256, scopes, resource) when it reaches this code. The one user is <c>demo-user</c>; there is no login, only
/// consent: "Allow &lt;client&gt; to act as demo-user with scopes …", Allow or Deny. The page posts the request back to
/// the same endpoint with a token only this process can make, so another site cannot submit the consent for the user.
/// With <c>--demo-auto-approve</c> the page is skipped (for tests).
/// </summary>
internal static class DemoConsent
{
    private const string DecisionField = "demo_consent";
    private const string CsrfField = "demo_csrf";

    public static async Task<IResult> AuthorizeAsync(HttpContext context, DemoAuthorizationServer demo, IOpenIddictApplicationManager applications, ILoggerFactory loggers)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenIddict authorization request.");
        var logger = loggers.CreateLogger(typeof(DemoConsent).FullName!);
        var application = await applications.FindByClientIdAsync(request.ClientId!, context.RequestAborted)
                          ?? throw new InvalidOperationException("OpenIddict validated a client that does not exist.");
        var clientName = await applications.GetDisplayNameAsync(application, context.RequestAborted) ?? request.ClientId!;
        var scopes = request.GetScopes();
        var parameters = RequestParameters(context.Request);
        var csrf = demo.ConsentToken(parameters);

        if (!demo.AutoApprove && request.HasPromptValue(PromptValues.None))
        {
            // The client asked for no user interaction, and consent needs some.
            return Results.Forbid(
                new AuthenticationProperties(new Dictionary<string, string?>
                {
                    [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.ConsentRequired,
                    [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "demo-user must consent on the consent page.",
                }),
                [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        if (!demo.AutoApprove)
        {
            var posted = HttpMethods.IsPost(context.Request.Method) ? context.Request.Form : null;
            var decision = posted?[DecisionField].ToString();
            if (decision is not ("allow" or "deny") || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(posted![CsrfField].ToString()), Encoding.ASCII.GetBytes(csrf)))
            {
                return Page(context, clientName, request.ClientId!, scopes, parameters, csrf);
            }

            if (decision == "deny")
            {
                DemoLog.Consent(logger, "consent denied", DemoClientPolicy.LogClean(request.ClientId), string.Join(' ', scopes));
                return Results.Forbid(
                    new AuthenticationProperties(new Dictionary<string, string?>
                    {
                        [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.AccessDenied,
                        [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "demo-user denied the request.",
                    }),
                    [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
            }
        }

        DemoLog.Consent(logger, demo.AutoApprove ? "auto-approved (--demo-auto-approve)" : "consent given", DemoClientPolicy.LogClean(request.ClientId), string.Join(' ', scopes));
        var identity = DemoAuthorizationServer.UserIdentity(DemoAuthorizationServer.Subject);
        identity.SetScopes(scopes);
        // RFC 8707: the token's audience is the resource the client named; without one, the MCP endpoint.
        var resources = request.GetResources();
        identity.SetResources(resources.IsDefaultOrEmpty ? [demo.Resource] : resources);
        identity.SetDestinations(_ => [Destinations.AccessToken]);
        return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    // The authorization request as it arrived (query for GET, form for POST), without the page's own fields.
    private static List<KeyValuePair<string, string>> RequestParameters(HttpRequest request)
    {
        IEnumerable<KeyValuePair<string, StringValues>> source = HttpMethods.IsPost(request.Method) && request.HasFormContentType ? request.Form : request.Query;
        return source.Where(p => p.Key is not (DecisionField or CsrfField))
            .SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string>(p.Key, v ?? string.Empty)))
            .OrderBy(p => p.Key, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal)
            .ToList();
    }

    private static IResult Page(HttpContext context, string clientName, string clientId, IEnumerable<string> scopes, List<KeyValuePair<string, string>> parameters, string csrf)
    {
        var hidden = new StringBuilder();
        foreach (var (name, value) in parameters)
        {
            hidden.Append("<input type=\"hidden\" name=\"").Append(HtmlEncode(name)).Append("\" value=\"").Append(HtmlEncode(value)).Append("\">\n");
        }

        var scopeItems = string.Concat(scopes.Select(s => $"<li><code>{HtmlEncode(s)}</code>{HtmlEncode(DemoAuthorizationServer.Describe(s))}</li>"));
        var html = $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>McpAuth demo: allow {{HtmlEncode(clientName)}}?</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>
              body { font-family: system-ui, sans-serif; max-width: 34rem; margin: 3rem auto; padding: 0 1rem; color: #1b1b1b; }
              .dev { background: #fff3cd; border: 1px solid #e0c36a; padding: .5rem .75rem; border-radius: 4px; font-size: .9rem; }
              h1 { font-size: 1.3rem; } code { background: #f2f2f2; padding: 0 .25rem; border-radius: 3px; }
              li { margin: .3rem 0; } .client { color: #555; font-size: .85rem; word-break: break-all; }
              button { font-size: 1rem; padding: .5rem 1.25rem; margin-right: .5rem; border-radius: 4px; border: 1px solid #888; cursor: pointer; }
              button[value=allow] { background: #1f6feb; color: #fff; border-color: #1f6feb; }
            </style></head>
            <body>
            <p class="dev">McpAuth demo authorization server: development only, keys made at start, nothing stored.</p>
            <h1>Allow {{HtmlEncode(clientName)}} to act as <code>{{DemoAuthorizationServer.Subject}}</code> with scopes {{HtmlEncode(string.Join(' ', scopes))}}?</h1>
            <p class="client">Client ID: {{HtmlEncode(clientId)}}</p>
            <ul>{{scopeItems}}</ul>
            <form method="post" action="{{HtmlEncode(context.Request.PathBase + context.Request.Path)}}">
            {{hidden}}<input type="hidden" name="{{CsrfField}}" value="{{csrf}}">
            <button type="submit" name="{{DecisionField}}" value="allow">Allow</button>
            <button type="submit" name="{{DecisionField}}" value="deny">Deny</button>
            </form>
            </body></html>
            """;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers["X-Frame-Options"] = "DENY";
        context.Response.Headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";
        context.Response.Headers["Referrer-Policy"] = "no-referrer";
        return Results.Content(html, "text/html; charset=utf-8");
    }
}
