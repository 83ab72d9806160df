using McpAuth;
using McpAuth.Adapters;
using McpAuth.Adapters.Kubernetes;
using McpAuth.Adapters.Oidc;
using McpAuth.Adapters.Sts;
using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the adapters of McpAuth's ports.</summary>
public static class McpAuthAdaptersExtensions
{
    /// <summary>All three adapters: OIDC provider, token exchange, Kubernetes TokenReview. Each runs only when its settings enable its stage.</summary>
    public static McpAuthBuilder AddDefaultAdapters(this McpAuthBuilder builder) =>
        builder.AddOidcProvider().AddTokenExchange().AddKubernetesTokenReview();

    /// <summary>
    /// <see cref="IOidcTokenValidator"/> on the issuer's discovery document and JWKS (<see cref="OidcTokenValidator"/>).
    /// </summary>
    public static McpAuthBuilder AddOidcProvider(this McpAuthBuilder builder, Action<OidcProviderOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddMcpAuthSettings<OidcProviderOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        AddIssuerHttpClient(services);
        services.TryAddSingleton<IssuerMetadataStore>();
        services.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator, OidcTokenValidator>());
        return builder;
    }

    /// <summary>
    /// <see cref="ITokenExchangeClient"/> speaking RFC 8693 to the issuer's token endpoint (<see cref="StsTokenExchangeClient"/>),
    /// behind the <see cref="CachingTokenExchangeClient"/> decorator.
    /// </summary>
    public static McpAuthBuilder AddTokenExchange(this McpAuthBuilder builder, Action<TokenExchangeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddMcpAuthSettings<TokenExchangeOptions>();
        services.AddMcpAuthSettings<OidcProviderOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        AddIssuerHttpClient(services);
        services.TryAddSingleton<IssuerMetadataStore>();
        services.TryAddSingleton<StsTokenExchangeClient>();
        services.Replace(ServiceDescriptor.Singleton<ITokenExchangeClient>(sp => new CachingTokenExchangeClient(
            sp.GetRequiredService<StsTokenExchangeClient>(), sp.GetRequiredService<IOptions<McpAuthOptions>>(),
            sp.GetRequiredService<IOptions<TokenExchangeOptions>>(), sp.GetRequiredService<TimeProvider>())));
        return builder;
    }

    /// <summary>
    /// <see cref="ITokenReviewClient"/> with KubernetesClient on kubeconfig contexts (<see cref="KubernetesTokenReviewClient"/>),
    /// behind the <see cref="CachingTokenReviewClient"/> decorator.
    /// </summary>
    public static McpAuthBuilder AddKubernetesTokenReview(this McpAuthBuilder builder, Action<KubernetesTokenReviewOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddMcpAuthSettings<KubernetesTokenReviewOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton<KubernetesClusters>();
        services.TryAddSingleton<KubernetesTokenReviewClient>();
        services.Replace(ServiceDescriptor.Singleton<ITokenReviewClient>(sp => new CachingTokenReviewClient(
            sp.GetRequiredService<KubernetesTokenReviewClient>(), sp.GetRequiredService<IOptions<KubernetesTokenReviewOptions>>(),
            sp.GetRequiredService<TimeProvider>())));
        return builder;
    }

    private static void AddIssuerHttpClient(IServiceCollection services)
    {
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
            .ConfigurePrimaryHttpMessageHandler(sp => IssuerHttpHandler.Create(
                sp.GetRequiredService<IOptions<McpAuthOptions>>().Value.CertificateAuthority,
                sp.GetRequiredService<IOptions<OidcProviderOptions>>().Value.IssuerTimeout));
    }

    private sealed class IssuerHttpClientMarker;
}
