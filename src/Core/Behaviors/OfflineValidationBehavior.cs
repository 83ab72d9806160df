using MediatR;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// <c>exp</c>, <c>nbf</c> and <c>iat</c> with clock skew, and audience any-match when one is expected. No network call
/// and no cryptography: a token that fails here never reaches a later (costly) stage. A missing <c>exp</c> is not an
/// offline error (the issuer check requires one).
/// </summary>
public sealed class OfflineValidationBehavior(IOptions<McpAuthOptions> options, TimeProvider timeProvider)
    : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private readonly TimeSpan _skew = options.Value.ClockSkew;
    private readonly string? _audience = options.Value.Audience is { Length: > 0 } a ? a : null;

    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(next);
        if (request.State.Token is null)
        {
            return Task.FromResult(AuthenticationOutcome.NoCredentials); // nothing parsed it: fail closed
        }

        using (var scope = StageScope.Begin<OfflineValidationBehavior>())
        {
            if (Check(request.State) is { } error)
            {
                return Task.FromResult(scope.Fail(AuthenticationErrorCode.InvalidToken, error));
            }

            scope.Pass();
        }

        return next(); // outside the span: it covers this stage's own work, not the inner stages
    }

    private string? Check(AuthenticationState state)
    {
        var token = state.Token!;
        var now = timeProvider.GetUtcNow();
        if (token.ExpiresAt is { } exp && now - _skew >= exp)
        {
            return "The token has expired.";
        }

        if (token.NotBefore is { } nbf && now + _skew < nbf)
        {
            return "The token is not valid yet.";
        }

        if (token.IssuedAt is { } iat && now + _skew < iat)
        {
            return "The token was issued in the future.";
        }

        return _audience is not null && !Contains(token.Audiences, _audience) ? "The token's audience does not match this server." : null;
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
