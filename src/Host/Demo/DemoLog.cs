using Microsoft.Extensions.Logging;

namespace McpAuth.Host.Demo;

/// <summary>Demo authorization server log messages (event ids 315x). Values a client chose are cleaned and bounded.</summary>
internal static partial class DemoLog
{
    [LoggerMessage(3150, LogLevel.Information, "Demo authorization server: registered client {ClientId} ({ClientName}) with {RedirectUris} redirect URI(s).")]
    public static partial void Registered(ILogger logger, string clientId, string clientName, int redirectUris);

    [LoggerMessage(3151, LogLevel.Information, "Demo authorization server: registration refused ({Error}): {Reason}")]
    public static partial void RegistrationRefused(ILogger logger, string error, string reason);

    [LoggerMessage(3152, LogLevel.Information, "Demo authorization server: client metadata document {Url} accepted ({ClientName}).")]
    public static partial void DocumentAccepted(ILogger logger, string url, string clientName);

    [LoggerMessage(3153, LogLevel.Information, "Demo authorization server: client metadata document {Url} refused: {Reason}")]
    public static partial void DocumentRefused(ILogger logger, string url, string reason);

    [LoggerMessage(3154, LogLevel.Information, "Demo authorization server: {Decision} for client {ClientId} (scopes: {Scopes}).")]
    public static partial void Consent(ILogger logger, string decision, string clientId, string scopes);

    [LoggerMessage(3155, LogLevel.Information, "Demo authorization server: token exchange by {ClientId} for subject {Subject} (audiences: {Audiences}; scopes: {Scopes}).")]
    public static partial void Exchanged(ILogger logger, string clientId, string subject, string audiences, string scopes);
}
