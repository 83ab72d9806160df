using McpAuth.OpenIdConnect;
using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the OpenID Connect adapters of McpAuth's ports.</summary>
public static class OpenIdConnectServiceCollectionExtensions
{
    /// <summary>
    /// <see cref="IOidcTokenValidator"/> on the issuer's discovery document and JWKS (<see cref="OidcTokenValidator"/>;
    /// with <see cref="McpAuth.McpAuthOptions.Issuers"/>, one per issuer behind <see cref="MultiIssuerTokenValidator"/>), and
    /// the issuers' readiness probe.
    /// </summary>
    public static McpAuthBuilder AddOidcProvider(this McpAuthBuilder builder, Action<OidcProviderOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        AddIssuer(services);
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton<OidcTokenValidator>();
        services.TryAddSingleton<MultiIssuerTokenValidator>();
        services.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(sp => sp.GetRequiredService<McpAuth.IssuerDirectory>().RoutesByIssuer
            ? sp.GetRequiredService<MultiIssuerTokenValidator>()
            : sp.GetRequiredService<OidcTokenValidator>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPeerHealthProbe, IssuerHealthProbe>());
        return builder;
    }

    // The issuer's metadata store and its HttpClient, shared by the validator and the token exchange. Idempotent.
    internal static void AddIssuer(IServiceCollection services)
    {
        services.AddMcpAuthSettings<OidcProviderOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OidcProviderOptions>, OpenIdConnectOptionsValidator>());
        services.TryAddSingleton<OutboundUrlPolicy>();
        services.TryAddSingleton<IssuerMetadataStore>();
        if (services.Any(d => d.ServiceType == typeof(IssuerHttpClientMarker)))
        {
            return;
        }

        services.AddSingleton<IssuerHttpClientMarker>();
        services.AddHttpClient(IssuerMetadataStore.HttpClientName)
            .ConfigureHttpClient(client =>
            {
                client.Timeout = TimeSpan.FromSeconds(30); // backstop; each call has its own, shorter timeout
                client.MaxResponseContentBufferSize = 1024 * 1024;
                client.DefaultRequestHeaders.UserAgent.ParseAdd("McpAuth/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(sp =>
            {
                var options = sp.GetRequiredService<IOptions<OidcProviderOptions>>().Value;
                return IssuerHttpHandler.Create(options.CertificateAuthority, options.IssuerTimeout);
            });
    }

    private sealed class IssuerHttpClientMarker;
}
