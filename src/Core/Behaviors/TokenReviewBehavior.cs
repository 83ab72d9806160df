using McpAuth.Diagnostics;
using McpAuth.Ports;
using MediatR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// Stage 5: when <see cref="McpAuthOptions.ValidateToken"/> is on, reviews the effective token on every target
/// cluster of the request through the <see cref="ITokenReviewClient"/> port. Audiences: the exchange audience after an
/// exchange, else the expected audience, else none at all (never <c>[""]</c>). When audiences were requested, the
/// returned <c>status.audiences</c> must intersect them.
/// </summary>
public sealed class TokenReviewBehavior(
    IOptions<McpAuthOptions> options, ITokenReviewClient client, ILogger<TokenReviewBehavior> logger)
    : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private readonly bool _enabled = options.Value.ValidateToken;
    private readonly IReadOnlyList<string> _exchangeAudiences = Audiences(options.Value.StsAudience);
    private readonly IReadOnlyList<string> _audiences = Audiences(options.Value.ExpectedAudience);

    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next) =>
        _enabled ? ReviewAsync(request, cancellationToken, next) : next();

    private async Task<AuthenticationOutcome> ReviewAsync(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        var state = request.State;
        var audiences = state.Exchanged ? _exchangeAudiences : _audiences;
        using (var activity = McpAuthDiagnostics.StartStage("McpAuth." + Stage.TokenReview))
        {
            foreach (var target in request.Targets)
            {
                var result = await client.ReviewAsync(new TokenReviewRequest(target, state.EffectiveToken!, audiences), cancellationToken)
                    .ConfigureAwait(false);
                switch (result.Status)
                {
                    case PortStatus.Accepted when result.User is not null:
                        if (audiences.Count > 0 && !result.Audiences.Intersect(audiences, StringComparer.Ordinal).Any())
                        {
                            return Stage.Fail(activity, Stage.TokenReview, AuthenticationErrorCode.InvalidToken,
                                "The cluster did not confirm the token's audience.");
                        }

                        state.AddClusterUser(target, result.User);
                        break;
                    case PortStatus.InvalidRequest:
                        return Stage.Fail(activity, Stage.TokenReview, AuthenticationErrorCode.InvalidRequest,
                            result.Reason ?? "The requested cluster is not known.");
                    case PortStatus.Unavailable:
                        Log.PeerUnavailable(logger, Stage.TokenReview, result.Reason);
                        return Stage.Fail(activity, Stage.TokenReview, AuthenticationErrorCode.Unavailable,
                            "The cluster's API server is unavailable; try again later.");
                    default:
                        return Stage.Fail(activity, Stage.TokenReview, AuthenticationErrorCode.InvalidToken,
                            "The cluster did not authenticate the token.");
                }
            }

            Stage.Pass(activity);
        }

        return await next().ConfigureAwait(false);
    }

    private static IReadOnlyList<string> Audiences(string? audience) => string.IsNullOrEmpty(audience) ? [] : [audience];
}
