using McpAuth.OpenIdConnect;
using McpAuth.OpenIdConnect.Exchange;
using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the token exchange adapters of McpAuth's <see cref="ITokenExchangeClient"/> port.</summary>
public static class TokenExchangeServiceCollectionExtensions
{
    /// <summary>
    /// <see cref="ITokenExchangeClient"/> speaking to the issuer's token endpoint in the strategy
    /// <see cref="TokenExchangeOptions.StsStrategy"/> selects (<see cref="StsTokenExchangeClient"/> for RFC 8693, the
    /// default; <see cref="EntraOnBehalfOfTokenExchangeClient"/>; <see cref="KeycloakTokenExchangeClient"/>), behind the
    /// <see cref="CachingTokenExchangeClient"/> decorator.
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
        services.TryAddSingleton<EntraOnBehalfOfTokenExchangeClient>();
        services.TryAddSingleton<KeycloakTokenExchangeClient>();
        services.Replace(ServiceDescriptor.Singleton<ITokenExchangeClient>(sp => ActivatorUtilities.CreateInstance<CachingTokenExchangeClient>(
            sp, Strategy(sp, sp.GetRequiredService<IOptions<TokenExchangeOptions>>().Value.StsStrategy))));
        return builder;
    }

    // The validator refuses any other value at start.
    private static ITokenExchangeClient Strategy(IServiceProvider services, string strategy) => strategy switch
    {
        TokenExchangeStrategies.EntraOnBehalfOf => services.GetRequiredService<EntraOnBehalfOfTokenExchangeClient>(),
        TokenExchangeStrategies.Keycloak => services.GetRequiredService<KeycloakTokenExchangeClient>(),
        _ => services.GetRequiredService<StsTokenExchangeClient>(),
    };
}
