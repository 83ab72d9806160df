namespace McpAuth.Adapters;

/// <summary>Settings of the OIDC provider adapter (bound from the <c>McpAuth</c> section, like every setting).</summary>
public sealed class OidcProviderOptions
{
    /// <summary>Timeout of each discovery or JWKS fetch. Default 5 s.</summary>
    public TimeSpan IssuerTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Forced key refreshes (unknown <c>kid</c>, or a failed signature under a known one) are rate-limited: a burst of
    /// <see cref="KeyRefreshBurst"/>, then one per this interval. Default 20 s (at most 3 a minute in steady state).
    /// </summary>
    public TimeSpan KeyRefreshInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Forced refreshes allowed back to back before the interval applies. Default 2.</summary>
    public int KeyRefreshBurst { get; set; } = 2;

    /// <summary>Discovery and keys are fetched again when older than this. Default 1 hour.</summary>
    public TimeSpan MetadataMaxAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>After a failed fetch with nothing cached, no new attempt for this long (requests get 503). Default 2 s.</summary>
    public TimeSpan FailureBackoff { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Allow a plain-http issuer that is not on loopback. Default false.</summary>
    public bool AllowInsecureHttp { get; set; }

    /// <summary>Largest discovery or JWKS document accepted. Default 1 MiB.</summary>
    public int MaxDocumentBytes { get; set; } = 1024 * 1024;
}

/// <summary>Settings of the RFC 8693 token exchange adapter.</summary>
public sealed class TokenExchangeOptions
{
    /// <summary>Timeout of one exchange. Default 5 s.</summary>
    public TimeSpan StsTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Exchanged tokens are reused until this long before the earlier of their and the subject token's expiry. Default 30 s.</summary>
    public TimeSpan ExchangeCacheMargin { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most exchanged tokens kept. Default 10,000.</summary>
    public int ExchangeCacheMaxEntries { get; set; } = 10_000;
}

/// <summary>Settings of the Kubernetes TokenReview adapter.</summary>
public sealed class KubernetesTokenReviewOptions
{
    /// <summary>The kubeconfig file. Unset: <c>KUBECONFIG</c>, else the in-cluster configuration.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>Timeout of one TokenReview. Default 5 s.</summary>
    public TimeSpan TokenReviewTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an authenticated review is reused (never past the token's expiry). Default 2 minutes, like kube-apiserver's webhook cache.</summary>
    public TimeSpan ReviewCacheAuthenticatedTtl { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a rejection is reused. Default 10 s. Errors are never cached.</summary>
    public TimeSpan ReviewCacheRejectedTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Most reviews kept. Default 10,000.</summary>
    public int ReviewCacheMaxEntries { get; set; } = 10_000;
}
