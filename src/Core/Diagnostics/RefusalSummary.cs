using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Diagnostics;

/// <summary>
/// Refusals are normal traffic (junk tokens, expired ones, scanners), so none of them costs a log line of its own: they
/// are counted here (and in the <c>mcpauth.outcomes</c> metric) and summarized in one log line at most once per
/// <see cref="McpAuthOptions.RefusalLogInterval"/>, with the counts by stage and code. A flood of refused requests
/// cannot fill a disk. Requests without credentials (no token: RFC 6750's challenge without an error code) are counted
/// too. A timer writes what is pending once the interval has passed even if no further refusal comes, and disposing the
/// summary (at host shutdown) writes the rest.
/// </summary>
public sealed partial class RefusalSummary : IDisposable
{
    private const string NoCredentialsKey = "NoCredentials";
    private readonly ConcurrentDictionary<(string Stage, AuthenticationErrorCode Code), StrongBox<long>> _counts = new();
    private readonly TimeProvider _time;
    private readonly ILogger<RefusalSummary> _logger;
    private readonly long _intervalTicks;
    private readonly ITimer _timer;
    private long _windowStart;
    private long _noCredentials;

    /// <summary>Creates the summary.</summary>
    public RefusalSummary(TimeProvider time, ILogger<RefusalSummary> logger, IOptions<McpAuthOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _logger = logger;
        _intervalTicks = Math.Max(TimeSpan.FromSeconds(1).Ticks, options.Value.RefusalLogInterval.Ticks);
        _windowStart = time.GetUtcNow().UtcTicks;
        var period = TimeSpan.FromTicks(_intervalTicks);
        _timer = time.CreateTimer(static state => ((RefusalSummary)state!).TryFlush(), this, period, period);
    }

    /// <summary>Counts one request that carried no credentials (it is refused without an error code).</summary>
    public void RecordNoCredentials()
    {
        Interlocked.Increment(ref _noCredentials);
        TryFlush();
    }

    /// <summary>Stops the timer and writes what is pending.</summary>
    public void Dispose()
    {
        _timer.Dispose();
        var start = Interlocked.Exchange(ref _windowStart, _time.GetUtcNow().UtcTicks);
        Flush(TimeSpan.FromTicks(Math.Max(0, _time.GetUtcNow().UtcTicks - start)));
    }

    /// <summary>Counts one refusal; writes the summary when the interval has passed.</summary>
    public void Record(AuthenticationError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var box = _counts.GetOrAdd((error.Stage, error.Code), static _ => new StrongBox<long>());
        Interlocked.Increment(ref box.Value);
        TryFlush();
    }

    private void TryFlush()
    {
        var now = _time.GetUtcNow().UtcTicks;
        var start = Interlocked.Read(ref _windowStart);
        if (now - start >= _intervalTicks && Interlocked.CompareExchange(ref _windowStart, now, start) == start)
        {
            Flush(TimeSpan.FromTicks(now - start));
        }
    }

    private void Flush(TimeSpan window)
    {
        var total = 0L;
        var parts = new List<string>();
        foreach (var ((stage, code), box) in _counts.OrderBy(kv => kv.Key.Stage, StringComparer.Ordinal).ThenBy(kv => kv.Key.Code))
        {
            var n = Interlocked.Exchange(ref box.Value, 0);
            if (n > 0)
            {
                total += n;
                parts.Add($"{stage}/{code}={n}");
            }
        }

        var none = Interlocked.Exchange(ref _noCredentials, 0);
        if (none > 0)
        {
            total += none;
            parts.Add($"{NoCredentialsKey}={none}");
        }

        if (total > 0)
        {
            Summary(_logger, total, (long)window.TotalSeconds, string.Join(", ", parts));
        }
    }

    [LoggerMessage(1020, LogLevel.Information, "Refused {Total} request(s) in the last {Seconds} s: {Counts}.")]
    private static partial void Summary(ILogger logger, long total, long seconds, string counts);
}
