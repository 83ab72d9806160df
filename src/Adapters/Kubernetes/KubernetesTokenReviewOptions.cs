namespace McpAuth.Kubernetes;

/// <summary>Settings of the Kubernetes TokenReview adapter (bound from the <c>McpAuth</c> section).</summary>
public sealed class KubernetesTokenReviewOptions
{
    /// <summary>The kubeconfig file. Unset: <c>KUBECONFIG</c>, else the in-cluster configuration.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>
    /// In a pod (no kubeconfig, <c>KUBERNETES_SERVICE_HOST</c>/<c>_PORT</c> set): the folder of the service-account token,
    /// <c>ca.crt</c> and <c>namespace</c>. Default <c>/var/run/secrets/kubernetes.io/serviceaccount</c>, where Kubernetes
    /// mounts them; change it only to run the in-cluster configuration elsewhere (tests).
    /// </summary>
    public string ServiceAccountPath { get; set; } = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>Timeout of one TokenReview. Default 5 s.</summary>
    public TimeSpan TokenReviewTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long an authenticated review is reused (never past the token's expiry); also how long a revoked token can keep
    /// working. 0 switches the cache off. Default 2 minutes, like kube-apiserver's webhook cache.
    /// </summary>
    public TimeSpan ReviewCacheAuthenticatedTtl { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a rejection is reused. Default 10 s. Errors are never cached.</summary>
    public TimeSpan ReviewCacheRejectedTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Most reviews kept (0 switches the cache off). Default 10,000.</summary>
    public int ReviewCacheMaxEntries { get; set; } = 10_000;
}
