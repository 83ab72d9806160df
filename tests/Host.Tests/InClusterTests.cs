using System.Diagnostics;
using System.Net;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;

namespace McpAuth.Host.Tests;

/// <summary>
/// Tests that set process-wide environment variables (KUBERNETES_SERVICE_HOST/_PORT, KUBECONFIG, McpAuth__*). xunit runs
/// a collection with parallelization disabled alone, after every parallel collection has finished, so no other test
/// of this assembly reads the environment while these change it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection
{
    public const string Name = "Process environment";
}

/// <summary>Sets environment variables (null removes one) and puts back what was there on dispose.</summary>
public sealed class EnvironmentScope : IDisposable
{
    private readonly Dictionary<string, string?> _saved = new(StringComparer.Ordinal);

    public EnvironmentScope(IEnumerable<KeyValuePair<string, string?>> variables)
    {
        foreach (var (name, value) in variables)
        {
            Set(name, value);
        }
    }

    public void Set(string name, string? value)
    {
        _saved.TryAdd(name, Environment.GetEnvironmentVariable(name));
        Environment.SetEnvironmentVariable(name, value);
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }
}

/// <summary>
/// The host as it runs in a pod: no kubeconfig, KUBERNETES_SERVICE_HOST/_PORT set, the service-account folder
/// (token, ca.crt, namespace) in a temporary directory given as McpAuth:ServiceAccountPath, and an API server on HTTPS
/// (the fake, with a certificate for 127.0.0.1 from its own CA). The real KubernetesClient makes the calls.
/// </summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class InClusterTests : IAsyncLifetime
{
    private const string ServerUrl = "https://mcp.example.com";
    private const string Resource = ServerUrl + "/mcp";
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mcpauth-sa-" + Guid.NewGuid().ToString("N"));
    private FakeKubeApiServer _api = null!;
    private EnvironmentScope _environment = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeKubeApiServer.StartHttpsAsync("in-cluster");
        _api.ServerToken = "sa-token-1";
        Directory.CreateDirectory(_folder);
        File.WriteAllText(Path.Combine(_folder, "token"), "sa-token-1");
        File.WriteAllText(Path.Combine(_folder, "ca.crt"), _api.CaCertificatePem);
        File.WriteAllText(Path.Combine(_folder, "namespace"), "mcpauth");
        _environment = new EnvironmentScope(new Dictionary<string, string?>
        {
            ["KUBERNETES_SERVICE_HOST"] = "127.0.0.1",
            ["KUBERNETES_SERVICE_PORT"] = _api.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["KUBECONFIG"] = null,
            ["McpAuth__ServiceAccountPath"] = _folder,
        });
    }

    public async Task DisposeAsync()
    {
        _environment.Dispose();
        await _api.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task RawToken_IsReviewedByTheInClusterApiServer_WithTheServiceAccountToken_OverTlsVerifiedAgainstCaCrt()
    {
        var token = UserToken("alice");
        await using var app = await StartHostAsync();
        var client = app.GetTestClient();

        using var response = await client.SendAsync(HostHarness.Mcp(token, HostHarness.ToolCall("whoami")));

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var review = _api.TokenReviews.Should().ContainSingle().Subject;
        review.Authorization.Should().Be("Bearer sa-token-1", "the server's credential is the token file of the service-account folder");
        review.Token.Should().Be(token);
        review.Audiences.Should().Equal(Resource);
        review.OverTls.Should().BeTrue();
        // whoami's SelfSubjectReview goes to the same API server with the caller's token and none of the server's.
        var whoami = await HostBehaviourTests.ReadToolResult(response);
        whoami.GetProperty("cluster").GetProperty("username").GetString().Should().Be("alice");
        _api.SelfSubjectReviews.Should().ContainSingle().Which.Authorization.Should().Be("Bearer " + token);
        (await client.GetAsync("/readyz")).StatusCode.Should().Be(HttpStatusCode.OK, "GET /version answers over the same TLS");
        _api.VersionRequests.Should().NotBeEmpty().And.OnlyContain(a => a == "Bearer sa-token-1");
    }

    [Fact]
    public async Task CaCrtThatDidNotIssueTheServersCertificate_Is503_AndNoReviewReachesTheApiServer()
    {
        using (var other = TestCertificateAuthority.Create("some other cluster"))
        {
            File.WriteAllText(Path.Combine(_folder, "ca.crt"), other.CertificatePem);
        }

        await using var app = await StartHostAsync();
        var client = app.GetTestClient();

        using var response = await client.SendAsync(HostHarness.Mcp(UserToken("alice")));

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter.Should().NotBeNull();
        _api.TokenReviews.Should().BeEmpty("the TLS handshake fails before any request is sent");
        (await client.GetAsync("/readyz")).StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        _api.VersionRequests.Should().BeEmpty();
    }

    /// <summary>
    /// The kubelet replaces a projected token at 80% of its lifetime and the old one stays valid until it expires.
    /// KubernetesClient's TokenFileAuth (21.0.8) reads the file, keeps the token for one minute (DateTime.UtcNow +
    /// 1 min, no clock to inject), then reads it again at the next call. So: right after the rotation the old token is
    /// still sent; the new one is sent from the first call at least 60 s after the first read, and not much later.
    /// This test therefore takes about a minute.
    /// </summary>
    [Fact]
    public async Task RotatedTokenFile_IsPickedUp_AtKubernetesClientsOneMinuteReRead()
    {
        await using var app = await StartHostAsync();
        var client = app.GetTestClient();
        var clock = Stopwatch.StartNew(); // before the first read, so the re-read cannot come before 60 s on it
        (await client.SendAsync(HostHarness.Mcp(UserToken("first")))).StatusCode.Should().Be(HttpStatusCode.OK);
        _api.TokenReviews.Single().Authorization.Should().Be("Bearer sa-token-1");

        // Rotate as the kubelet does: the new file replaces the old one in one step; both tokens stay valid.
        var fresh = Path.Combine(_folder, "token.new");
        File.WriteAllText(fresh, "sa-token-2");
        File.Move(fresh, Path.Combine(_folder, "token"), overwrite: true);
        _api.PreviousServerTokens.Add("sa-token-1");
        _api.ServerToken = "sa-token-2";

        (await client.SendAsync(HostHarness.Mcp(UserToken("right-after")))).StatusCode.Should().Be(HttpStatusCode.OK);
        _api.TokenReviews.Last().Authorization.Should().Be("Bearer sa-token-1", "the file is re-read once a minute, not per call");

        TimeSpan? switchedAt = null;
        for (var n = 0; switchedAt is null && clock.Elapsed < TimeSpan.FromSeconds(80); n++)
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            using var response = await client.SendAsync(HostHarness.Mcp(UserToken("poll" + n)));
            response.StatusCode.Should().Be(HttpStatusCode.OK, "both tokens are valid during the rotation");
            if (_api.TokenReviews.Last().Authorization == "Bearer sa-token-2")
            {
                switchedAt = clock.Elapsed; // after the response: the re-read happened at or before this
            }
        }

        switchedAt.Should().NotBeNull("the rotated token must be sent within KubernetesClient's re-read interval (1 min) plus polling");
        switchedAt!.Value.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(60), "TokenFileAuth keeps a token for one minute");
        _api.TokenReviews.SkipWhile(r => r.Authorization != "Bearer sa-token-2").Should().OnlyContain(r => r.Authorization == "Bearer sa-token-2");
    }

    // The in-cluster configuration is chosen by KubernetesClusters from the environment at first use, so the host is
    // built after InitializeAsync set it; ServiceAccountPath comes from McpAuth__ServiceAccountPath like any setting.
    private static async Task<WebApplication> StartHostAsync()
    {
        var result = McpAuthHost.Build(["--require-oauth", "--validate-token", "--server-url", ServerUrl], b => b.WebHost.UseTestServer());
        result.App.Should().NotBeNull(result.Message);
        await result.App!.StartAsync();
        return result.App;
    }

    // A JWT nobody signs for (no issuer is configured): TokenReview is what verifies it. Distinct per call, so the review
    // cache never answers instead of the API server.
    private string UserToken(string user)
    {
        var token = HostHarness.Token(scope: "read " + user, audience: Resource);
        _api.Users[token] = user == "alice" ? "alice" : "user-" + user;
        return token;
    }
}
