using McpAuth.Behaviors;

namespace McpAuth.Core.Tests;

/// <summary>
/// Only a cancellation the caller asked for leaves the guard as an exception. A cancellation nobody asked for (a
/// timeout inside an adapter) and any other fault, even on a request whose caller has since cancelled, fail closed.
/// </summary>
public class ExceptionGuardCancellationTests
{
    private static readonly ExceptionGuardBehavior Guard = new(Opt.Log<ExceptionGuardBehavior>());

    [Fact]
    public async Task AsyncCancellationNotRequestedByTheCaller_IsUnavailable()
    {
        var outcome = await Guard.Handle(Tokens.Parsed(), CancellationToken.None, async () =>
        {
            await Task.Yield();
            throw new TaskCanceledException("adapter timeout");
        });
        outcome.Error.Should().Be(new AuthenticationError(
            AuthenticationErrorCode.Unavailable, "Authentication is temporarily unavailable; try again later.", "ExceptionGuard"));
    }

    [Fact]
    public async Task SyncFault_OnACancelledRequest_IsStillUnavailable()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        var outcome = await Guard.Handle(Tokens.Parsed(), cts.Token, () => throw new InvalidOperationException("bug"));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
    }

    [Fact]
    public async Task AsyncFault_OnACancelledRequest_IsStillUnavailable()
    {
        using var cts = new CancellationTokenSource();
        var outcome = await Guard.Handle(Tokens.Parsed(), cts.Token, async () =>
        {
            await cts.CancelAsync();
            await Task.Yield();
            throw new InvalidOperationException("bug");
        });
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
    }

    [Fact]
    public async Task AsyncSuccess_IsReturnedAsIs()
    {
        var outcome = await Guard.Handle(Tokens.Parsed(), CancellationToken.None, async () =>
        {
            await Task.Yield();
            return Next.Passed;
        });
        outcome.Should().BeSameAs(Next.Passed);
    }
}
