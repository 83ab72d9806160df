using Microsoft.IdentityModel.JsonWebTokens;

namespace McpAuth;

/// <summary>
/// Per-request state that the stages fill in. MediatR 5's <c>next()</c> takes no arguments, so this object, carried on
/// the command, is how an outer stage hands what it learned to the inner ones.
/// </summary>
public sealed class AuthenticationState
{
    private Dictionary<string, ClusterUser>? _clusterUsers;

    /// <summary>The bearer token as sent by the client. Never log it.</summary>
    public string? RawToken { get; set; }

    /// <summary>The parsed (not yet verified) token.</summary>
    public JsonWebToken? Token { get; set; }

    /// <summary>The token's <c>exp</c>, when present.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>The token's <c>nbf</c>, when present.</summary>
    public DateTimeOffset? NotBefore { get; set; }

    /// <summary>The token's <c>iat</c>, when present.</summary>
    public DateTimeOffset? IssuedAt { get; set; }

    /// <summary>Scopes from the <c>scope</c> claim and the <c>scp</c> array, de-duplicated, in token order.</summary>
    public IReadOnlyList<string> Scopes { get; set; } = [];

    /// <summary>The token's audiences.</summary>
    public IReadOnlyList<string> Audiences { get; set; } = [];

    /// <summary>True once the issuer's signature, issuer and audience checks have passed.</summary>
    public bool VerifiedByIssuer { get; set; }

    /// <summary>The token to use downstream: the raw token, or the exchanged one. Never log it.</summary>
    public string? EffectiveToken { get; set; }

    /// <summary>True when <see cref="EffectiveToken"/> came from an RFC 8693 token exchange.</summary>
    public bool Exchanged { get; set; }

    /// <summary>When the effective token expires, when known.</summary>
    public DateTimeOffset? EffectiveTokenExpiresAt { get; set; }

    /// <summary>The user each reviewed cluster sees, keyed by target (<c>""</c> = default cluster).</summary>
    public IReadOnlyDictionary<string, ClusterUser> ClusterUsers =>
        (IReadOnlyDictionary<string, ClusterUser>?)_clusterUsers ?? EmptyUsers;

    private static readonly Dictionary<string, ClusterUser> EmptyUsers = new(0);

    /// <summary>Records the user a cluster's TokenReview returned.</summary>
    public void AddClusterUser(string target, ClusterUser user)
    {
        _clusterUsers ??= new Dictionary<string, ClusterUser>(1, StringComparer.Ordinal);
        _clusterUsers[target] = user;
    }
}
