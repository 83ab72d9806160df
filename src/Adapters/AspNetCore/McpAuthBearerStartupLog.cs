using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace McpAuth.AspNetCore;

/// <summary>Says at start what the scheme derives from requests because it was not configured.</summary>
internal sealed partial class McpAuthBearerStartupLog(string scheme, McpAuthScheme.Registry schemes, ILogger<McpAuthBearerStartupLog> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(schemes.Get(scheme).Options.ServerUrl))
        {
            ResourceDerived(logger);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(3002, LogLevel.Warning, "McpAuth:ServerUrl is not set: the protected-resource URL is derived from each request's Host header. Set it for a stable, spoof-proof resource URL.")]
    private static partial void ResourceDerived(ILogger logger);
}
