using McpAuth.Ports;
using McpAuth.TestPeers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace McpAuth.Kubernetes.Tests;

/// <summary>
/// The API servers' readiness probe (<c>kubernetes</c>, registered by <c>AddKubernetesTokenReview</c>): the real
/// KubernetesClient's <c>GET /version</c> on every kubeconfig context, answers reused for 10 s (on a fake clock).
/// </summary>
public sealed class KubernetesHealthProbeTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly List<string> _files = [];
    private VersionServer _alpha = null!;
    private VersionServer _beta = null!;

    public async Task InitializeAsync()
    {
        _alpha = await VersionServer.StartAsync("alpha");
        _beta = await VersionServer.StartAsync("beta");
    }

    public async Task DisposeAsync()
    {
        await _alpha.DisposeAsync();
        await _beta.DisposeAsync();
        _files.ForEach(File.Delete);
    }

    private string Kubeconfig(params (string Name, string Url)[] contexts)
    {
        var path = VersionServer.WriteKubeconfig(Path.Combine(Path.GetTempPath(), $"mcpauth-kubeconfig-{Guid.NewGuid():N}"), contexts);
        _files.Add(path);
        return path;
    }

    private Harness Pipeline(string kubeconfig, bool validateToken = true) => new(
        o =>
        {
            o.ValidateToken = validateToken;
            o.SkipJwtVerification = !validateToken;
        },
        b => b.AddKubernetesTokenReview(k => { k.Kubeconfig = kubeconfig; k.TokenReviewTimeout = TimeSpan.FromSeconds(5); }),
        s => s.AddSingleton<TimeProvider>(_time));

    [Fact]
    public async Task Probe_EveryApiServerAnswers_IsHealthy()
    {
        using var pipeline = Pipeline(Kubeconfig((_alpha.Name, _alpha.Url), (_beta.Name, _beta.Url)));

        var health = await pipeline.Probe("kubernetes").CheckAsync(CancellationToken.None);

        health.Should().Be(PeerHealth.Healthy("2 API server(s) answer."));
        _alpha.VersionRequests.Should().Be(1);
        _beta.VersionRequests.Should().Be(1);
        _alpha.Requests.Should().OnlyContain(r => r.Authorization == "Bearer " + _alpha.ServerToken, "the server's own credentials");
    }

    [Fact]
    public async Task Probe_OneApiServerDown_IsUnhealthy_NamingTheContext()
    {
        using var pipeline = Pipeline(Kubeconfig((_alpha.Name, _alpha.Url), ("gamma", $"http://127.0.0.1:{Repo.FreePort()}")));

        var health = await pipeline.Probe("kubernetes").CheckAsync(CancellationToken.None);

        health.Should().Be(PeerHealth.Unhealthy("1 of 2 API server(s) do not answer: gamma."));
        _alpha.VersionRequests.Should().Be(1, "the other context is still asked");
    }

    [Fact]
    public async Task Probe_ReusesItsAnswerFor10Seconds()
    {
        using var pipeline = Pipeline(Kubeconfig((_alpha.Name, _alpha.Url), (_beta.Name, _beta.Url)));
        var probe = pipeline.Probe("kubernetes");

        (await probe.CheckAsync(CancellationToken.None)).Status.Should().Be(PeerHealthStatus.Healthy);
        (await probe.CheckAsync(CancellationToken.None)).Status.Should().Be(PeerHealthStatus.Healthy);
        _time.Advance(TimeSpan.FromSeconds(9.9));
        (await probe.CheckAsync(CancellationToken.None)).Status.Should().Be(PeerHealthStatus.Healthy);
        _alpha.VersionRequests.Should().Be(1, "answers are reused for 10 s");
        _beta.VersionRequests.Should().Be(1);

        _time.Advance(TimeSpan.FromSeconds(0.2));
        (await probe.CheckAsync(CancellationToken.None)).Status.Should().Be(PeerHealthStatus.Healthy);
        _alpha.VersionRequests.Should().Be(2);
        _beta.VersionRequests.Should().Be(2);
    }

    [Fact]
    public async Task Probe_ApiServerGoesDown_SeenOnceTheReusedAnswerExpires()
    {
        using var pipeline = Pipeline(Kubeconfig((_alpha.Name, _alpha.Url), (_beta.Name, _beta.Url)));
        var probe = pipeline.Probe("kubernetes");
        (await probe.CheckAsync(CancellationToken.None)).Should().Be(PeerHealth.Healthy("2 API server(s) answer."));
        await _beta.StopAsync();

        _time.Advance(TimeSpan.FromSeconds(5));
        (await probe.CheckAsync(CancellationToken.None)).Should().Be(PeerHealth.Healthy("2 API server(s) answer."), "the answer is reused");

        _time.Advance(TimeSpan.FromSeconds(5));
        (await probe.CheckAsync(CancellationToken.None)).Should().Be(PeerHealth.Unhealthy("1 of 2 API server(s) do not answer: beta."));
        _alpha.VersionRequests.Should().Be(2);
    }

    [Fact]
    public async Task Probe_ContextWithoutCluster_IsUnhealthy_NamingTheContext()
    {
        // Context "broken" names a cluster the kubeconfig does not have.
        var path = Kubeconfig((_alpha.Name, _alpha.Url));
        var lines = File.ReadAllLines(path).ToList();
        lines.InsertRange(lines.IndexOf("users:"), ["- name: broken", "  context:", "    cluster: no-such-cluster", "    user: alpha-user"]);
        File.WriteAllLines(path, lines);
        using var pipeline = Pipeline(path);

        var health = await pipeline.Probe("kubernetes").CheckAsync(CancellationToken.None);

        health.Status.Should().Be(PeerHealthStatus.Unhealthy, health.Description);
        health.Description.Should().Contain("broken");
        _alpha.VersionRequests.Should().Be(1, "the other context is still asked");
    }

    [Fact]
    public async Task Probe_ValidateTokenOff_IsHealthy_AndAsksNothing()
    {
        using var pipeline = Pipeline(Kubeconfig((_alpha.Name, _alpha.Url)), validateToken: false);

        var health = await pipeline.Probe("kubernetes").CheckAsync(CancellationToken.None);

        health.Should().Be(PeerHealth.Healthy("TokenReview is off."));
        _alpha.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Probe_NoKubeconfig_IsUnhealthy()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"mcpauth-kubeconfig-{Guid.NewGuid():N}-missing");
        using var pipeline = Pipeline(missing);

        var health = await pipeline.Probe("kubernetes").CheckAsync(CancellationToken.None);

        health.Should().Be(PeerHealth.Unhealthy("The kubeconfig could not be loaded."));
    }
}
