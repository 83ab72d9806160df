using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace McpAuth.Redis;

/// <summary>Starts connecting to the store when the host starts, so the first requests do not find it unconnected.</summary>
internal sealed class SharedCacheConnector(IServiceProvider services, IOptions<RedisSharedCacheOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Enabled)
        {
            _ = services.GetRequiredService<SharedCacheStore>();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
