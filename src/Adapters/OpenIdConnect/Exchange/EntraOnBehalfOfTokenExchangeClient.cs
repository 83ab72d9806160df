using System.Text.Json;
using Duende.IdentityModel.Client;
using McpAuth.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.OpenIdConnect.Exchange;

/// <summary>
/// Microsoft Entra ID's on-behalf-of flow (<c>StsStrategy</c> <c>entra-obo</c>), as "Microsoft identity platform and
/// OAuth 2.0 On-Behalf-Of flow" documents it: a POST to <c>https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token</c>
/// with <c>grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer</c>, <c>assertion</c> (the caller's token, issued for
/// this server), <c>requested_token_use=on_behalf_of</c> and <c>scope</c> (<c>StsScopes</c>, e.g.
/// <c>api://downstream/.default</c>; required), built by Duende.IdentityModel's <see cref="TokenRequest"/>. The client
/// authenticates with a secret (<c>client_secret_post</c>, as the documentation shows, or Basic), a certificate
/// (<c>private_key_jwt</c>, with the certificate's <c>x5t</c>), or a federated credential (<c>federated_assertion</c>,
/// workload identity federation); <c>client_id</c> is always in the form. <c>StsAudience</c> is the audience of the
/// token Entra issues (the downstream API's application ID URI); it is not sent. Errors: every 400/401 with an OAuth
/// <c>error</c> (<c>invalid_grant</c>, <c>interaction_required</c>, <c>consent_required</c>, <c>invalid_scope</c>,
/// <c>invalid_client</c>, …) is a refusal whose description names the <c>error</c>; the log also names the first
/// <c>AADSTS</c> code of <c>error_codes</c> and the <c>trace_id</c>/<c>correlation_id</c> Microsoft support asks for.
/// <c>temporarily_unavailable</c> and 5xx are unavailable. Entra's claims challenge (<c>claims</c>) cannot be met by a
/// server and is not passed on.
/// </summary>
public sealed class EntraOnBehalfOfTokenExchangeClient : ITokenExchangeClient
{
    /// <summary>RFC 7523 §2.1: the JWT bearer grant the on-behalf-of flow uses.</summary>
    public const string GrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer";

    private readonly TokenEndpoint _endpoint;
    private readonly Dialect _dialect;

    /// <summary>Creates the client.</summary>
    public EntraOnBehalfOfTokenExchangeClient(
        IHttpClientFactory httpClientFactory, IssuerMetadataStore issuer, IOptions<McpAuthOptions> mcpAuth,
        IOptions<TokenExchangeOptions> options, OutboundUrlPolicy urls, TimeProvider time, ILogger<EntraOnBehalfOfTokenExchangeClient> logger)
    {
        _endpoint = TokenEndpoint.For(httpClientFactory, issuer, mcpAuth, options, urls, time, logger);
        var o = options.Value;
        _dialect = new Dialect(string.Join(' ', o.StsScopes));
    }

    /// <inheritdoc />
    public ValueTask<TokenExchangeResult> ExchangeAsync(string subjectToken, DateTimeOffset? subjectExpiresAt, CancellationToken cancellationToken) =>
        _endpoint.ExchangeAsync(_dialect, subjectToken, cancellationToken);

    private sealed class Dialect(string scopes) : TokenServiceDialect
    {
        public override string Name => TokenExchangeStrategies.EntraOnBehalfOf;

        // Entra's on-behalf-of documentation lists client_id as required whatever the credential.
        public override bool ClientIdWithBasic => true;

        public override ProtocolRequest? Build(string endpoint, string subjectToken, out string? problem)
        {
            problem = null;
            var request = new TokenRequest { GrantType = GrantType };
            request.Parameters.AddRequired("assertion", subjectToken);
            request.Parameters.AddRequired("requested_token_use", "on_behalf_of");
            request.Parameters.AddRequired("scope", scopes);
            return request;
        }

        public override Task<TokenResponse> SendAsync(HttpMessageInvoker invoker, ProtocolRequest request, CancellationToken cancellationToken) =>
            invoker.RequestTokenAsync((TokenRequest)request, cancellationToken);

        // Entra's error body: error_codes [50079], trace_id, correlation_id (error_description repeats them in prose,
        // with tenant and application ids; it is not logged).
        public override string? Details(JsonElement error)
        {
            var code = error.TryGetProperty("error_codes", out var codes) && codes.ValueKind == JsonValueKind.Array
                       && codes.EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Number } first && first.TryGetInt64(out var n)
                ? "AADSTS" + n
                : "no AADSTS code";
            return $"{code}, trace_id {Read(error, "trace_id")}, correlation_id {Read(error, "correlation_id")}";
        }

        private static string Read(JsonElement error, string name) =>
            error.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: <= 64 } s
            && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
                ? s
                : "(none)";
    }
}
