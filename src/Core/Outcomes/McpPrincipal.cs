using System.Security.Claims;

namespace McpAuth;

/// <summary>The authenticated caller.</summary>
/// <param name="Subject">The token's <c>sub</c>.</param>
/// <param name="Issuer">The token's <c>iss</c>.</param>
/// <param name="Audiences">The token's audiences.</param>
/// <param name="Scopes">The token's scopes.</param>
/// <param name="Claims">
/// The token's claims with their types as in the token (no mapping to long URIs), except that <c>scope</c> appears once
/// per scope. Shared between requests of the same token: do not mutate.
/// </param>
/// <param name="EffectiveToken">The token to send downstream (exchanged or original). Never log it.</param>
/// <param name="Exchanged">True when the effective token came from a token exchange.</param>
/// <param name="ClusterUser">The user the (first) target cluster's TokenReview returned, when one ran.</param>
/// <param name="ClusterUsers">The users each reviewed target returned.</param>
public sealed record McpPrincipal(
    string? Subject,
    string? Issuer,
    IReadOnlyList<string> Audiences,
    IReadOnlyList<string> Scopes,
    IReadOnlyList<Claim> Claims,
    string EffectiveToken,
    bool Exchanged,
    ClusterUser? ClusterUser,
    IReadOnlyDictionary<string, ClusterUser> ClusterUsers)
{
    /// <summary>
    /// After an exchange whose token carries an <c>act</c> claim (RFC 8693 §4.1): who acts for <see cref="Subject"/>
    /// downstream, the current actor first, then each earlier one (nested <c>act</c>). Empty otherwise.
    /// </summary>
    public IReadOnlyList<TokenActor> Actors { get; init; } = [];

    /// <inheritdoc />
    public override string ToString() => $"McpPrincipal {{ Subject = {Subject}, Issuer = {Issuer}, Exchanged = {Exchanged} }}";
}
