using McpAuth;
using McpAuth.Behaviors;
using MediatR;
using Microsoft.AspNetCore.Http;
using TenantNotes.Application;
using TenantNotes.Domain;

namespace TenantNotes.Adapters.Auth;

/// <summary>
/// An McpAuth stage, inserted just after the issuer stage (<c>OidcProviderValidationBehavior</c>): the token's
/// <c>tenant</c> claim must name exactly one tenant this service serves. The claim is trusted only once the issuer has
/// verified the token. On success the tenant is put on the request (<see cref="TenantFeature"/>), where the tools get
/// it through <see cref="ICurrentCaller"/>.
/// </summary>
/// <remarks>
/// A token of an unknown tenant is refused as an invalid token (401), not as insufficient scope (403): like a token for
/// another audience, it is not a token for this service, and no additional scope would make it one (a 403
/// insufficient_scope tells an MCP client to ask for more scopes, which cannot help here).
/// </remarks>
public sealed class TenantCheckBehavior(ITenantDirectory tenants, IHttpContextAccessor http)
    : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    public const string TenantClaim = "tenant";

    public async Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(next);
        var state = request.State;
        if (state.Token is not { } token)
        {
            return AuthenticationOutcome.NoCredentials;
        }

        using (var scope = StageScope.Begin<TenantCheckBehavior>())
        {
            if (!state.VerifiedByIssuer)
            {
                return scope.Fail(AuthenticationErrorCode.InvalidToken, "The token's tenant cannot be trusted: the issuer did not verify the token.");
            }

            var claimed = token.Claims.Where(c => c.Type == TenantClaim).Select(c => c.Value).ToList();
            if (claimed.Count != 1 || !TenantId.TryParse(claimed[0], out var tenant) || !tenants.Serves(tenant))
            {
                return scope.Fail(AuthenticationErrorCode.InvalidToken, "The token's tenant is not one this service serves.");
            }

            if (http.HttpContext is not { } context)
            {
                return scope.Fail(AuthenticationErrorCode.Unavailable, "The tenant cannot be attached to this request.");
            }

            context.Features.Set(new TenantFeature(tenant));
            scope.Pass();
        }

        return await next();
    }
}
