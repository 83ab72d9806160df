using McpAuth.Diagnostics;
using McpAuth.Ports;
using MediatR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// When <see cref="McpAuthOptions.ValidateToken"/> is on, reviews the effective token on every target cluster of the
/// request's calls through the <see cref="ITokenReviewClient"/> port. The calls are read here, after the token passed
/// every earlier stage. Audiences: the exchange audience after an exchange, else the expected audience, else none
/// (never <c>[""]</c>). When audiences were requested, the returned <c>status.audiences</c> must intersect them.
/// </summary>
public sealed class TokenReviewBehavior(
    IOptions<McpAuthOptions> options, ITokenReviewClient client, ILogger<TokenReviewBehavior> logger)
    : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private readonly bool _enabled = options.Value.ValidateToken;
    private readonly IReadOnlyList<string> _exchangeAudiences = Audiences(options.Value.StsAudience);
    private readonly IReadOnlyList<string> _audiences = Audiences(options.Value.Audience);

    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(next);
        return _enabled ? ReviewAsync(request, cancellationToken, next) : next();
    }

    private async Task<AuthenticationOutcome> ReviewAsync(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        var state = request.State;
        if (state.EffectiveToken is null)
        {
            return AuthenticationOutcome.NoCredentials;
        }

        var audiences = state.Exchanged ? _exchangeAudiences : _audiences;
        using (var scope = StageScope.Begin<TokenReviewBehavior>())
        {
            var calls = await request.GetCallsAsync(cancellationToken).ConfigureAwait(false);
            if (scope.FailUnlessRead(calls) is { } refused)
            {
                if (calls.Status == McpCallSetStatus.NotSupplied)
                {
                    Log.CallsNotSupplied(logger, scope.Name);
                }
                else
                {
                    Log.CallsUnusable(logger, scope.Name, calls.Status);
                }

                return refused;
            }

            foreach (var target in calls.Targets)
            {
                var result = await client.ReviewAsync(new TokenReviewRequest(target, state.EffectiveToken, audiences, state.EffectiveTokenExpiresAt), cancellationToken)
                    .ConfigureAwait(false);
                switch (result.Status)
                {
                    case PortStatus.Accepted when result.User is not null:
                        if (audiences.Count > 0 && !result.Audiences.Intersect(audiences, StringComparer.Ordinal).Any())
                        {
                            return scope.Fail(AuthenticationErrorCode.InvalidToken, "The cluster did not confirm the token's audience.");
                        }

                        state.AddClusterUser(target, result.User);
                        break;
                    case PortStatus.InvalidRequest:
                        return scope.Fail(AuthenticationErrorCode.InvalidRequest, result.Reason ?? "The requested cluster is not known.");
                    case PortStatus.Unavailable:
                        Log.PeerUnavailable(logger, scope.Name, result.Reason);
                        return scope.Fail(AuthenticationErrorCode.Unavailable, "The cluster's API server is unavailable; try again later.");
                    default:
                        return scope.Fail(AuthenticationErrorCode.InvalidToken, "The cluster did not authenticate the token.");
                }
            }

            scope.Pass();
        }

        return await next().ConfigureAwait(false);
    }

    private static IReadOnlyList<string> Audiences(string? audience) => string.IsNullOrEmpty(audience) ? [] : [audience];
}
