using McpAuth.Diagnostics;
using McpAuth.Ports;
using MediatR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// When introspection is configured (<see cref="McpAuthOptions.IntrospectionClientId"/>), an opaque token is sent to the
/// <see cref="ITokenIntrospector"/> port (RFC 7662). Active → the state's token becomes the answer's view of it, marked
/// verified by the issuer, and the offline checks (lifetime, audience) run on it next, as on a JWT's claims; not active
/// → invalid token; server unreachable → unavailable. A JWT, or a token already introspected, passes untouched.
/// </summary>
public sealed class IntrospectionBehavior(
    IOptions<McpAuthOptions> options, ITokenIntrospector introspector, ILogger<IntrospectionBehavior> logger)
    : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private readonly bool _enabled = options.Value.HasIntrospection;

    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(next);
        return _enabled && request.State.Token is { IsOpaque: true, IsIntrospected: false }
            ? IntrospectAsync(request, cancellationToken, next)
            : next();
    }

    private async Task<AuthenticationOutcome> IntrospectAsync(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        var state = request.State;
        using (var scope = StageScope.Begin<IntrospectionBehavior>())
        {
            var result = await introspector.IntrospectAsync(state.Token!, cancellationToken).ConfigureAwait(false);
            switch (result.Status)
            {
                case PortStatus.Accepted when result.Token is { IsIntrospected: true } introspected
                                              && string.Equals(introspected.Raw, state.Token!.Raw, StringComparison.Ordinal):
                    state.Token = introspected;
                    state.VerifiedByIssuer = true;
                    scope.Pass();
                    break;
                case PortStatus.Accepted:
                    // An adapter that says "active" without the answer for this very token: fail closed.
                    Log.PeerUnavailable(logger, scope.Name, "The introspection adapter answered active without the introspected token.");
                    return scope.Fail(AuthenticationErrorCode.Unavailable, "The authorization server is unavailable; try again later.");
                case PortStatus.Unavailable:
                    Log.PeerUnavailable(logger, scope.Name, result.Reason);
                    return scope.Fail(AuthenticationErrorCode.Unavailable, "The authorization server is unavailable; try again later.");
                default:
                    return scope.Fail(AuthenticationErrorCode.InvalidToken, result.Reason ?? "The token is not active.");
            }
        }

        return await next().ConfigureAwait(false);
    }
}
