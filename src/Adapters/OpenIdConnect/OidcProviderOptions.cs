namespace McpAuth.OpenIdConnect;

/// <summary>Settings of the OIDC provider adapter (bound from the <c>McpAuth</c> section, like every setting).</summary>
public sealed class OidcProviderOptions
{
    /// <summary>A PEM file whose certificates become the only trust roots for the issuer and token-service connections.</summary>
    public string? CertificateAuthority { get; set; }

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

    /// <summary>Allow plain-http issuer and token-service URLs that are not on loopback. Default false.</summary>
    public bool AllowInsecureHttp { get; set; }

    /// <summary>Largest discovery or JWKS document accepted. Default 1 MiB.</summary>
    public int MaxDocumentBytes { get; set; } = 1024 * 1024;
}
