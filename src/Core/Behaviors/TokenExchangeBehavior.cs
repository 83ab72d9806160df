using McpAuth.Diagnostics;
using McpAuth.Ports;
using MediatR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// When the exchange is enabled (issuer + client id + audience), exchanges the verified token through the
/// <see cref="ITokenExchangeClient"/> port (RFC 8693, or another strategy behind the same port). The result, JWT or
/// opaque, becomes the effective token; the actors it names (<see cref="TokenExchangeResult.Actors"/>) are added to the
/// principal the pipeline returns. Refused → invalid token; STS failing → unavailable.
/// </summary>
public sealed class TokenExchangeBehavior(
    IOptions<McpAuthOptions> options, ITokenExchangeClient client, ILogger<TokenExchangeBehavior> logger)
    : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private readonly bool _enabled = options.Value.TokenExchangeEnabled;

    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(next);
        return _enabled ? ExchangeAsync(request, cancellationToken, next) : next();
    }

    private async Task<AuthenticationOutcome> ExchangeAsync(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        var state = request.State;
        if (state.Token is null)
        {
            return AuthenticationOutcome.NoCredentials;
        }

        TokenExchangeResult result;
        using (var scope = StageScope.Begin<TokenExchangeBehavior>())
        {
            result = await client.ExchangeAsync(state.Token.Raw, state.Token.ExpiresAt, cancellationToken).ConfigureAwait(false);
            switch (result.Status)
            {
                case PortStatus.Accepted when !string.IsNullOrEmpty(result.AccessToken):
                    state.SetExchangedToken(result.AccessToken, result.ExpiresAt);
                    scope.Pass();
                    break;
                case PortStatus.Rejected or PortStatus.InvalidRequest:
                    return scope.Fail(AuthenticationErrorCode.InvalidToken, result.Reason ?? "The token exchange service refused the token.");
                default:
                    Log.PeerUnavailable(logger, scope.Name, result.Reason);
                    return scope.Fail(AuthenticationErrorCode.Unavailable, "The token exchange service is unavailable; try again later.");
            }
        }

        var outcome = await next().ConfigureAwait(false);
        return result.Actors.Count > 0 && outcome.Principal is { Exchanged: true } principal
            ? AuthenticationOutcome.Success(principal with { Actors = result.Actors })
            : outcome;
    }
}
