using System.Text.Json;
using McpAuth.Dpop;
using Microsoft.AspNetCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace McpAuth.Host.Demo;

/// <summary>
/// DPoP at the demo authorization server (<c>--demo-dpop</c>; OpenIddict 7.8 has no DPoP of its own): a token request
/// that carries a <c>DPoP</c> proof (RFC 9449 §5, checked with McpAuth's own proof validator: <c>typ</c>, asymmetric
/// <c>alg</c>, public <c>jwk</c>, signature, <c>htm</c> POST, <c>htu</c> the token endpoint, <c>iat</c> window) gets an
/// access token bound to the proof's key (<c>cnf.jkt</c>, RFC 7638 thumbprint) and <c>token_type</c> <c>DPoP</c>. A
/// request without a proof gets a bearer token as before; a bad proof gets <c>invalid_dpop_proof</c>. Proof <c>jti</c>s
/// are not tracked here (the demo is development only; McpAuth tracks them at the resource).
/// </summary>
internal static class DemoDpop
{
    private const string ThumbprintProperty = "mcpauth-demo:dpop-jkt";

    public static void Register(OpenIddictServerBuilder server, string tokenEndpoint, DpopProofValidator validator)
    {
        server.AddEventHandler<ValidateTokenRequestContext>(b => b.UseInlineHandler(async context =>
        {
            var http = context.Transaction.GetHttpRequest();
            if (http is null || !http.Headers.TryGetValue("DPoP", out var header))
            {
                return;
            }

            var (proof, error) = await validator.ValidateTokenRequestAsync(header.Count == 1 ? header[0] : null, new McpAuth.DpopRequest(header.ToString(), HttpMethods.Post, tokenEndpoint));
            if (proof is null)
            {
                context.Reject("invalid_dpop_proof", error);
                return;
            }

            context.Transaction.Properties[ThumbprintProperty] = proof.Thumbprint;
        }));

        // Once OpenIddict has made the access token's principal, and before it is serialized: add the binding to it only.
        server.AddEventHandler<ProcessSignInContext>(b => b.UseInlineHandler(context =>
        {
            if (context.AccessTokenPrincipal is { } principal && context.Transaction.Properties.TryGetValue(ThumbprintProperty, out var jkt) && jkt is string thumbprint)
            {
                principal.AddClaim("cnf", JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["jkt"] = thumbprint }));
            }

            return default;
        }).SetOrder(OpenIddictServerHandlers.PrepareAccessTokenPrincipal.Descriptor.Order + 1));

        server.AddEventHandler<ApplyTokenResponseContext>(b => b.UseInlineHandler(context =>
        {
            if (context.Response.AccessToken is not null && context.Transaction.Properties.ContainsKey(ThumbprintProperty))
            {
                context.Response.TokenType = "DPoP";
            }

            return default;
        }).SetOrder(int.MinValue));
    }
}
