namespace McpAuth;

/// <summary>
/// One trusted authorization server in <see cref="McpAuthOptions.Issuers"/>, in the shape of Kubernetes' structured
/// authentication configuration (<c>issuer.url</c>, <c>issuer.audiences</c>, <c>claimMappings</c>). Bound from
/// <c>McpAuth:Issuers:0:Url</c>, <c>McpAuth:Issuers:0:Audiences:0</c>, …
/// </summary>
public sealed class IssuerOptions
{
    /// <summary>
    /// The issuer identifier: tokens whose <c>iss</c> is exactly this are routed to this issuer (its discovery document
    /// and keys are fetched from it, and must name the same issuer).
    /// </summary>
    public string Url { get; set; } = string.Empty;

    /// <summary>Audiences this issuer's tokens may carry (any one is enough). Empty: <see cref="McpAuthOptions.Audience"/>.</summary>
    public IList<string> Audiences { get; set; } = new List<string>();

    /// <summary>Scopes this issuer's tokens must carry, on top of <see cref="McpAuthOptions.RequiredScopes"/>.</summary>
    public IList<string> RequiredScopes { get; set; } = new List<string>();

    /// <summary>How the principal is read from this issuer's tokens.</summary>
    public IssuerClaimMappings ClaimMappings { get; set; } = new();
}

/// <summary>The claim mappings of one issuer (Kubernetes' <c>claimMappings</c>).</summary>
public sealed class IssuerClaimMappings
{
    /// <summary>The principal's subject (Kubernetes' <c>username</c>): the claim it is read from (default <c>sub</c>) and a prefix.</summary>
    public ClaimMapping Username { get; set; } = new();
}

/// <summary>A claim and a prefix put before its value (Kubernetes' <c>claim</c> and <c>prefix</c>).</summary>
public sealed class ClaimMapping
{
    /// <summary>The claim; unset: the default of the mapping (<c>sub</c> for the username).</summary>
    public string? Claim { get; set; }

    /// <summary>Put before the claim's value, for example <c>corp:</c>, so two issuers' subjects cannot collide.</summary>
    public string? Prefix { get; set; }
}
