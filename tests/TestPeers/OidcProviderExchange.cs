using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace McpAuth.TestPeers;

/// <summary>
/// The token-exchange side of <see cref="OidcProviderProcess"/> (tests/peers/oidc-provider.mjs): registers exchange
/// clients for each client authentication method, a federated credential and the actor tokens' issuer, and reads back
/// exactly what each exchange request carried.
/// </summary>
public static class OidcProviderExchange
{
    public const string PostClientId = "mcp-client-post";
    public const string PostClientSecret = "post-secret with spaces+plus";
    public const string RsaKeyClientId = "mcp-client-jwt";
    public const string EcKeyClientId = "mcp-client-jwt-ec";
    public const string FederatedClientId = "mcp-client-federated";
    public const string FederatedSubject = "system:serviceaccount:mcp:mcpauth";
    public const string FederatedAudience = "mcp-token-service";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };

    /// <summary>Registers the clients (post, RSA and EC private_key_jwt), the federated credential and the actor issuer.</summary>
    public static async Task SetUpExchangeClientsAsync(this OidcProviderProcess idp, WorkloadKeys keys)
    {
        var grant = new JsonArray("urn:ietf:params:oauth:grant-type:token-exchange");
        var setup = new JsonObject
        {
            ["clients"] = new JsonArray(
                Client(PostClientId, "client_secret_post", c => c["client_secret"] = PostClientSecret),
                Client(RsaKeyClientId, "private_key_jwt", c => c["jwks"] = WorkloadKeys.Jwks(keys.ClientRsa)),
                Client(EcKeyClientId, "private_key_jwt", c => c["jwks"] = WorkloadKeys.Jwks(keys.ClientEc))),
            ["federated"] = new JsonObject
            {
                ["clientId"] = FederatedClientId, ["issuer"] = keys.PlatformIssuer, ["subject"] = FederatedSubject,
                ["audience"] = FederatedAudience, ["jwks"] = WorkloadKeys.Jwks(keys.Platform),
            },
            ["actor"] = new JsonObject { ["issuer"] = keys.PlatformIssuer, ["jwks"] = WorkloadKeys.Jwks(keys.Platform) },
        };
        using var response = await Http.PostAsync(idp.Issuer + "/__control/exchange-clients", new StringContent(setup.ToJsonString()));
        response.EnsureSuccessStatusCode();

        JsonObject Client(string id, string method, Action<JsonObject> more)
        {
            var client = new JsonObject
            {
                ["client_id"] = id, ["grant_types"] = grant.DeepClone(), ["redirect_uris"] = new JsonArray(), ["response_types"] = new JsonArray(),
                ["token_endpoint_auth_method"] = method,
            };
            more(client);
            return client;
        }
    }

    /// <summary>Every exchange request the provider received, as sent.</summary>
    public static async Task<ExchangeDetails> ExchangeDetailsAsync(this OidcProviderProcess idp) =>
        (await Http.GetFromJsonAsync<ExchangeDetails>(idp.Issuer + "/__control/stats"))!;
}

public sealed record ExchangeDetails(
    [property: JsonPropertyName("exchanges")] List<ExchangeRequest> Exchanges,
    [property: JsonPropertyName("federatedChecks")] List<FederatedCheck> FederatedChecks);

public sealed record ExchangeRequest(
    [property: JsonPropertyName("form_keys")] List<string> FormKeys,
    [property: JsonPropertyName("client_id")] string? ClientId,
    [property: JsonPropertyName("client_auth_method")] string? ClientAuthMethod,
    [property: JsonPropertyName("client_assertion")] string? ClientAssertion,
    [property: JsonPropertyName("client_assertion_type")] string? ClientAssertionType,
    [property: JsonPropertyName("authorization")] string? Authorization,
    [property: JsonPropertyName("subject_token")] string? SubjectToken,
    [property: JsonPropertyName("audience")] string? Audience,
    [property: JsonPropertyName("scope")] string? Scope,
    [property: JsonPropertyName("actor_token")] string? ActorToken,
    [property: JsonPropertyName("actor_token_type")] string? ActorTokenType);

public sealed record FederatedCheck(
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("sub")] string? Subject,
    [property: JsonPropertyName("jti")] string? Jti = null);
