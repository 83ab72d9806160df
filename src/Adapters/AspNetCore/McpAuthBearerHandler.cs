using System.Security.Claims;
using System.Text.Encodings.Web;
using McpAuth.Tokens;
using MediatR;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace McpAuth.AspNetCore;

/// <summary>
/// The thin adapter from HTTP to the pipeline. For each request: the Origin/Host guard (403 before any token check);
/// an <see cref="AuthenticateRequest"/> whose calls are read from the body only if a stage asks; <c>IMediator.Send</c>;
/// the outcome mapped by <see cref="ChallengeMapper"/>. On success <c>HttpContext.User</c> carries the token's claims,
/// <see cref="McpAuthFeature"/> carries the principal and the effective token, and after an exchange the
/// <c>Authorization</c> header seen downstream carries the exchanged token. The base class's per-request log lines
/// ("was not authenticated", "was challenged") are not written: refusals are counted and summarized by the pipeline.
/// </summary>
internal sealed class McpAuthBearerHandler(
    IOptionsMonitor<McpAuthBearerOptions> options, UrlEncoder encoder, IMediator mediator, McpAuthScheme.Registry schemes)
    : AuthenticationHandler<McpAuthBearerOptions>(options, NullLoggerFactory.Instance, encoder)
{
    private McpAuthScheme? _scheme;
    private Challenge? _refusal;
    private AuthenticationOutcome? _outcome;
    private AuthorizationScheme _requestScheme;

    private McpAuthScheme McpScheme => _scheme ??= schemes.Get(Scheme.Name);

    /// <inheritdoc />
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var endpoint = Context.GetEndpoint();
        var kind = endpoint?.Metadata.GetMetadata<McpAuthEndpointMetadata>();
        if (kind is null && !RequiresAuthorization(endpoint))
        {
            // Asked as the default scheme for a request no policy protects (/healthz, metadata, an unknown path): the
            // pipeline does not run, so a token sent there costs nothing and is never looked at.
            return AuthenticateResult.NoResult();
        }

        var scheme = McpScheme;
        if (scheme.Guard.RefusalFor(Context) is { } refusal)
        {
            _refusal = ChallengeMapper.ForbiddenOrigin(refusal);
            return AuthenticateResult.Fail(refusal);
        }

        if (Request.QueryString.HasValue && Request.Query.ContainsKey("access_token"))
        {
            // MCP authorization: access tokens must not be sent in the URI (they end up in logs and proxies).
            _outcome = AuthenticationOutcome.Failure(AuthenticationErrorCode.InvalidRequest,
                "Access tokens must be sent in the Authorization header, not in the URI.", "Transport");
            return AuthenticateResult.Fail(_outcome.Error!.Description);
        }

        IMcpCallSource? calls = null;
        if (kind is { McpBody: true })
        {
            var max = scheme.Options.MaxBodyBytes;
            if (Request.ContentLength > max)
            {
                // Declared too large: refused before any work, whether or not a stage would read it.
                _refusal = scheme.Challenges.Map(
                    AuthenticationOutcome.Failure(AuthenticationErrorCode.RequestTooLarge, $"The request body is larger than {max} bytes.", McpJsonRpcDecoder.Source),
                    scheme.ResourceMetadataUrl(Request));
                return AuthenticateResult.Fail("The request body is too large.");
            }

            LimitBody(max);
            calls = new HttpMcpCallSource(Context, max);
        }

        var header = Request.Headers.Authorization;
        // Several Authorization headers are joined with commas, which the parse stage refuses as not a JWT.
        var authorization = header.Count == 0 ? null : header.Count == 1 ? header[0] : header.ToString();
        _requestScheme = AuthorizationHeader.Parse(authorization, out _);
        DpopRequest? dpop = null;
        if (scheme.Pipeline.Dpop != DpopMode.Off)
        {
            // RFC 9449 §4.3: htu is the URI the client addressed (the public base URL when configured), without query.
            var proof = Request.Headers["DPoP"];
            dpop = new DpopRequest(proof.Count == 0 ? null : proof.ToString(), Request.Method, scheme.BaseUrl(Request) + Request.Path);
        }

        var request = kind is { McpBody: false }
            ? new AuthenticateRequest(authorization, []) { Dpop = dpop }
            : new AuthenticateRequest(authorization, calls) { Dpop = dpop };

        var outcome = _outcome = await mediator.Send(request, Context.RequestAborted);
        switch (outcome.Kind)
        {
            case AuthenticationOutcomeKind.Success:
                var principal = outcome.Principal!;
                Context.Features.Set(new McpAuthFeature(principal));
                if (principal.Exchanged)
                {
                    Request.Headers.Authorization = "Bearer " + principal.EffectiveToken;
                }

                return AuthenticateResult.Success(new AuthenticationTicket(ToClaimsPrincipal(principal), Scheme.Name));
            case AuthenticationOutcomeKind.NoCredentials:
                return AuthenticateResult.NoResult();
            default:
                return AuthenticateResult.Fail(outcome.Error!.Description);
        }
    }

    /// <inheritdoc />
    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        (_refusal ?? McpScheme.Challenges.Map(_outcome ?? AuthenticationOutcome.NoCredentials, McpScheme.ResourceMetadataUrl(Request), _requestScheme))
        .WriteAsync(Response);

    /// <inheritdoc />
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        McpScheme.Challenges.Map(
                AuthenticationOutcome.Failure(AuthenticationErrorCode.InsufficientScope, "The token does not allow this operation.", "Authorization"),
                McpScheme.ResourceMetadataUrl(Request), _requestScheme)
            .WriteAsync(Response);

    private static bool RequiresAuthorization(Endpoint? endpoint) =>
        endpoint is not null
        && endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null
        && (endpoint.Metadata.GetMetadata<IAuthorizeData>() is not null || endpoint.Metadata.GetMetadata<AuthorizationPolicy>() is not null);

    // Applies the body limit to whoever reads the body (McpAuth or the endpoint), while it can still be changed.
    private void LimitBody(long maxBodyBytes)
    {
        if (Context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size
            && (size.MaxRequestBodySize is null || size.MaxRequestBodySize > maxBodyBytes))
        {
            size.MaxRequestBodySize = maxBodyBytes;
        }
    }

    private ClaimsPrincipal ToClaimsPrincipal(McpPrincipal principal)
    {
        var identity = new TokenClaimsIdentity(principal.Claims, Scheme.Name, Options.NameClaimType, Options.RoleClaimType);
        foreach (var (target, user) in principal.ClusterUsers)
        {
            identity.AddClaim(new Claim("k8s_user", user.Username, ClaimValueTypes.String, target.Length == 0 ? "kubernetes" : "kubernetes:" + target));
        }

        return new ClaimsPrincipal(identity);
    }
}
