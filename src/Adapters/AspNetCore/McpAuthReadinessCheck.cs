using McpAuth.Ports;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace McpAuth.AspNetCore;

/// <summary>Readiness: the worst state of every <see cref="IPeerHealthProbe"/> the adapters registered, each one in the data.</summary>
internal sealed class McpAuthReadinessCheck(IEnumerable<IPeerHealthProbe> probes) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var results = await Task.WhenAll(probes.Select(async p => (p.Name, Health: await p.CheckAsync(cancellationToken).ConfigureAwait(false))))
            .ConfigureAwait(false);
        var data = results.ToDictionary(r => r.Name, r => (object)$"{r.Health.Status}: {r.Health.Description}", StringComparer.Ordinal);
        var worst = results.Length == 0 ? PeerHealthStatus.Healthy : results.Max(r => r.Health.Status);
        var description = string.Join(" ", results.Where(r => r.Health.Status == worst).Select(r => $"{r.Name}: {r.Health.Description}"));
        return worst switch
        {
            PeerHealthStatus.Healthy => HealthCheckResult.Healthy(description, data),
            PeerHealthStatus.Degraded => HealthCheckResult.Degraded(description, data: data),
            _ => HealthCheckResult.Unhealthy(description, data: data),
        };
    }
}
