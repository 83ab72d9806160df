using McpAuth.Tokens;

namespace McpAuth;

/// <summary>
/// Per-request state that the stages fill in. MediatR 5's <c>next()</c> takes no arguments, so this object, carried on
/// the command, is how an outer stage hands what it learned to the inner ones.
/// </summary>
public sealed class AuthenticationState
{
    private static readonly Dictionary<string, ClusterUser> EmptyUsers = new(0);
    private Dictionary<string, ClusterUser>? _clusterUsers;
    private ParsedToken? _token;

    /// <summary>The parsed (not necessarily verified) token. Setting it also makes it the effective token.</summary>
    public ParsedToken? Token
    {
        get => _token;
        set
        {
            _token = value;
            EffectiveToken = value?.Raw;
            EffectiveTokenExpiresAt = value?.ExpiresAt;
            Exchanged = false;
        }
    }

    /// <summary>The scheme the token came with (Bearer or DPoP).</summary>
    public AuthorizationScheme Scheme { get; set; }

    /// <summary>The RFC 7638 thumbprint of the key a valid DPoP proof was signed with, once the DPoP stage accepted it.</summary>
    public string? ProofKeyThumbprint { get; set; }

    /// <summary>The bearer token as sent by the client. Never log it.</summary>
    public string? RawToken => _token?.Raw;

    /// <summary>The token's scopes (empty before parsing).</summary>
    public IReadOnlyList<string> Scopes => _token?.Scopes ?? [];

    /// <summary>The token's audiences (empty before parsing).</summary>
    public IReadOnlyList<string> Audiences => _token?.Audiences ?? [];

    /// <summary>
    /// True once the issuer's signature, issuer and audience checks passed for <see cref="Token"/>: set by the issuer
    /// stage, or by the validated-token cache for a token that stage accepted earlier. A stage that replaces the issuer
    /// stage sets it the same way.
    /// </summary>
    public bool VerifiedByIssuer { get; set; }

    /// <summary>The token to use downstream: the raw token, or the exchanged one. Never log it.</summary>
    public string? EffectiveToken { get; private set; }

    /// <summary>True when <see cref="EffectiveToken"/> came from a token exchange.</summary>
    public bool Exchanged { get; private set; }

    /// <summary>When the effective token expires, when known.</summary>
    public DateTimeOffset? EffectiveTokenExpiresAt { get; private set; }

    /// <summary>The user each reviewed cluster sees, keyed by target (<c>""</c> = default cluster).</summary>
    public IReadOnlyDictionary<string, ClusterUser> ClusterUsers =>
        (IReadOnlyDictionary<string, ClusterUser>?)_clusterUsers ?? EmptyUsers;

    /// <summary>Records the token an exchange returned: it becomes the effective token.</summary>
    public void SetExchangedToken(string token, DateTimeOffset? expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        EffectiveToken = token;
        EffectiveTokenExpiresAt = expiresAt;
        Exchanged = true;
    }

    /// <summary>Records the user a cluster's TokenReview returned.</summary>
    public void AddClusterUser(string target, ClusterUser user)
    {
        _clusterUsers ??= new Dictionary<string, ClusterUser>(1, StringComparer.Ordinal);
        _clusterUsers[target] = user;
    }
}
