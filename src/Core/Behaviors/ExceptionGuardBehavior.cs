using McpAuth.Diagnostics;
using MediatR;
using Microsoft.Extensions.Logging;

namespace McpAuth.Behaviors;

/// <summary>
/// Outermost, so it sees every outcome: turns any unexpected exception into <see cref="AuthenticationErrorCode.Unavailable"/>
/// (fail closed) and logs it without the token; hands every refusal to <see cref="RefusalSummary"/>, which logs counts,
/// not requests. A cancellation requested by the caller still propagates.
/// </summary>
public sealed class ExceptionGuardBehavior(ILogger<ExceptionGuardBehavior> logger, RefusalSummary? refusals = null)
    : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
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
        if (inner.IsCompletedSuccessfully)
        {
            Summarize(inner.Result);
            return inner;
        }

        return AwaitAsync(inner, cancellationToken);
    }

    private void Summarize(AuthenticationOutcome outcome)
    {
        if (outcome.Error is { } error)
        {
            refusals?.Record(error);
        }
        else if (outcome.Kind == AuthenticationOutcomeKind.NoCredentials)
        {
            refusals?.RecordNoCredentials();
        }
    }

    private async Task<AuthenticationOutcome> AwaitAsync(Task<AuthenticationOutcome> inner, CancellationToken cancellationToken)
    {
        try
        {
            var outcome = await inner.ConfigureAwait(false);
            Summarize(outcome);
            return outcome;
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
        var outcome = scope.Fail(AuthenticationErrorCode.Unavailable, "Authentication is temporarily unavailable; try again later.");
        Summarize(outcome);
        return outcome;
    }
}
