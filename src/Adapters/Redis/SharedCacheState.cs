using System.Diagnostics.Metrics;
using McpAuth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace McpAuth.Redis;

/// <summary>
/// What the shared cache has seen of its store: failures are counted in the metric <c>mcpauth.shared_cache.failures</c>,
/// logged at most once a minute, and open a short circuit during which the store is skipped; a value that does not
/// authenticate is counted too. Readiness reads it.
/// </summary>
internal sealed partial class SharedCacheState(TimeProvider time, ILogger<SharedCacheState> logger, TimeSpan retryAfter)
{
    private static readonly Counter<long> Failures = McpAuthDiagnostics.Meter.CreateCounter<long>(
        "mcpauth.shared_cache.failures", description: "Shared cache (L2) calls that failed, timed out, or returned a value that did not authenticate; the request went on without it.");

    private static readonly TimeSpan LogInterval = TimeSpan.FromMinutes(1);
    private long _skipUntilTicks;
    private long _lastFailureTicks;
    private long _lastRejectedTicks;
    private long _lastLogTicks;
    private long _failuresSinceLog;

    /// <summary>False while the circuit is open after a failure: callers skip the store.</summary>
    public bool Usable => time.GetUtcNow().UtcTicks >= Interlocked.Read(ref _skipUntilTicks);

    /// <summary>When the store last failed, if it did.</summary>
    public DateTimeOffset? LastFailure => Interlocked.Read(ref _lastFailureTicks) is var t and > 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;

    /// <summary>When a stored value was last refused (it did not open, or its HybridCache frame was damaged), if one was.</summary>
    public DateTimeOffset? LastRejected => Interlocked.Read(ref _lastRejectedTicks) is var t and > 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;

    /// <summary>A call failed or timed out: counted, and the store is skipped for a while (no request pays the timeout again).</summary>
    public void Failed(string operation, string reason) => Record(operation, reason, Outcome.Failed);

    /// <summary>A call was skipped because the store is not connected (checked for free on every call): counted only.</summary>
    public void NotConnected(string operation) => Record(operation, "not connected", Outcome.NotConnected);

    /// <summary>
    /// A stored value was refused: counted and logged, but the store answered, so it is neither skipped nor reported
    /// unready (whoever can write one bad value must not be able to turn the shared cache off); the next write replaces it.
    /// </summary>
    public void Rejected(string operation, string reason) => Record(operation, reason, Outcome.Rejected);

    private enum Outcome
    {
        Failed,
        NotConnected,
        Rejected,
    }

    private void Record(string operation, string reason, Outcome outcome)
    {
        var now = time.GetUtcNow().UtcTicks;
        if (outcome == Outcome.Rejected)
        {
            Interlocked.Exchange(ref _lastRejectedTicks, now);
        }
        else
        {
            Interlocked.Exchange(ref _lastFailureTicks, now);
        }

        if (outcome == Outcome.Failed)
        {
            Interlocked.Exchange(ref _skipUntilTicks, now + retryAfter.Ticks);
        }

        Failures.Add(1, new KeyValuePair<string, object?>("operation", operation));
        var count = Interlocked.Increment(ref _failuresSinceLog);
        var last = Interlocked.Read(ref _lastLogTicks);
        if (now - last >= LogInterval.Ticks && Interlocked.CompareExchange(ref _lastLogTicks, now, last) == last)
        {
            Interlocked.Exchange(ref _failuresSinceLog, 0);
            StoreFailing(logger, count, operation, LogValue.Clean(reason));
        }
    }

    [LoggerMessage(2040, LogLevel.Warning, "The shared cache failed {Count} time(s) since the last report (last: {Operation}, {Reason}); requests go on without it.")]
    private static partial void StoreFailing(ILogger logger, long count, string operation, string reason);
}
