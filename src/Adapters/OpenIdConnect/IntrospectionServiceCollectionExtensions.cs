using McpAuth.OpenIdConnect;
using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the RFC 7662 introspection adapter of McpAuth's <see cref="ITokenIntrospector"/> port.</summary>
public static class IntrospectionServiceCollectionExtensions
{
    /// <summary>
    /// <see cref="ITokenIntrospector"/> on the issuer's introspection endpoint (<see cref="TokenIntrospectionClient"/>)
    /// behind the <see cref="CachingTokenIntrospector"/> decorator. Opaque tokens are accepted only when
    /// <see cref="McpAuth.McpAuthOptions.IntrospectionClientId"/> is set too; without it, this registration changes nothing.
    /// </summary>
    public static McpAuthBuilder AddTokenIntrospection(this McpAuthBuilder builder, Action<IntrospectionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        OpenIdConnectServiceCollectionExtensions.AddIssuer(services);
        services.AddMcpAuthSettings<IntrospectionOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IntrospectionOptions>, IntrospectionOptionsValidator>());
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton<TokenIntrospectionClient>();
        services.Replace(ServiceDescriptor.Singleton<ITokenIntrospector>(sp =>
            ActivatorUtilities.CreateInstance<CachingTokenIntrospector>(sp, sp.GetRequiredService<TokenIntrospectionClient>())));
        return builder;
    }
}
