using Microsoft.Extensions.Logging;

namespace McpAuth.Kubernetes;

/// <summary>Kubernetes adapter log messages (event ids 202x). None takes a token or a credential.</summary>
internal static partial class Log
{
    [LoggerMessage(2020, LogLevel.Warning, "TokenReview on context '{Context}' failed: {Reason}.", EventName = "ReviewFailed")]
    private static partial void ReviewFailedCore(ILogger logger, string context, string reason);

    /// <summary>At most one line per context per 10 s (<see cref="McpAuth.Diagnostics.LogRate"/>): an API server that is down under load is not one warning per request.</summary>
    public static void ReviewFailed(ILogger logger, string context, string reason)
    {
        if (McpAuth.Diagnostics.LogRate.Allow(logger, "review:" + context))
        {
            ReviewFailedCore(logger, context, reason);
        }
    }

    [LoggerMessage(2021, LogLevel.Information, "Loaded kubeconfig with contexts [{Contexts}], current '{Current}'.")]
    public static partial void KubeconfigLoaded(ILogger logger, string contexts, string current);

    [LoggerMessage(2022, LogLevel.Warning, "The API server of context '{Context}' did not answer /version: {Reason}.")]
    public static partial void ApiServerUnreachable(ILogger logger, string context, string reason);
}
