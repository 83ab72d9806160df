using MediatR;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// <c>exp</c>, <c>nbf</c> and <c>iat</c> with clock skew, and audience any-match when one is expected. No network call
/// and no cryptography: a token that fails here never reaches a later (costly) stage. A missing <c>exp</c> is not an
/// offline error (the issuer check requires one). With several issuers (<see cref="McpAuthOptions.Issuers"/>), a token
/// whose <c>iss</c> names none of them is refused here, before any fetch, and the audiences are those of its issuer.
/// </summary>
public sealed class OfflineValidationBehavior(IOptions<McpAuthOptions> options, TimeProvider timeProvider, IssuerDirectory? issuers = null)
    : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private readonly TimeSpan _skew = options.Value.ClockSkew;
    private readonly string[] _audiences = options.Value.Audience is { Length: > 0 } a ? [a] : [];
    private readonly IssuerDirectory _issuers = issuers ?? new IssuerDirectory(options);

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

        IReadOnlyList<string> expected = _audiences;
        if (_issuers.RoutesByIssuer)
        {
            if (_issuers.Route(token) is not { } issuer)
            {
                return "The token's issuer is not one this server trusts.";
            }

            expected = issuer.Audiences;
        }

        return expected.Count > 0 && !ContainsAny(token.Audiences, expected) ? "The token's audience does not match this server." : null;
    }

    private static bool ContainsAny(IReadOnlyList<string> audiences, IReadOnlyList<string> expected)
    {
        for (var i = 0; i < audiences.Count; i++)
        {
            for (var j = 0; j < expected.Count; j++)
            {
                if (string.Equals(audiences[i], expected[j], StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
