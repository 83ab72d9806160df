using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace McpAuth.Redis;

/// <summary>Readiness of the shared cache: degraded (never unhealthy: requests succeed without it) while it has been failing.</summary>
/// <remarks>The store is resolved only when one is configured: without <c>McpAuth:SharedCache</c> readiness connects to nothing.</remarks>
internal sealed class SharedCacheHealthProbe(IServiceProvider services, SharedCacheState state, IOptions<RedisSharedCacheOptions> options, TimeProvider time)
    : IPeerHealthProbe
{
    public string Name => "shared-cache";

    public async ValueTask<PeerHealth> CheckAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            return PeerHealth.Healthy("No shared cache is configured.");
        }

        var store = services.GetRequiredService<SharedCacheStore>();
        if (!store.Connected || !state.Usable)
        {
            return PeerHealth.Degraded("The shared cache is not connected; each replica uses its own cache meanwhile.");
        }

        // One bounded read, so that a store that is connected but not answering is seen too.
        var asked = time.GetUtcNow();
        await store.Observed.GetAsync(options.Value.SharedCachePrefix + "readiness", cancellationToken).ConfigureAwait(false);
        return state.LastFailure is { } failed && failed >= asked
            ? PeerHealth.Degraded("The shared cache does not answer in time; each replica uses its own cache meanwhile.")
            : PeerHealth.Healthy("The shared cache answers.");
    }
}
