using McpAuth.Kubernetes;
using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Kubernetes adapter of McpAuth.</summary>
public static class KubernetesServiceCollectionExtensions
{
    /// <summary>
    /// <see cref="ITokenReviewClient"/> with KubernetesClient on kubeconfig contexts (<see cref="KubernetesTokenReviewClient"/>),
    /// behind the <see cref="CachingTokenReviewClient"/> decorator, and the API servers' readiness probe. Turn the stage
    /// on with <c>McpAuth:ValidateToken</c>.
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
        services.Replace(ServiceDescriptor.Singleton<ITokenReviewClient>(sp => ActivatorUtilities.CreateInstance<CachingTokenReviewClient>(
            sp, sp.GetRequiredService<KubernetesTokenReviewClient>())));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPeerHealthProbe, KubernetesHealthProbe>());
        return builder;
    }
}
