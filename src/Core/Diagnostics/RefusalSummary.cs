using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Diagnostics;

/// <summary>
/// Refusals are normal traffic (junk tokens, expired ones, scanners), so none of them costs a log line of its own: they
/// are counted here (and in the <c>mcpauth.outcomes</c> metric) and summarized in one log line at most once per
/// <see cref="McpAuthOptions.RefusalLogInterval"/>, with the counts by stage and code. A flood of refused requests
/// cannot fill a disk.
/// </summary>
public sealed partial class RefusalSummary
{
    private readonly ConcurrentDictionary<(string Stage, AuthenticationErrorCode Code), StrongBox<long>> _counts = new();
    private readonly TimeProvider _time;
    private readonly ILogger<RefusalSummary> _logger;
    private readonly long _intervalTicks;
    private long _windowStart;

    /// <summary>Creates the summary.</summary>
    public RefusalSummary(TimeProvider time, ILogger<RefusalSummary> logger, IOptions<McpAuthOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _logger = logger;
        _intervalTicks = Math.Max(TimeSpan.FromSeconds(1).Ticks, options.Value.RefusalLogInterval.Ticks);
        _windowStart = time.GetUtcNow().UtcTicks;
    }

    /// <summary>Counts one refusal; writes the summary when the interval has passed.</summary>
    public void Record(AuthenticationError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var box = _counts.GetOrAdd((error.Stage, error.Code), static _ => new StrongBox<long>());
        Interlocked.Increment(ref box.Value);
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

        if (total > 0)
        {
            Summary(_logger, total, (long)window.TotalSeconds, string.Join(", ", parts));
        }
    }

    [LoggerMessage(1020, LogLevel.Information, "Refused {Total} request(s) in the last {Seconds} s: {Counts}.")]
    private static partial void Summary(ILogger logger, long total, long seconds, string counts);
}
