using Microsoft.Extensions.Logging;

namespace McpAuth.Diagnostics;

/// <summary>
/// Source-generated log messages with stable event ids (1xxx: Core). None of them takes a token, a secret or an
/// Authorization header; <c>tokenHash</c> is a short, non-reversible correlation id.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1002, LogLevel.Warning, "Stage {Stage} could not reach its peer: {Reason}.", EventName = "PeerUnavailable")]
    private static partial void PeerUnavailableCore(ILogger logger, string stage, string? reason);

    /// <summary>
    /// One sentence whether or not the adapter's reason already ends with a full stop; at most one per stage per
    /// <see cref="LogRate.DefaultInterval"/>, so an outage at 1,000 requests a second is not 1,000 warnings a second
    /// (every such request is still counted, in the refusal summary and the <c>mcpauth.outcomes</c> metric).
    /// </summary>
    public static void PeerUnavailable(ILogger logger, string stage, string? reason)
    {
        if (LogRate.Allow(logger, "peer:" + stage))
        {
            PeerUnavailableCore(logger, stage, reason?.TrimEnd('.'));
        }
    }

    [LoggerMessage(1003, LogLevel.Error, "Unexpected {ExceptionType} in the authentication pipeline; answering Unavailable.")]
    public static partial void UnexpectedFault(ILogger logger, string exceptionType, Exception exception);

    [LoggerMessage(1004, LogLevel.Debug, "Token {TokenHash} accepted for subject {Subject} (exchanged: {Exchanged}).")]
    public static partial void Accepted(ILogger logger, string tokenHash, string? subject, bool exchanged);

    [LoggerMessage(1005, LogLevel.Debug, "Stage {Stage} could not use the request's calls: {Status}.")]
    public static partial void CallsUnusable(ILogger logger, string stage, McpCallSetStatus status);

    [LoggerMessage(1006, LogLevel.Error, "Stage {Stage} needs the request's MCP calls but the host did not supply them; the request is refused. In ASP.NET Core, protect the MCP endpoint with RequireMcpAuth().")]
    public static partial void CallsNotSupplied(ILogger logger, string stage);

    [LoggerMessage(1010, LogLevel.Warning, "INSECURE: {Setting} is on. {Consequence}")]
    public static partial void InsecureSetting(ILogger logger, string setting, string consequence);
}
