using System.Net;
using Duende.IdentityModel.Client;
using McpAuth.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.OpenIdConnect.Exchange;

/// <summary>
/// Keycloak's standard token exchange (V2, supported and on by default since Keycloak 26.2; <c>StsStrategy</c>
/// <c>keycloak</c>) at <c>/realms/{realm}/protocol/openid-connect/token</c>. It is RFC 8693 with these differences, all
/// from Keycloak's "Using token exchange" guide:
/// <list type="bullet">
/// <item><c>subject_token_type</c> must be <c>…:access_token</c> (Keycloak accepts no other), and the subject token must
/// name the requesting client in its <c>aud</c> (else 403 <c>access_denied</c>, which is read as a refusal here);</item>
/// <item><c>requested_token_type</c> is sent as <c>…:access_token</c> (Keycloak's default; a refresh token is only
/// issued when the client's "Allow refresh token in Standard token exchange" switch is on, and McpAuth needs none);</item>
/// <item><c>audience</c> is the client id of the target client (<c>StsAudience</c>); Keycloak only narrows the token's
/// audiences with it (it never adds one), and <c>resource</c> is not supported;</item>
/// <item><c>scope</c> asks for optional client scopes of the requesting client; it is sent only when <c>StsScopes</c>
/// is set (omitted: the client's default scopes);</item>
/// <item>only confidential clients may exchange; with <c>private_key_jwt</c>, <c>client_id</c> is left out of the form
/// as Keycloak's guide says (the assertion's <c>sub</c> names the client);</item>
/// <item>no delegation: Keycloak does not take <c>actor_token</c> and issues no <c>act</c> (so <c>StsActorTokenFile</c>
/// is refused at start with this strategy).</item>
/// </list>
/// </summary>
public sealed class KeycloakTokenExchangeClient : ITokenExchangeClient
{
    private readonly TokenEndpoint _endpoint;
    private readonly Dialect _dialect;

    /// <summary>Creates the client.</summary>
    public KeycloakTokenExchangeClient(
        IHttpClientFactory httpClientFactory, IssuerMetadataStore issuer, IOptions<McpAuthOptions> mcpAuth,
        IOptions<TokenExchangeOptions> options, OutboundUrlPolicy urls, TimeProvider time, ILogger<KeycloakTokenExchangeClient> logger)
    {
        _endpoint = TokenEndpoint.For(httpClientFactory, issuer, mcpAuth, options, urls, time, logger);
        var o = options.Value;
        _dialect = new Dialect(mcpAuth.Value.StsAudience ?? string.Empty, string.Join(' ', o.StsScopes));
    }

    /// <inheritdoc />
    public ValueTask<TokenExchangeResult> ExchangeAsync(string subjectToken, DateTimeOffset? subjectExpiresAt, CancellationToken cancellationToken) =>
        _endpoint.ExchangeAsync(_dialect, subjectToken, cancellationToken);

    private sealed class Dialect(string audience, string scopes) : TokenServiceDialect
    {
        public override string Name => TokenExchangeStrategies.Keycloak;

        public override bool ClientIdWithKeyAssertion => false;

        // Keycloak answers 403 access_denied when the subject token was not issued for the requesting client.
        public override bool IsRefusal(HttpStatusCode status) => base.IsRefusal(status) || status == HttpStatusCode.Forbidden;

        public override ProtocolRequest? Build(string endpoint, string subjectToken, out string? problem)
        {
            problem = null;
            return new TokenExchangeTokenRequest
            {
                SubjectToken = subjectToken,
                SubjectTokenType = TokenExchangeStrategies.AccessTokenType,
                RequestedTokenType = TokenExchangeStrategies.AccessTokenType,
                Audience = audience,
                Scope = scopes.Length > 0 ? scopes : null,
            };
        }

        public override Task<TokenResponse> SendAsync(HttpMessageInvoker invoker, ProtocolRequest request, CancellationToken cancellationToken) =>
            invoker.RequestTokenExchangeTokenAsync((TokenExchangeTokenRequest)request, cancellationToken);
    }
}
