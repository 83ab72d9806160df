using McpAuth.Caching;
using McpAuth.Diagnostics;
using McpAuth.Ports;
using MediatR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// Stage 3: when an issuer is configured, the <see cref="IOidcTokenValidator"/> port verifies signature, issuer,
/// audience and a required <c>exp</c>. Invalid → invalid token; issuer unreachable → unavailable.
/// </summary>
/// <remarks>
/// A token the <see cref="ValidatedTokenCache"/> already knew (marked verified by the parse stage) skips the port; a
/// token the port accepts is added to the cache.
/// </remarks>
public sealed class OidcProviderValidationBehavior(
    IOptions<McpAuthOptions> options, IOidcTokenValidator validator, ILogger<OidcProviderValidationBehavior> logger,
    ValidatedTokenCache? cache = null)
    : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private readonly bool _enabled = !string.IsNullOrEmpty(options.Value.AuthorizationUrl);

    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next) =>
        !_enabled || request.State.VerifiedByIssuer ? next() : ValidateAsync(request, cancellationToken, next);

    private async Task<AuthenticationOutcome> ValidateAsync(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        var state = request.State;
        OidcValidationResult result;
        using (var activity = McpAuthDiagnostics.StartStage("McpAuth." + Stage.OidcProviderValidation))
        {
            result = await validator.ValidateAsync(state.Token!, cancellationToken).ConfigureAwait(false);
            switch (result.Status)
            {
                case PortStatus.Accepted:
                    Stage.Pass(activity);
                    break;
                case PortStatus.Unavailable:
                    Log.PeerUnavailable(logger, Stage.OidcProviderValidation, result.Reason);
                    return Stage.Fail(activity, Stage.OidcProviderValidation, AuthenticationErrorCode.Unavailable,
                        "The authorization server is unavailable; try again later.");
                default:
                    return Stage.Fail(activity, Stage.OidcProviderValidation, AuthenticationErrorCode.InvalidToken,
                        result.Reason ?? "The token was not issued by the trusted authorization server.");
            }
        }

        state.VerifiedByIssuer = true;
        cache?.Add(new ValidatedToken(state.RawToken!, state.Token!, state.Scopes, state.Audiences, state.ExpiresAt, state.NotBefore, state.IssuedAt));
        return await next().ConfigureAwait(false);
    }
}
