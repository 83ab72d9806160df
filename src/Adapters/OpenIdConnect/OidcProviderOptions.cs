namespace McpAuth.OpenIdConnect;

/// <summary>Settings of the OIDC provider adapter (bound from the <c>McpAuth</c> section, like every setting).</summary>
public sealed class OidcProviderOptions
{
    /// <summary>A PEM file whose certificates become the only trust roots for the issuer and token-service connections.</summary>
    public string? CertificateAuthority { get; set; }

    /// <summary>Timeout of one fetch of the issuer's metadata and keys (discovery and JWKS together). Default 5 s.</summary>
    public TimeSpan IssuerTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The shortest time between two fetches of the issuer's keys. Tokens that need keys the snapshot lacks (unknown
    /// <c>kid</c>, or a failed signature) share the next fetch and wait for its slot: a flood of junk tokens costs at most
    /// one fetch per interval, and the first token under a new key waits at most one interval. Default 2 s.
    /// </summary>
    public TimeSpan KeyRefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Keys older than this are refreshed in the background; until a refresh succeeds they stay in use (and readiness
    /// reports the issuer unhealthy). Default 1 hour.
    /// </summary>
    public TimeSpan MetadataMaxAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// After a failed fetch, the next one waits this long, doubling on each further failure up to one minute; meanwhile
    /// requests that would need a fetch get 503 at once. Default 2 s.
    /// </summary>
    public TimeSpan FailureBackoff { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Allow plain-http issuer and token-service URLs that are not on loopback. Default false.</summary>
    public bool AllowInsecureHttp { get; set; }

    /// <summary>Largest discovery or JWKS document accepted. Default 1 MiB.</summary>
    public int MaxDocumentBytes { get; set; } = 1024 * 1024;
}
