using Microsoft.Extensions.Logging;

namespace McpAuth.Host;

/// <summary>Host log messages (event ids 31xx).</summary>
internal static partial class HostLog
{
    [LoggerMessage(3101, LogLevel.Warning, "RequireOAuth is off: the MCP endpoint is NOT protected and no token is checked (the original's default). Use --require-oauth.")]
    public static partial void AuthenticationOff(ILogger logger);
}
