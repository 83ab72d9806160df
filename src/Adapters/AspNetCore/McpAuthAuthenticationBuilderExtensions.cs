using McpAuth;
using McpAuth.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the McpAuth authentication scheme, the way <c>AddJwtBearer</c> adds JwtBearer.</summary>
public static class McpAuthAuthenticationBuilderExtensions
{
    /// <summary>Adds the McpAuth scheme (<see cref="McpAuthBearerDefaults.AuthenticationScheme"/>) with settings from the <c>McpAuth</c> configuration section.</summary>
    public static AuthenticationBuilder AddMcpAuth(this AuthenticationBuilder builder) =>
        builder.AddMcpAuth(McpAuthBearerDefaults.AuthenticationScheme, null, null);

    /// <summary>Adds the McpAuth scheme and configures what it checks: <c>AddMcpAuth(o =&gt; o.AuthorizationUrl = "https://idp.example.com")</c>.</summary>
    public static AuthenticationBuilder AddMcpAuth(this AuthenticationBuilder builder, Action<McpAuthOptions> configure) =>
        builder.AddMcpAuth(McpAuthBearerDefaults.AuthenticationScheme, configure, null);

    /// <summary>Adds the McpAuth scheme and configures what it checks and its HTTP settings (server URL, MCP path, origins, …).</summary>
    public static AuthenticationBuilder AddMcpAuth(this AuthenticationBuilder builder, Action<McpAuthOptions>? configure, Action<McpAuthBearerOptions>? configureScheme) =>
        builder.AddMcpAuth(McpAuthBearerDefaults.AuthenticationScheme, configure, configureScheme);

    /// <summary>
    /// Adds the McpAuth scheme under <paramref name="authenticationScheme"/>: the pipeline (<c>services.AddMcpAuth()</c>)
    /// with the OpenID Connect adapters (issuer keys, introspection, token exchange), and a handler that sends every request of a
    /// protected endpoint through it. Settings are bound from the <c>McpAuth</c> configuration section, then the
    /// delegates run; both are validated at start, with messages that name the configuration keys. One McpAuth scheme per
    /// application (the pipeline is one); add more adapters and stages with <c>services.AddMcpAuth()</c>, which returns
    /// the pipeline's builder. Protect endpoints with <c>RequireMcpAuth()</c>; map the metadata with <c>MapMcpAuthMetadata()</c>.
    /// </summary>
    public static AuthenticationBuilder AddMcpAuth(
        this AuthenticationBuilder builder, string authenticationScheme, Action<McpAuthOptions>? configure, Action<McpAuthBearerOptions>? configureScheme)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(authenticationScheme);
        var services = builder.Services;
        if (services.FirstOrDefault(d => d.ServiceType == typeof(SchemeMarker))?.ImplementationInstance is SchemeMarker existing
            && existing.Name != authenticationScheme)
        {
            throw new InvalidOperationException($"McpAuth is already registered as scheme '{existing.Name}'; an application has one McpAuth pipeline, so one McpAuth scheme.");
        }

        services.AddMcpAuth(configure).AddOidcProvider().AddTokenIntrospection().AddTokenExchange();
        if (services.Any(d => d.ServiceType == typeof(SchemeMarker)))
        {
            if (configureScheme is not null)
            {
                services.Configure(authenticationScheme, configureScheme);
            }

            return builder;
        }

        services.AddSingleton(new SchemeMarker(authenticationScheme));
        services.AddMcpAuthSettings<McpAuthBearerOptions>(authenticationScheme).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<McpAuthBearerOptions>, McpAuthBearerOptionsValidator>());
        services.AddSingleton<IPostConfigureOptions<McpAuthOptions>>(sp =>
            new AudienceFromResource(authenticationScheme, sp.GetRequiredService<IOptionsMonitor<McpAuthBearerOptions>>()));
        services.TryAddSingleton<McpAuthScheme.Registry>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, McpAuthBearerStartupLog>(sp =>
            new McpAuthBearerStartupLog(authenticationScheme, sp.GetRequiredService<McpAuthScheme.Registry>(),
                sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<McpAuthBearerStartupLog>>())));
        return builder.AddScheme<McpAuthBearerOptions, McpAuthBearerHandler>(authenticationScheme, configureScheme);
    }

    private sealed record SchemeMarker(string Name);

    // The resource URL is the expected audience unless one is configured (RFC 8707: clients ask for exactly this).
    private sealed class AudienceFromResource(string scheme, IOptionsMonitor<McpAuthBearerOptions> schemeOptions) : IPostConfigureOptions<McpAuthOptions>
    {
        public void PostConfigure(string? name, McpAuthOptions options)
        {
            if (string.IsNullOrWhiteSpace(options.Audience) && schemeOptions.Get(scheme).ResourceUrl is { } resource)
            {
                options.Audience = resource;
            }
        }
    }
}
