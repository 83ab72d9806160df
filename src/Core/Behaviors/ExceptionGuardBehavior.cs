using McpAuth.Diagnostics;
using MediatR;
using Microsoft.Extensions.Logging;

namespace McpAuth.Behaviors;

/// <summary>
/// Stage 0, outermost: turns any unexpected exception into <see cref="AuthenticationErrorCode.Unavailable"/> (fail
/// closed) and logs it without the token. A cancellation requested by the caller still propagates.
/// </summary>
public sealed class ExceptionGuardBehavior(ILogger<ExceptionGuardBehavior> logger) : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    /// <inheritdoc />
    public async Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        try
        {
            return await next().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            Log.UnexpectedFault(logger, ex.GetType().Name, ex);
            return Stage.Fail(null, Stage.Guard, AuthenticationErrorCode.Unavailable, "Authentication is temporarily unavailable; try again later.");
        }
    }
}
