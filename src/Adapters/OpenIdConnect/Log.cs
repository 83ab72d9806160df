using Microsoft.Extensions.Logging;

namespace McpAuth.OpenIdConnect;

/// <summary>OpenID Connect adapter log messages (event ids 20xx). None takes a token, a secret or an Authorization header.</summary>
internal static partial class Log
{
    [LoggerMessage(2001, LogLevel.Warning, "Fetching {Url} failed: {Reason}.")]
    public static partial void FetchFailed(ILogger logger, string url, string reason);

    [LoggerMessage(2002, LogLevel.Information, "Fetched the keys of issuer {Issuer}: {Count} signing key(s), kids [{Kids}].")]
    public static partial void KeysFetched(ILogger logger, string issuer, int count, string kids);

    [LoggerMessage(2003, LogLevel.Debug, "A forced key refresh was refused by the rate limit.")]
    public static partial void KeyRefreshThrottled(ILogger logger);

    [LoggerMessage(2004, LogLevel.Debug, "Token rejected by the issuer check (kid {Kid}): {Reason}.")]
    public static partial void TokenRejected(ILogger logger, string? kid, string reason);

    [LoggerMessage(2012, LogLevel.Warning, "Token introspection at {Endpoint} failed: {Reason}.", EventName = "IntrospectionFailed")]
    private static partial void IntrospectionFailedCore(ILogger logger, string endpoint, string reason);

    [LoggerMessage(2010, LogLevel.Warning, "Token exchange at {Endpoint} failed: {Reason}.", EventName = "ExchangeFailed")]
    private static partial void ExchangeFailedCore(ILogger logger, string endpoint, string reason);

    /// <summary>At most one line per endpoint per 10 s (<see cref="McpAuth.Diagnostics.LogRate"/>): a token service that is down under load is not one warning per request.</summary>
    public static void ExchangeFailed(ILogger logger, string endpoint, string reason)
    {
        if (McpAuth.Diagnostics.LogRate.Allow(logger, "exchange:" + endpoint))
        {
            ExchangeFailedCore(logger, endpoint, reason);
        }
    }

    /// <summary>At most one line per endpoint per 10 s, like <see cref="ExchangeFailed"/>.</summary>
    public static void IntrospectionFailed(ILogger logger, string endpoint, string reason)
    {
        if (McpAuth.Diagnostics.LogRate.Allow(logger, "introspection:" + endpoint))
        {
            IntrospectionFailedCore(logger, endpoint, reason);
        }
    }

    [LoggerMessage(2011, LogLevel.Information, "Token exchange at {Endpoint} refused the subject token: HTTP {Status}, error '{Error}'.")]
    public static partial void ExchangeRefused(ILogger logger, string endpoint, int status, string? error);
}
