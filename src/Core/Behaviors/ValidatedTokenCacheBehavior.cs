using McpAuth.Caching;
using McpAuth.Tokens;
using MediatR;
using Microsoft.Extensions.Options;

namespace McpAuth.Behaviors;

/// <summary>
/// The validated-token cache as a stage of its own. A token the issuer stage accepted earlier is found here by its HMAC:
/// the state gets the token as it was parsed then, marked verified, so the parse and issuer stages have nothing to do;
/// offline checks and everything after still run. After a miss, a token the inner stages verified is remembered.
/// </summary>
public sealed class ValidatedTokenCacheBehavior(ValidatedTokenCache cache, IOptions<McpAuthOptions> options)
    : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    private readonly int _maxTokenLength = options.Value.MaxTokenBytes;

    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(next);
        if (!cache.Enabled || AuthorizationHeader.Parse(request.Authorization, out var token) == AuthorizationScheme.None
            || token.IsEmpty || token.Length > _maxTokenLength)
        {
            return next();
        }

        if (cache.TryGet(token, out var parsed))
        {
            using (var scope = StageScope.Begin<ValidatedTokenCacheBehavior>())
            {
                request.State.Token = parsed;
                request.State.VerifiedByIssuer = true;
                scope.Pass("cached");
            }

            return next();
        }

        return RememberAsync(request, next);
    }

    private async Task<AuthenticationOutcome> RememberAsync(AuthenticateRequest request, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        var epoch = cache.Epoch;
        var outcome = await next().ConfigureAwait(false);
        if (request.State is { VerifiedByIssuer: true, Token: { } verified })
        {
            cache.Add(verified, epoch);
        }

        return outcome;
    }
}
