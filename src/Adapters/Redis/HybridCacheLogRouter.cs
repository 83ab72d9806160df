using Microsoft.Extensions.Logging;

namespace McpAuth.Redis;

/// <summary>
/// The logger factory of McpAuth's private HybridCache: HybridCache's own warnings (a stored entry whose frame it cannot
/// read, a payload it will not store) go to <see cref="SharedCacheState"/>, counted and logged at most once a minute like
/// every other store problem, instead of one warning per request; every other category is the app's logger factory.
/// </summary>
internal sealed class HybridCacheLogRouter(ILoggerFactory inner, SharedCacheState state) : ILoggerFactory
{
    private const string HybridCategory = "Microsoft.Extensions.Caching.Hybrid";

    public ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith(HybridCategory, StringComparison.Ordinal) ? new Router(state) : inner.CreateLogger(categoryName);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // The app owns the inner factory.
    }

    private sealed class Router(SharedCacheState state) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState scopeState)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState logState, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                // The event's name only: HybridCache's messages name the cache key.
                state.Rejected("hybrid", "HybridCache " + (eventId.Name ?? eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
        }
    }
}
