namespace McpAuth.OpenIdConnect.Exchange;

/// <summary>The values of <see cref="TokenExchangeOptions.StsStrategy"/>, and the token-type URIs they send.</summary>
public static class TokenExchangeStrategies
{
    /// <summary>RFC 8693 token exchange (<see cref="StsTokenExchangeClient"/>), the default.</summary>
    public const string Rfc8693 = "rfc8693";

    /// <summary>Microsoft Entra ID on-behalf-of (<see cref="EntraOnBehalfOfTokenExchangeClient"/>).</summary>
    public const string EntraOnBehalfOf = "entra-obo";

    /// <summary>Keycloak's standard token exchange (<see cref="KeycloakTokenExchangeClient"/>).</summary>
    public const string Keycloak = "keycloak";

    /// <summary>RFC 8693 §3: an OAuth 2.0 access token.</summary>
    public const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";

    /// <summary>RFC 8693 §3: a JWT.</summary>
    public const string JwtTokenType = "urn:ietf:params:oauth:token-type:jwt";

    /// <summary>Every strategy.</summary>
    public static IReadOnlyList<string> All { get; } = [Rfc8693, EntraOnBehalfOf, Keycloak];
}
