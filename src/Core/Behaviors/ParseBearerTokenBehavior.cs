using McpAuth.Tokens;
using MediatR;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// Finds the token in the Authorization header (<c>Bearer</c>, or <c>DPoP</c> when DPoP is not off) and parses it as a
/// compact JWS (<see cref="ParsedToken"/>), without verifying it. No header, or another scheme → no credentials. Oversized, malformed or unsupported-algorithm
/// tokens → invalid token. A token the validated-token cache already supplied is not parsed again.
/// </summary>
public sealed class ParseBearerTokenBehavior(IOptions<McpAuthOptions> options) : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private readonly int _maxTokenLength = options.Value.MaxTokenBytes;
    private readonly bool _allowOpaque = options.Value.HasIntrospection;
    private readonly bool _dpop = options.Value.Dpop != DpopMode.Off;

    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(next);
        var scheme = AuthorizationHeader.Parse(request.Authorization, out var token);
        if (scheme == AuthorizationScheme.None || (scheme == AuthorizationScheme.DPoP && !_dpop))
        {
            return Task.FromResult(AuthenticationOutcome.NoCredentials); // no token, or a scheme this server does not take
        }

        request.State.Scheme = scheme;
        if (request.State.Token is not null)
        {
            return next(); // the validated-token cache supplied it
        }

        using (var scope = StageScope.Begin<ParseBearerTokenBehavior>())
        {
            var parsed = ParsedToken.TryParse(token, _maxTokenLength, _allowOpaque, out var error);
            if (parsed is null)
            {
                return Task.FromResult(scope.Fail(AuthenticationErrorCode.InvalidToken, error!));
            }

            request.State.Token = parsed;
            scope.Pass();
        }

        return next();
    }
}
