using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace McpAuth.Diagnostics;

/// <summary>
/// Lets a log line about a failing peer through at most once per interval per logger and key, so a peer that is down
/// under load costs one line per interval, not one per request (the requests are still counted in the refusal summary
/// and the <c>mcpauth.outcomes</c> metric). For adapter authors: <c>if (LogRate.Allow(logger, "exchange:" + url)) …</c>.
/// </summary>
public static class LogRate
{
    /// <summary>The default interval: 10 s.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    private static readonly ConditionalWeakTable<ILogger, ConcurrentDictionary<string, long>> Due = new();

    /// <summary>True at most once per <paramref name="interval"/> (default <see cref="DefaultInterval"/>) for <paramref name="logger"/> and <paramref name="key"/>.</summary>
    public static bool Allow(ILogger logger, string key, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(key);
        var due = Due.GetValue(logger, static _ => new(StringComparer.Ordinal));
        var now = Environment.TickCount64;
        var next = due.GetOrAdd(key, now);
        return now >= next && due.TryUpdate(key, now + (long)(interval ?? DefaultInterval).TotalMilliseconds, next);
    }
}
