using System.Security.Claims;
using System.Text.Encodings.Web;
using MediatR;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Host;

/// <summary>Options of the McpAuth authentication scheme.</summary>
public sealed class McpAuthenticationOptions : AuthenticationSchemeOptions
{
}

/// <summary>What downstream code sees of an authenticated request (a request feature).</summary>
/// <param name="Principal">The authenticated caller.</param>
public sealed record McpAuthenticationFeature(McpPrincipal Principal)
{
    /// <summary>The token to use downstream: exchanged, or the caller's own. Never log it.</summary>
    public string EffectiveToken => Principal.EffectiveToken;
}

internal sealed record McpOutcomeFeature(AuthenticationOutcome Outcome);

/// <summary>
/// The thin adapter from HTTP to the pipeline: builds <see cref="AuthenticateRequest"/> from the request, sends it,
/// maps the outcome. On success <c>HttpContext.User</c> carries <c>sub</c>, <c>iss</c>, <c>aud</c> and <c>scope</c>
/// claims, <see cref="McpAuthenticationFeature"/> carries the effective token, and the <c>Authorization</c> header seen
/// downstream is the effective (possibly exchanged) token.
/// </summary>
public sealed class McpAuthenticationHandler(
    IOptionsMonitor<McpAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    IMediator mediator, HostEndpoints endpoints, IOptions<McpAuthOptions> mcpAuth)
    : AuthenticationHandler<McpAuthenticationOptions>(options, logger, encoder)
{
    private readonly bool _requireOAuth = mcpAuth.Value.RequireOAuth;

    /// <summary>The default scheme name.</summary>
    public const string SchemeName = "McpAuth";

    /// <inheritdoc />
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!_requireOAuth)
        {
            return AuthenticateResult.NoResult(); // RequireOAuth off: nothing is checked (the original's default)
        }

        var info = Context.Features.Get<McpRequestInfo>() ?? McpRequestInfo.Empty;
        // Several Authorization headers are joined with commas, which the parse stage refuses as not a JWT.
        var authorization = Request.Headers.Authorization.ToString();
        var request = new AuthenticateRequest(authorization.Length > 0 ? authorization : null, info.Targets, info.Calls);
        var outcome = await mediator.Send(request, Context.RequestAborted);
        Context.Features.Set(new McpOutcomeFeature(outcome));
        switch (outcome.Kind)
        {
            case AuthenticationOutcomeKind.Success:
                var principal = outcome.Principal!;
                Context.Features.Set(new McpAuthenticationFeature(principal));
                Request.Headers.Authorization = "Bearer " + principal.EffectiveToken;
                return AuthenticateResult.Success(new AuthenticationTicket(ToClaimsPrincipal(principal, Scheme.Name), Scheme.Name));
            case AuthenticationOutcomeKind.NoCredentials:
                return AuthenticateResult.NoResult();
            default:
                return AuthenticateResult.Fail(outcome.Error!.Description);
        }
    }

    /// <inheritdoc />
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var outcome = Context.Features.Get<McpOutcomeFeature>()?.Outcome ?? AuthenticationOutcome.NoCredentials;
        return endpoints.Challenges.Map(outcome, endpoints.ResourceMetadataUrl(Request)).WriteAsync(Response);
    }

    /// <inheritdoc />
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        endpoints.Challenges.Map(
                AuthenticationOutcome.Failure(AuthenticationErrorCode.InsufficientScope, "The token does not allow this operation.", "Authorization"),
                endpoints.ResourceMetadataUrl(Request))
            .WriteAsync(Response);

    internal static ClaimsPrincipal ToClaimsPrincipal(McpPrincipal principal, string scheme)
    {
        var claims = new List<Claim>(4 + principal.Scopes.Count + principal.Audiences.Count);
        if (principal.Subject is not null)
        {
            claims.Add(new Claim("sub", principal.Subject));
        }

        if (principal.Issuer is not null)
        {
            claims.Add(new Claim("iss", principal.Issuer));
        }

        claims.AddRange(principal.Audiences.Select(a => new Claim("aud", a)));
        claims.AddRange(principal.Scopes.Select(s => new Claim("scope", s)));
        if (principal.ClusterUser is { } user)
        {
            claims.Add(new Claim("k8s_user", user.Username));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, "sub", "role"));
    }
}
