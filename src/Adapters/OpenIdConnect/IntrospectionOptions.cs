namespace McpAuth.OpenIdConnect;

/// <summary>
/// Settings of the RFC 7662 introspection adapter (bound from the <c>McpAuth</c> section). The client id is a pipeline
/// setting (<see cref="McpAuthOptions.IntrospectionClientId"/>); setting it (with an issuer) turns introspection on.
/// </summary>
public sealed class IntrospectionOptions
{
    /// <summary>The client secret of <see cref="McpAuthOptions.IntrospectionClientId"/> at the authorization server. Never logged.</summary>
    public string? IntrospectionClientSecret { get; set; }

    /// <summary>A file holding the client secret instead of <see cref="IntrospectionClientSecret"/> (a mounted Secret); read at each call.</summary>
    public string? IntrospectionClientSecretFile { get; set; }

    /// <summary>How the client authenticates: <c>client_secret_basic</c> (default, RFC 7662 §2.1's example) or <c>client_secret_post</c>.</summary>
    public string IntrospectionClientAuth { get; set; } = IntrospectionClientAuthMethods.Basic;

    /// <summary>The introspection endpoint; unset: the issuer's discovered <c>introspection_endpoint</c>.</summary>
    public string? IntrospectionEndpoint { get; set; }

    /// <summary>Timeout of one introspection call, body included. Default 5 s.</summary>
    public TimeSpan IntrospectionTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The longest an "active" answer is reused (never past the token's <c>exp</c>). Default 2 minutes: a token revoked at
    /// the authorization server is refused here at most this long afterwards. Zero: every request asks.
    /// </summary>
    public TimeSpan IntrospectionCacheMaxAge { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a "not active" answer is reused, so a flood of one bad token costs one call. Default 10 s.</summary>
    public TimeSpan IntrospectionInactiveCacheTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Most introspection calls in flight at once (default 32). Every distinct opaque token costs a call, so a flood of
    /// made-up tokens would otherwise become as many outbound requests; past this bound a new token gets 503 at once
    /// (cached answers are unaffected) instead of queuing.
    /// </summary>
    public int IntrospectionMaxConcurrency { get; set; } = 32;

    /// <summary>Most answers kept (0 switches the cache off). Default 10,000.</summary>
    public int IntrospectionCacheMaxEntries { get; set; } = 10_000;
}

/// <summary>The values of <see cref="IntrospectionOptions.IntrospectionClientAuth"/>.</summary>
public static class IntrospectionClientAuthMethods
{
    /// <summary>HTTP Basic with the form-encoded client id and secret (RFC 6749 §2.3.1).</summary>
    public const string Basic = "client_secret_basic";

    /// <summary><c>client_id</c> and <c>client_secret</c> in the form.</summary>
    public const string Post = "client_secret_post";
}
