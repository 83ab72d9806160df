using McpAuth.Diagnostics;
using McpAuth.Ports;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth;

/// <summary>
/// Runs when a host starts: refuses to start when an enabled stage has no adapter for its port (for example
/// <c>ValidateToken</c> without <c>AddKubernetesTokenReview()</c>), and logs every insecure setting that is on.
/// Options validation has already run (<c>ValidateOnStart</c>).
/// </summary>
internal sealed class McpAuthStartupCheck(
    IOptions<McpAuthOptions> options, IOidcTokenValidator oidc, ITokenIntrospector introspector, ITokenExchangeClient exchange, ITokenReviewClient review,
    ILogger<McpAuthStartupCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var missing = new List<string>();
        if (o.HasIssuer && oidc is NotConfiguredOidcTokenValidator)
        {
            missing.Add($"{McpAuthOptions.Key(nameof(o.AuthorizationUrl))} is set but no issuer adapter is registered: call AddOidcProvider() (package McpAuth.OpenIdConnect).");
        }

        if (o.HasIntrospection && introspector is NotConfiguredTokenIntrospector)
        {
            missing.Add($"{McpAuthOptions.Key(nameof(o.IntrospectionClientId))} is set but no introspection adapter is registered: call AddTokenIntrospection() (package McpAuth.OpenIdConnect).");
        }

        if (o.TokenExchangeEnabled && exchange is NotConfiguredTokenExchangeClient)
        {
            missing.Add($"{McpAuthOptions.Key(nameof(o.StsClientId))} is set but no token exchange adapter is registered: call AddTokenExchange() (package McpAuth.OpenIdConnect).");
        }

        if (o.ValidateToken && review is NotConfiguredTokenReviewClient)
        {
            missing.Add($"{McpAuthOptions.Key(nameof(o.ValidateToken))} is on but no TokenReview adapter is registered: call AddKubernetesTokenReview() (package McpAuth.Kubernetes).");
        }

        if (missing.Count > 0)
        {
            throw new OptionsValidationException(McpAuthOptions.SectionName, typeof(McpAuthOptions), missing);
        }

        if (o.AcceptAnyAudience)
        {
            Log.InsecureSetting(logger, McpAuthOptions.Key(nameof(o.AcceptAnyAudience)), "Tokens the issuer made for any other API are accepted.");
        }

        if (o.SkipJwtVerification && !o.HasIssuer && !o.ValidateToken)
        {
            Log.InsecureSetting(logger, McpAuthOptions.Key(nameof(o.SkipJwtVerification)), "No token is verified: any well-formed JWT is accepted.");
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
