namespace McpAuth;

/// <summary>
/// The settings the pipeline itself reads, bound from the <c>McpAuth</c> configuration section (one flat section for
/// every McpAuth setting: <c>McpAuth:Audience</c>, <c>McpAuth__Audience</c>). Adapters have their own options classes
/// bound from the same section.
/// </summary>
public sealed class McpAuthOptions
{
    /// <summary>The configuration section every McpAuth setting is bound from.</summary>
    public const string SectionName = "McpAuth";

    /// <summary>
    /// The OAuth/OIDC issuer (authorization server) URL. Enables the issuer stage: signature with the issuer's keys,
    /// issuer and audience. Like JwtBearer's <c>Authority</c>.
    /// </summary>
    public string? AuthorizationUrl { get; set; }

    /// <summary>
    /// Several trusted issuers at once, each with its audiences, required scopes and claim mappings; a token is routed by
    /// its <c>iss</c> to exactly one (an unknown <c>iss</c> is refused before any fetch). The first is the issuer token
    /// exchange and introspection use. Leave empty for one issuer (<see cref="AuthorizationUrl"/>, <see cref="Audience"/>).
    /// </summary>
    public IList<IssuerOptions> Issuers { get; set; } = new List<IssuerOptions>();

    /// <summary>
    /// The audience tokens must carry (RFC 8707: the MCP endpoint's resource URL). With an issuer, leaving it unset is
    /// refused at start unless <see cref="AcceptAnyAudience"/> is set. The ASP.NET Core adapter fills it from its
    /// resource URL (<c>ServerUrl</c> + <c>McpPath</c>) when that is configured.
    /// </summary>
    public string? Audience { get; set; }

    /// <summary>
    /// INSECURE: accept tokens issued for any audience (another API's tokens get in). Only for an issuer that issues no
    /// audience at all; logged at start.
    /// </summary>
    public bool AcceptAnyAudience { get; set; }

    /// <summary>Review every token with a Kubernetes TokenReview on the target cluster (needs a TokenReview adapter).</summary>
    public bool ValidateToken { get; set; }

    /// <summary>
    /// RFC 7662 introspection: this server's client id at the authorization server. With an issuer, enables opaque
    /// (non-JWT) access tokens, which the introspection stage asks the issuer about; JWTs keep their local validation.
    /// </summary>
    public string? IntrospectionClientId { get; set; }

    /// <summary>RFC 8693 token exchange: the client id at the token service. With <see cref="StsAudience"/> and an issuer, enables the exchange stage.</summary>
    public string? StsClientId { get; set; }

    /// <summary>RFC 8693 token exchange: the audience of the exchanged token (also the audience its TokenReview asks for).</summary>
    public string? StsAudience { get; set; }

    /// <summary>Scopes every token must carry.</summary>
    public IList<string> RequiredScopes { get; set; } = new List<string>();

    /// <summary>Per-tool scopes for step-up authorization: tool name → scopes a <c>tools/call</c> of it needs.</summary>
    public IDictionary<string, string[]> ToolScopes { get; set; } = new Dictionary<string, string[]>(StringComparer.Ordinal);

    /// <summary>
    /// INSECURE, development only: accept tokens nobody verified (no issuer and no TokenReview). Without it such a
    /// configuration is refused, because any well-formed unsigned JWT would get in. Logged at start.
    /// </summary>
    public bool SkipJwtVerification { get; set; }

    /// <summary>Leeway for <c>exp</c>, <c>nbf</c> and <c>iat</c>. Default 60 s, like the original.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Tokens longer than this (characters of the header value's token part) are refused before parsing. Default 16 KiB.</summary>
    public int MaxTokenBytes { get; set; } = 16 * 1024;

    /// <summary>Most tokens the validated-token cache keeps (0 switches it off). Default 10,000.</summary>
    public int TokenCacheMaxEntries { get; set; } = 10_000;

    /// <summary>
    /// Longest a validated token is reused before it is verified again (never past its <c>exp</c>); also how long a
    /// revoked JWT can keep working. 0 switches the cache off. Default 5 minutes.
    /// </summary>
    public TimeSpan TokenCacheMaxAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>DPoP-bound tokens (RFC 9449): off (default), allowed next to Bearer, or required.</summary>
    public DpopMode Dpop { get; set; }

    /// <summary>The signing algorithms a DPoP proof may use (asymmetric only). Default ES256/384/512, PS256/384/512, RS256/384/512.</summary>
    public IList<string> DpopAlgorithms { get; set; } = new List<string> { "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512" };

    /// <summary>
    /// How far a proof's <c>iat</c> may be from now, either way; also how long its <c>jti</c> is remembered (a replayed
    /// proof is refused). Default 5 minutes, the MCP DPoP extension's window.
    /// </summary>
    public TimeSpan DpopProofLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Require server nonces in proofs (RFC 9449 §8): a proof without the current nonce gets 401 <c>use_dpop_nonce</c>
    /// with a fresh <c>DPoP-Nonce</c>. Nonces rotate every <see cref="DpopProofLifetime"/>. Default off.
    /// </summary>
    public bool DpopNonces { get; set; }

    /// <summary>
    /// Refused requests are not logged one by one; a summary of their counts by stage and code is logged at most once per
    /// this interval. Default 1 minute.
    /// </summary>
    public TimeSpan RefusalLogInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>True when an issuer is configured (<see cref="AuthorizationUrl"/> is not blank).</summary>
    public bool HasIssuer => !string.IsNullOrWhiteSpace(AuthorizationUrl) || Issuers.Count > 0;

    /// <summary>
    /// The issuer whose metadata the issuer store, token exchange and introspection use: <see cref="AuthorizationUrl"/>,
    /// else the first of <see cref="Issuers"/>.
    /// </summary>
    public string? PrimaryIssuerUrl => !string.IsNullOrWhiteSpace(AuthorizationUrl) ? AuthorizationUrl : Issuers.Count > 0 ? Issuers[0].Url : null;

    /// <summary>True when opaque tokens are accepted and introspected: issuer and <see cref="IntrospectionClientId"/> are set.</summary>
    public bool HasIntrospection => HasIssuer && !string.IsNullOrWhiteSpace(IntrospectionClientId);

    /// <summary>True when the RFC 8693 exchange runs: issuer, client id and audience are all set.</summary>
    public bool TokenExchangeEnabled =>
        HasIssuer && !string.IsNullOrWhiteSpace(StsClientId) && !string.IsNullOrWhiteSpace(StsAudience);

    /// <summary>The configuration key of a setting: <c>McpAuth:&lt;name&gt;</c>. Validation messages name settings this way.</summary>
    public static string Key(string name) => SectionName + ":" + name;
}
