using McpAuth.Diagnostics;
using McpAuth.Ports;
using MediatR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// Stage 4: when the exchange is enabled (issuer + client id + audience), exchanges the verified token through the
/// <see cref="ITokenExchangeClient"/> port (RFC 8693). The result, JWT or opaque, becomes the effective token.
/// Refused → invalid token; STS failing → unavailable.
/// </summary>
public sealed class TokenExchangeBehavior(
    IOptions<McpAuthOptions> options, ITokenExchangeClient client, ILogger<TokenExchangeBehavior> logger)
    : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private readonly bool _enabled = options.Value.TokenExchangeEnabled;

    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next) =>
        _enabled ? ExchangeAsync(request, cancellationToken, next) : next();

    private async Task<AuthenticationOutcome> ExchangeAsync(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        var state = request.State;
        using (var activity = McpAuthDiagnostics.StartStage("McpAuth." + Stage.TokenExchange))
        {
            var result = await client.ExchangeAsync(state.RawToken!, state.ExpiresAt, cancellationToken).ConfigureAwait(false);
            switch (result.Status)
            {
                case PortStatus.Accepted when !string.IsNullOrEmpty(result.AccessToken):
                    state.EffectiveToken = result.AccessToken;
                    state.EffectiveTokenExpiresAt = result.ExpiresAt;
                    state.Exchanged = true;
                    Stage.Pass(activity);
                    break;
                case PortStatus.Rejected or PortStatus.InvalidRequest:
                    return Stage.Fail(activity, Stage.TokenExchange, AuthenticationErrorCode.InvalidToken,
                        result.Reason ?? "The token exchange service refused the token.");
                default:
                    Log.PeerUnavailable(logger, Stage.TokenExchange, result.Reason);
                    return Stage.Fail(activity, Stage.TokenExchange, AuthenticationErrorCode.Unavailable,
                        "The token exchange service is unavailable; try again later.");
            }
        }

        return await next().ConfigureAwait(false);
    }
}
