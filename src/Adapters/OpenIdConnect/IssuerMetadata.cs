using System.Collections.Frozen;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.OpenIdConnect;

/// <summary>One snapshot of what the issuer publishes: its metadata document and signing keys.</summary>
/// <param name="Issuer">The issuer as it names itself (tokens carry exactly this).</param>
/// <param name="TokenEndpoint">The token endpoint, when published.</param>
/// <param name="DocumentUrl">The well-known URL that answered (OIDC discovery or RFC 8414).</param>
/// <param name="Document">The metadata document's JSON, as the issuer sent it.</param>
/// <param name="SigningKeys">The JWKS signing keys.</param>
/// <param name="FetchedAt">When the keys were fetched.</param>
/// <param name="JwksUri">Where the keys were fetched from.</param>
/// <param name="DocumentFetchedAt">When the metadata document was fetched (a key refresh reuses a document younger than the max age).</param>
/// <param name="IntrospectionEndpoint">The RFC 7662 introspection endpoint, when published.</param>
public sealed record IssuerMetadata(
    string Issuer,
    string? TokenEndpoint,
    string DocumentUrl,
    string Document,
    IReadOnlyList<SecurityKey> SigningKeys,
    DateTimeOffset FetchedAt,
    Uri? JwksUri = null,
    DateTimeOffset? DocumentFetchedAt = null,
    string? IntrospectionEndpoint = null)
{
    /// <summary>The signing keys by <c>kid</c>.</summary>
    public FrozenDictionary<string, SecurityKey> KeysById { get; } = SigningKeys
        .Where(k => !string.IsNullOrEmpty(k.KeyId))
        .GroupBy(k => k.KeyId, StringComparer.Ordinal)
        .ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
}
