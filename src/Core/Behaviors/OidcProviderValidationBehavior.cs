using McpAuth.Diagnostics;
using McpAuth.Ports;
using MediatR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// When an issuer is configured, the <see cref="IOidcTokenValidator"/> port verifies signature, issuer, audience and a
/// required <c>exp</c>; on success the state is marked verified. Invalid → invalid token; issuer unreachable →
/// unavailable. A token the validated-token cache supplied (already verified) skips the port.
/// </summary>
public sealed class OidcProviderValidationBehavior(
    IOptions<McpAuthOptions> options, IOidcTokenValidator validator, ILogger<OidcProviderValidationBehavior> logger)
    : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private readonly bool _enabled = options.Value.HasIssuer;

    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(next);
        return !_enabled || request.State.VerifiedByIssuer ? next() : ValidateAsync(request, cancellationToken, next);
    }

    private async Task<AuthenticationOutcome> ValidateAsync(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        var state = request.State;
        if (state.Token is null)
        {
            return AuthenticationOutcome.NoCredentials;
        }

        using (var scope = StageScope.Begin<OidcProviderValidationBehavior>())
        {
            var result = await validator.ValidateAsync(state.Token, cancellationToken).ConfigureAwait(false);
            switch (result.Status)
            {
                case PortStatus.Accepted:
                    scope.Pass();
                    break;
                case PortStatus.Unavailable:
                    Log.PeerUnavailable(logger, scope.Name, result.Reason);
                    return scope.Fail(AuthenticationErrorCode.Unavailable, "The authorization server is unavailable; try again later.");
                default:
                    return scope.Fail(AuthenticationErrorCode.InvalidToken, result.Reason ?? "The token was not issued by the trusted authorization server.");
            }
        }

        state.VerifiedByIssuer = true;
        return await next().ConfigureAwait(false);
    }
}
