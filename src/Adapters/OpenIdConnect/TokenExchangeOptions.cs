namespace McpAuth.OpenIdConnect;

/// <summary>
/// Settings of the RFC 8693 token exchange adapter (bound from the <c>McpAuth</c> section). The client id and the
/// audience are pipeline settings (<see cref="McpAuthOptions.StsClientId"/>, <see cref="McpAuthOptions.StsAudience"/>).
/// </summary>
public sealed class TokenExchangeOptions
{
    /// <summary>Client secret for Basic client authentication at the token service. Never logged.</summary>
    public string? StsClientSecret { get; set; }

    /// <summary>The token endpoint; unset: the issuer's discovered <c>token_endpoint</c>.</summary>
    public string? StsTokenUrl { get; set; }

    /// <summary>Scopes to request for the exchanged token (sent space-separated, always).</summary>
    public IList<string> StsScopes { get; set; } = new List<string>();

    /// <summary>Timeout of one exchange. Default 5 s.</summary>
    public TimeSpan StsTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Exchanged tokens are reused until this long before the earlier of their and the subject token's expiry. Default 30 s.</summary>
    public TimeSpan ExchangeCacheMargin { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most exchanged tokens kept (0 switches the cache off). Default 10,000.</summary>
    public int ExchangeCacheMaxEntries { get; set; } = 10_000;
}
