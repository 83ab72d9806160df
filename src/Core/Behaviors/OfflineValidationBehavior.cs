using McpAuth.Diagnostics;
using MediatR;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// Stage 2: <c>exp</c>, <c>nbf</c> and <c>iat</c> with clock skew, and audience any-match when one is expected.
/// No network call and no cryptography: a token that fails here never reaches a later (costly) stage.
/// A missing <c>exp</c> is not an offline error (the issuer check requires one).
/// </summary>
public sealed class OfflineValidationBehavior(IOptions<McpAuthOptions> options, TimeProvider timeProvider)
    : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private readonly TimeSpan _skew = options.Value.ClockSkew;
    private readonly string? _audience = options.Value.ExpectedAudience;

    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        using (var activity = McpAuthDiagnostics.StartStage("McpAuth." + Stage.OfflineValidation))
        {
            if (Check(request.State) is { } error)
            {
                return Task.FromResult(Stage.Fail(activity, Stage.OfflineValidation, AuthenticationErrorCode.InvalidToken, error));
            }

            Stage.Pass(activity);
        }

        return next(); // outside the span: it covers this stage's own work, not the inner stages
    }

    private string? Check(AuthenticationState state)
    {
        var now = timeProvider.GetUtcNow();
        if (state.ExpiresAt is { } exp && now - _skew >= exp)
        {
            return "The token has expired.";
        }

        if (state.NotBefore is { } nbf && now + _skew < nbf)
        {
            return "The token is not valid yet.";
        }

        if (state.IssuedAt is { } iat && now + _skew < iat)
        {
            return "The token was issued in the future.";
        }

        return _audience is not null && !Contains(state.Audiences, _audience) ? "The token's audience does not match this server." : null;
    }

    private static bool Contains(IReadOnlyList<string> audiences, string expected)
    {
        for (var i = 0; i < audiences.Count; i++)
        {
            if (string.Equals(audiences[i], expected, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
