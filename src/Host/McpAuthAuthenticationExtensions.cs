using McpAuth.Host;
using Microsoft.AspNetCore.Authentication;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>ASP.NET Core integration, like <c>AddJwtBearer</c>.</summary>
public static class McpAuthAuthenticationExtensions
{
    /// <summary>
    /// Adds the McpAuth authentication scheme: the pipeline (<c>AddMcpAuth</c>), the default adapters, and a handler that
    /// sends every request through it. Use <c>RequireAuthorization()</c> on protected endpoints.
    /// </summary>
    public static AuthenticationBuilder AddMcpAuth(
        this AuthenticationBuilder builder, Action<McpAuthBuilder>? configurePipeline = null, string scheme = McpAuthenticationHandler.SchemeName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var pipeline = builder.Services.AddMcpAuth();
        (configurePipeline ?? (p => p.AddDefaultAdapters()))(pipeline);
        builder.Services.AddMcpAuthSettings<McpHostOptions>();
        builder.Services.AddSingleton<HostEndpoints>();
        return builder.AddScheme<McpAuthenticationOptions, McpAuthenticationHandler>(scheme, _ => { });
    }
}
