using Microsoft.Extensions.Logging;

namespace McpAuth.OpenIdConnect.Exchange;

/// <summary>Token exchange log messages (event ids 2030–2039). None takes a token, a secret, a key, an assertion or an Authorization header.</summary>
internal static partial class ExchangeLog
{
    [LoggerMessage(2030, LogLevel.Information, "Token exchange ({Strategy}) at {Endpoint} refused the subject token: HTTP {Status}, error '{Error}' ({Details}).")]
    public static partial void RefusedWithDetails(ILogger logger, string strategy, string endpoint, int status, string error, string details);

    [LoggerMessage(2031, LogLevel.Warning, "Token exchange ({Strategy}) not sent: {Problem}.")]
    public static partial void CredentialUnusable(ILogger logger, string strategy, string problem);

}
