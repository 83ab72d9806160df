using Microsoft.Extensions.Logging;

namespace McpAuth.Host.Diagnostics;

/// <summary>Host log messages (event ids 3xxx).</summary>
internal static partial class HostLog
{
    [LoggerMessage(3001, LogLevel.Warning, "RequireOAuth is off: /mcp is NOT protected and no token is checked (the original's default). Use --require-oauth.")]
    public static partial void AuthenticationOff(ILogger logger);

    [LoggerMessage(3002, LogLevel.Warning, "ServerUrl is not set: the protected-resource URL is derived from each request's Host header. Set --server-url for a stable, spoof-proof resource URL.")]
    public static partial void ResourceDerived(ILogger logger);
}
