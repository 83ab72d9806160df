using McpAuth.OpenIdConnect;
using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the token exchange adapter of McpAuth's <see cref="ITokenExchangeClient"/> port.</summary>
public static class TokenExchangeServiceCollectionExtensions
{
    /// <summary>
    /// <see cref="ITokenExchangeClient"/> speaking RFC 8693 to the issuer's token endpoint (<see cref="StsTokenExchangeClient"/>),
    /// behind the <see cref="CachingTokenExchangeClient"/> decorator.
    /// </summary>
    public static McpAuthBuilder AddTokenExchange(this McpAuthBuilder builder, Action<TokenExchangeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        OpenIdConnectServiceCollectionExtensions.AddIssuer(services);
        services.AddMcpAuthSettings<TokenExchangeOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TokenExchangeOptions>, OpenIdConnectOptionsValidator>());
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton<StsTokenExchangeClient>();
        services.Replace(ServiceDescriptor.Singleton<ITokenExchangeClient>(sp => ActivatorUtilities.CreateInstance<CachingTokenExchangeClient>(
            sp, sp.GetRequiredService<StsTokenExchangeClient>())));
        return builder;
    }
}
