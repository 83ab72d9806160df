using k8s;
using McpAuth.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Kubernetes;

/// <summary>
/// Readiness of the API servers TokenReview uses: <c>GET /version</c> on every context of the kubeconfig (or the
/// in-cluster API server), with the review timeout; unhealthy while one does not answer. Answers are reused for 10 s so
/// a probe every second does not become a request every second to every cluster.
/// </summary>
internal sealed class KubernetesHealthProbe(
    KubernetesClusters clusters, IOptions<McpAuthOptions> mcpAuth, TimeProvider time, ILogger<KubernetesHealthProbe> logger) : IPeerHealthProbe
{
    private static readonly TimeSpan Reuse = TimeSpan.FromSeconds(10);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (PeerHealth Health, DateTimeOffset At)? _last;

    public string Name => "kubernetes";

    public async ValueTask<PeerHealth> CheckAsync(CancellationToken cancellationToken)
    {
        if (!mcpAuth.Value.ValidateToken)
        {
            return PeerHealth.Healthy("TokenReview is off.");
        }

        if (_last is { } last && time.GetUtcNow() - last.At < Reuse)
        {
            return last.Health;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_last is { } again && time.GetUtcNow() - again.At < Reuse)
            {
                return again.Health;
            }

            var health = await ProbeAsync(cancellationToken).ConfigureAwait(false);
            _last = (health, time.GetUtcNow());
            return health;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<PeerHealth> ProbeAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<string> targets;
        try
        {
            targets = clusters.Targets;
        }
        catch (Exception ex) when (ex is k8s.Exceptions.KubeConfigException or IOException or UnauthorizedAccessException or ArgumentException or FormatException)
        {
            return PeerHealth.Unhealthy("The kubeconfig could not be loaded.");
        }

        if (targets.Count == 0)
        {
            return PeerHealth.Unhealthy("No kubeconfig or in-cluster configuration.");
        }

        var down = new List<string>();
        foreach (var target in targets)
        {
            try
            {
                var client = clusters.ClientFor(target);
                if (client is null)
                {
                    down.Add(target);
                    continue;
                }

                await client.Version.GetCodeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is k8s.Autorest.HttpOperationException or HttpRequestException or OperationCanceledException
                                           or System.Text.Json.JsonException or k8s.Exceptions.KubeConfigException or IOException
                                           && !cancellationToken.IsCancellationRequested)
            {
                Log.ApiServerUnreachable(logger, KubernetesTokenReviewClient.Sanitize(target), ex.GetType().Name);
                down.Add(target);
            }
        }

        return down.Count == 0
            ? PeerHealth.Healthy($"{targets.Count} API server(s) answer.")
            : PeerHealth.Unhealthy($"{down.Count} of {targets.Count} API server(s) do not answer: {string.Join(", ", down.Select(d => d.Length == 0 ? "(in-cluster)" : KubernetesTokenReviewClient.Sanitize(d)))}.");
    }
}
