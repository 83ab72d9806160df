using System.Security.Claims;
using Microsoft.Extensions.Logging;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace McpAuth.Host.Demo;

/// <summary>
/// The RFC 8693 token-exchange grant (<c>--demo-exchange</c>). OpenIddict has already authenticated the exchange client,
/// checked its permissions and the requested audience, and validated the subject token (an access token this server
/// issued). This decides what the new token says: the same subject, the requested audience, and only scopes the
/// subject token already had (an exchange never widens them).
/// </summary>
internal sealed class DemoTokenExchange(ILogger<DemoTokenExchange> logger) : IOpenIddictServerHandler<HandleTokenRequestContext>
{
    public ValueTask HandleAsync(HandleTokenRequestContext context)
    {
        if (!context.Request.IsTokenExchangeGrantType())
        {
            return default;
        }

        var subject = context.SubjectTokenPrincipal;
        if (subject?.GetClaim(Claims.Subject) is not { Length: > 0 } user)
        {
            context.Reject(Errors.InvalidGrant, "The subject token has no subject.");
            return default;
        }

        var granted = subject.GetScopes();
        var scopes = context.Request.GetScopes().Where(granted.Contains).ToList();
        var identity = DemoAuthorizationServer.UserIdentity(user);
        identity.SetScopes(scopes);
        identity.SetAudiences(context.Request.GetAudiences());
        identity.SetResources(context.Request.GetResources());
        identity.SetDestinations(_ => [Destinations.AccessToken]);
        DemoLog.Exchanged(logger, DemoClientPolicy.LogClean(context.Request.ClientId), DemoClientPolicy.LogClean(user),
            string.Join(' ', context.Request.GetAudiences()), string.Join(' ', scopes));
        context.SignIn(new ClaimsPrincipal(identity));
        return default;
    }
}
