using McpAuth.Diagnostics;
using MediatR;
using Microsoft.Extensions.Logging;

namespace McpAuth.Behaviors;

/// <summary>
/// Outermost: turns any unexpected exception into <see cref="AuthenticationErrorCode.Unavailable"/> (fail closed) and
/// logs it without the token. A cancellation requested by the caller still propagates.
/// </summary>
public sealed class ExceptionGuardBehavior(ILogger<ExceptionGuardBehavior> logger) : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
{
    /// <inheritdoc />
    public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        Task<AuthenticationOutcome> inner;
        try
        {
            inner = next();
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return Task.FromResult(Fault(ex));
        }

        // The common case (every stage completed synchronously, e.g. a cache hit) costs no state machine.
        return inner.IsCompletedSuccessfully ? inner : AwaitAsync(inner, cancellationToken);
    }

    private async Task<AuthenticationOutcome> AwaitAsync(Task<AuthenticationOutcome> inner, CancellationToken cancellationToken)
    {
        try
        {
            return await inner.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return Fault(ex);
        }
    }

    private AuthenticationOutcome Fault(Exception ex)
    {
        Log.UnexpectedFault(logger, ex.GetType().Name, ex);
        using var scope = StageScope.Begin<ExceptionGuardBehavior>();
        return scope.Fail(AuthenticationErrorCode.Unavailable, "Authentication is temporarily unavailable; try again later.");
    }
}
