using McpAuth.OpenIdConnect.Exchange;

namespace McpAuth.OpenIdConnect;

/// <summary>
/// Settings of the token exchange adapters (bound from the <c>McpAuth</c> section). The client id and the audience are
/// pipeline settings (<see cref="McpAuthOptions.StsClientId"/>, <see cref="McpAuthOptions.StsAudience"/>); setting them
/// (with an issuer) turns the exchange on. docs/token-exchange.md says what each token service expects.
/// </summary>
public sealed class TokenExchangeOptions
{
    /// <summary>
    /// How to exchange: <c>rfc8693</c> (default: RFC 8693 token exchange), <c>entra-obo</c> (Microsoft Entra ID
    /// on-behalf-of) or <c>keycloak</c> (Keycloak's standard token exchange). See <see cref="TokenExchangeStrategies"/>.
    /// </summary>
    public string StsStrategy { get; set; } = TokenExchangeStrategies.Rfc8693;

    /// <summary>
    /// How McpAuth authenticates to the token service: <c>client_secret_basic</c>, <c>client_secret_post</c>,
    /// <c>private_key_jwt</c> or <c>federated_assertion</c> (see <see cref="StsClientAuthMethods"/>). Unset: from the
    /// credential that is configured (a secret: Basic; a key file: <c>private_key_jwt</c>; an assertion file:
    /// <c>federated_assertion</c>; none: a public client that sends only <c>client_id</c>).
    /// </summary>
    public string? StsClientAuth { get; set; }

    /// <summary>Client secret for <c>client_secret_basic</c>/<c>client_secret_post</c>. Never logged.</summary>
    public string? StsClientSecret { get; set; }

    /// <summary>A file holding the client secret instead of <see cref="StsClientSecret"/> (e.g. a mounted Secret); read at each exchange.</summary>
    public string? StsClientSecretFile { get; set; }

    /// <summary>
    /// <c>private_key_jwt</c>: the private key (PEM: PKCS#8, RSA or EC, optionally followed by its certificate, whose
    /// thumbprint is then sent as <c>x5t</c>/<c>x5t#S256</c>; or a private JWK) that signs each client assertion
    /// (RFC 7523: 60 s, unique <c>jti</c>, <c>aud</c> the token endpoint). Reloaded when the file changes. Never logged.
    /// </summary>
    public string? StsClientKeyFile { get; set; }

    /// <summary><c>private_key_jwt</c>: the <c>kid</c> of the assertions' header. Default: the JWK's <c>kid</c>, else its RFC 7638 thumbprint.</summary>
    public string? StsClientKeyId { get; set; }

    /// <summary><c>private_key_jwt</c>: the assertions' algorithm. Default: RS256 for an RSA key, ES256/384/512 for an EC key by curve.</summary>
    public string? StsClientSigningAlgorithm { get; set; }

    /// <summary>
    /// <c>federated_assertion</c>: a file with a JWT the platform issues and rotates (a projected service-account token,
    /// a SPIFFE JWT-SVID), sent as the client assertion. Read at each exchange; an assertion past its <c>exp</c> is
    /// never sent. Never logged.
    /// </summary>
    public string? StsClientAssertionFile { get; set; }

    /// <summary>
    /// <c>rfc8693</c> only: a file with the server's own token (its workload identity), sent as <c>actor_token</c> so
    /// the token service records who acts for the subject (RFC 8693 §4.1 <c>act</c>). Read at each exchange; a JWT past
    /// its <c>exp</c> is never sent. Never logged.
    /// </summary>
    public string? StsActorTokenFile { get; set; }

    /// <summary>The <c>actor_token_type</c> of <see cref="StsActorTokenFile"/>. Default <c>urn:ietf:params:oauth:token-type:jwt</c>.</summary>
    public string StsActorTokenType { get; set; } = TokenExchangeStrategies.JwtTokenType;

    /// <summary>The token endpoint; unset: the issuer's discovered <c>token_endpoint</c>.</summary>
    public string? StsTokenUrl { get; set; }

    /// <summary>
    /// Scopes to request for the exchanged token, space-separated on the wire. <c>rfc8693</c>: always sent (empty when
    /// none); <c>keycloak</c>: sent when set; <c>entra-obo</c>: required (for example <c>api://downstream/.default</c>).
    /// </summary>
    public IList<string> StsScopes { get; set; } = new List<string>();

    /// <summary>Timeout of one exchange. Default 5 s.</summary>
    public TimeSpan StsTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Exchanged tokens are reused until this long before the earlier of their and the subject token's expiry. Default 30 s.</summary>
    public TimeSpan ExchangeCacheMargin { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most exchanged tokens kept (0 switches the cache off). Default 10,000.</summary>
    public int ExchangeCacheMaxEntries { get; set; } = 10_000;
}
