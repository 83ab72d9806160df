namespace McpAuth;

/// <summary>
/// The settings of the pipeline, bound from the <c>McpAuth</c> configuration section (each one also a host flag).
/// Names follow the original's flags: <c>RequireOAuth</c> is <c>--require-oauth</c>, and so on.
/// </summary>
public sealed class McpAuthOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "McpAuth";

    /// <summary>Protect the server at all. Off (the original's default): nothing is checked.</summary>
    public bool RequireOAuth { get; set; }

    /// <summary>The audience tokens must carry. When unset and <see cref="ServerUrl"/> is set, the resource URL (<c>&lt;server-url&gt;/mcp</c>).</summary>
    public string? OAuthAudience { get; set; }

    /// <summary>Review every token with a Kubernetes TokenReview on the target cluster.</summary>
    public bool ValidateToken { get; set; }

    /// <summary>The OAuth/OIDC issuer (authorization server) URL. Enables signature verification.</summary>
    public string? AuthorizationUrl { get; set; }

    /// <summary>A PEM file whose certificates become the only trust roots for the issuer connection.</summary>
    public string? CertificateAuthority { get; set; }

    /// <summary>This server's public base URL (the MCP endpoint is <c>&lt;server-url&gt;/mcp</c>).</summary>
    public string? ServerUrl { get; set; }

    /// <summary>RFC 8693 client id at the issuer's token endpoint.</summary>
    public string? StsClientId { get; set; }

    /// <summary>RFC 8693 client secret (Basic client authentication). Never logged.</summary>
    public string? StsClientSecret { get; set; }

    /// <summary>The audience to request for the exchanged token.</summary>
    public string? StsAudience { get; set; }

    /// <summary>Scopes to request for the exchanged token (sent space-separated, always).</summary>
    public IList<string> StsScopes { get; set; } = new List<string>();

    /// <summary>Overrides the token endpoint found by discovery.</summary>
    public string? StsTokenUrl { get; set; }

    /// <summary>Scopes every token must carry.</summary>
    public IList<string> RequiredScopes { get; set; } = new List<string>();

    /// <summary>Per-tool scopes for step-up authorization: tool name → scopes a <c>tools/call</c> of it needs.</summary>
    public IDictionary<string, string[]> ToolScopes { get; set; } = new Dictionary<string, string[]>(StringComparer.Ordinal);

    /// <summary>
    /// INSECURE, development only: accept tokens nobody verified (no issuer and no TokenReview). Without it such a
    /// configuration is refused, because any well-formed unsigned JWT would get in.
    /// </summary>
    public bool SkipJwtVerification { get; set; }

    /// <summary>Leeway for <c>exp</c>, <c>nbf</c> and <c>iat</c>. Default 60 s, like the original.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Tokens longer than this (in characters of the header value's token part) are refused before parsing. Default 16 KiB.</summary>
    public int MaxTokenBytes { get; set; } = 16 * 1024;

    /// <summary>Most tokens the validated-token cache keeps (0 switches it off). Default 10,000.</summary>
    public int TokenCacheMaxEntries { get; set; } = 10_000;

    /// <summary>Longest a validated token is reused before it is verified again (never past its <c>exp</c>). Default 5 minutes.</summary>
    public TimeSpan TokenCacheMaxAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>True when the RFC 8693 exchange runs: issuer, client id and audience are all set.</summary>
    public bool TokenExchangeEnabled =>
        !string.IsNullOrEmpty(AuthorizationUrl) && !string.IsNullOrEmpty(StsClientId) && !string.IsNullOrEmpty(StsAudience);

    /// <summary>The MCP endpoint's URL as published in the protected-resource metadata, when <see cref="ServerUrl"/> is set.</summary>
    public string? ResourceUrl => string.IsNullOrEmpty(ServerUrl) ? null : ServerUrl.TrimEnd('/') + "/mcp";

    /// <summary>The audience tokens must carry: <see cref="OAuthAudience"/>, else <see cref="ResourceUrl"/>, else none.</summary>
    public string? ExpectedAudience => !string.IsNullOrEmpty(OAuthAudience) ? OAuthAudience : ResourceUrl;
}
