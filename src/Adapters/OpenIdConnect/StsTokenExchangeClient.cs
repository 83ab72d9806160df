using Duende.IdentityModel.Client;
using McpAuth.OpenIdConnect.Exchange;
using McpAuth.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.OpenIdConnect;

/// <summary>
/// RFC 8693 token exchange (<c>StsStrategy</c> <c>rfc8693</c>, the default) in the original's wire format: a form POST
/// to the token endpoint (<c>StsTokenUrl</c>, else the issuer's discovered <c>token_endpoint</c>) with
/// <c>grant_type</c>, <c>subject_token</c>, <c>subject_token_type</c> and <c>requested_token_type</c> (both
/// <c>access_token</c>), <c>audience</c> and an always-sent <c>scope</c>, built by Duende.IdentityModel's
/// <see cref="TokenExchangeTokenRequest"/>. With <c>StsActorTokenFile</c>, the server's own token goes as
/// <c>actor_token</c>/<c>actor_token_type</c>, so the token service can record who acts (RFC 8693 §4.1 <c>act</c>).
/// Client authentication: <c>StsClientAuth</c> (Basic when a secret is set). 400/401 → refused; 5xx, timeout, refused
/// connection, a response without <c>access_token</c> or with <c>expires_in</c> ≤ 0 → unavailable.
/// </summary>
public sealed class StsTokenExchangeClient : ITokenExchangeClient
{
    /// <summary>RFC 8693 grant type.</summary>
    public const string GrantType = "urn:ietf:params:oauth:grant-type:token-exchange";

    /// <summary>RFC 8693 access-token type URI.</summary>
    public const string AccessTokenType = TokenExchangeStrategies.AccessTokenType;

    private readonly TokenEndpoint _endpoint;
    private readonly Dialect _dialect;

    /// <summary>Creates the client.</summary>
    public StsTokenExchangeClient(
        IHttpClientFactory httpClientFactory, IssuerMetadataStore issuer, IOptions<McpAuthOptions> mcpAuth,
        IOptions<TokenExchangeOptions> options, OutboundUrlPolicy urls, TimeProvider time, ILogger<StsTokenExchangeClient> logger)
    {
        _endpoint = TokenEndpoint.For(httpClientFactory, issuer, mcpAuth, options, urls, time, logger);
        var o = options.Value;
        _dialect = new Dialect(
            mcpAuth.Value.StsAudience ?? string.Empty, string.Join(' ', o.StsScopes),
            string.IsNullOrEmpty(o.StsActorTokenFile) ? null : new CredentialFile(o.StsActorTokenFile, time), o.StsActorTokenType);
    }

    /// <inheritdoc />
    public ValueTask<TokenExchangeResult> ExchangeAsync(string subjectToken, DateTimeOffset? subjectExpiresAt, CancellationToken cancellationToken) =>
        _endpoint.ExchangeAsync(_dialect, subjectToken, cancellationToken);

    private sealed class Dialect(string audience, string scopes, CredentialFile? actorToken, string actorTokenType) : TokenServiceDialect
    {
        public override string Name => TokenExchangeStrategies.Rfc8693;

        public override ProtocolRequest? Build(string endpoint, string subjectToken, out string? problem)
        {
            problem = null;
            string? actor = null;
            if (actorToken is not null && (actor = actorToken.ReadToken(requireJwt: false, out var actorProblem)) is null)
            {
                problem = "McpAuth:StsActorTokenFile " + actorProblem;
                return null;
            }

            var request = new TokenExchangeTokenRequest
            {
                SubjectToken = subjectToken,
                SubjectTokenType = AccessTokenType,
                RequestedTokenType = AccessTokenType,
                Audience = audience,
                Scope = scopes.Length > 0 ? scopes : null,
                ActorToken = actor,
                ActorTokenType = actor is null ? null : actorTokenType,
            };
            if (scopes.Length == 0)
            {
                request.Parameters.AddRequired("scope", string.Empty, allowEmptyValue: true); // the original always sends scope
            }

            return request;
        }

        public override Task<TokenResponse> SendAsync(HttpMessageInvoker invoker, ProtocolRequest request, CancellationToken cancellationToken) =>
            invoker.RequestTokenExchangeTokenAsync((TokenExchangeTokenRequest)request, cancellationToken);
    }
}
