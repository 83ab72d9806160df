using McpAuth.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Protects endpoints with McpAuth.</summary>
public static class McpAuthEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Protects an MCP endpoint with everything on, in one call: <c>app.MapMcp("/mcp").RequireMcpAuth()</c>. Requires the
    /// McpAuth scheme (a policy of its own, combined with any other), marks the endpoint as MCP so stages can read its
    /// calls (tool names for step-up scopes, target clusters for TokenReview), and makes the endpoint itself refuse to run
    /// for a request the scheme did not authenticate, even if authorization was skipped (for example by
    /// <c>AllowAnonymous</c>). The Origin/Host check runs first in the scheme's handler.
    /// </summary>
    public static TBuilder RequireMcpAuth<TBuilder>(this TBuilder builder, string authenticationScheme = McpAuthBearerDefaults.AuthenticationScheme)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(authenticationScheme);
        builder.RequireAuthorization(new AuthorizationPolicyBuilder(authenticationScheme).RequireAuthenticatedUser().Build());
        builder.WithMetadata(McpAuthEndpointMetadata.Mcp);
        builder.Finally(endpoint =>
        {
            var next = endpoint.RequestDelegate;
            if (next is null)
            {
                return;
            }

            endpoint.RequestDelegate = context => context.Features.Get<McpAuthFeature>() is null
                ? AuthenticateThenRunAsync(context, authenticationScheme, next)
                : next(context);
        });
        return builder;
    }

    // Authorization was skipped (e.g. AllowAnonymous) or used another scheme: McpAuth authenticates here, or challenges.
    private static async Task AuthenticateThenRunAsync(HttpContext context, string scheme, RequestDelegate next)
    {
        var result = await context.AuthenticateAsync(scheme);
        if (!result.Succeeded)
        {
            await context.ChallengeAsync(scheme);
            return;
        }

        context.User = result.Principal;
        await next(context);
    }

    /// <summary>
    /// Only the MCP Origin/Host check (403 for a foreign Origin or, on a loopback connection, a foreign Host), for an MCP
    /// endpoint that is not protected by McpAuth. <c>RequireMcpAuth()</c> includes it. Settings: <c>McpAuth:AllowedOrigins</c>
    /// and <c>McpAuth:ServerUrl</c>.
    /// </summary>
    public static TBuilder WithMcpOriginCheck<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Finally(endpoint =>
        {
            var next = endpoint.RequestDelegate;
            if (next is null)
            {
                return;
            }

            var options = endpoint.ApplicationServices.GetService<IOptionsMonitor<McpAuthBearerOptions>>()?.Get(McpAuthBearerDefaults.AuthenticationScheme);
            if (options is null)
            {
                options = new McpAuthBearerOptions();
                endpoint.ApplicationServices.GetService<IConfiguration>()?.GetSection(McpAuth.McpAuthOptions.SectionName).Bind(options);
            }

            var guard = new McpRequestGuard(options);
            endpoint.RequestDelegate = context => guard.RefusalFor(context) is { } refusal
                ? ChallengeMapper.ForbiddenOrigin(refusal).WriteAsync(context.Response)
                : next(context);
        });
        return builder;
    }
}
