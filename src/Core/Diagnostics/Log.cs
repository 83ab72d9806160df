using Microsoft.Extensions.Logging;

namespace McpAuth.Diagnostics;

/// <summary>
/// Source-generated log messages with stable event ids (1xxx: Core). None of them takes a token, a secret or an
/// Authorization header; <c>tokenHash</c> is a short, non-reversible correlation id.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Debug, "Request refused at stage {Stage}: {Code} ({Description}).")]
    public static partial void Refused(ILogger logger, string stage, AuthenticationErrorCode code, string description);

    [LoggerMessage(1002, LogLevel.Warning, "Stage {Stage} could not reach its peer: {Reason}.")]
    public static partial void PeerUnavailable(ILogger logger, string stage, string? reason);

    [LoggerMessage(1003, LogLevel.Error, "Unexpected {ExceptionType} in the authentication pipeline; answering Unavailable.")]
    public static partial void UnexpectedFault(ILogger logger, string exceptionType, Exception exception);

    [LoggerMessage(1004, LogLevel.Debug, "Token {TokenHash} accepted for subject {Subject} (exchanged: {Exchanged}).")]
    public static partial void Accepted(ILogger logger, string tokenHash, string? subject, bool exchanged);
}
