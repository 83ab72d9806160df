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
public sealed class OidcProviderValidationBehavior(
    IOptions<McpAuthOptions> options, IOidcTokenValidator validator, ILogger<OidcProviderValidationBehavior> logger)
    : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private readonly bool _enabled = !string.IsNullOrEmpty(options.Value.AuthorizationUrl);

    /// <inheritdoc />
    public async Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        if (!_enabled)
        {
            return await next().ConfigureAwait(false);
        }

        OidcValidationResult result;
        using (var activity = McpAuthDiagnostics.StartStage("McpAuth." + Stage.OidcProviderValidation))
        {
            result = await validator.ValidateAsync(request.State.Token!, cancellationToken).ConfigureAwait(false);
            switch (result.Status)
            {
                case PortStatus.Accepted:
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

        request.State.VerifiedByIssuer = true;
        return await next().ConfigureAwait(false);
    }
}
