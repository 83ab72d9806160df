using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Garnet;
using McpAuth.Host;
using McpAuth.OpenIdConnect;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.Benchmarks;

/// <summary>
/// <c>replicas3 [BURSTS] [PER_REPLICA]</c>: three replicas of the reference host (Kestrel, one process) sharing one store
/// (Microsoft Garnet, in-process), the in-memory issuer and STS of <see cref="BenchIssuer"/> (50 ms per exchange) and the
/// fake API server; each burst sends PER_REPLICA (64) concurrent identical first requests of a new token to every
/// replica at once and counts the exchanges the STS made and the TokenReviews the API server served.
/// </summary>
public static class SharedCacheReplicas
{
    public static async Task<int> RunAsync(string[] args)
    {
        var bursts = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10;
        var perReplica = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;
        var storePort = SharedCacheBenchmarks.FreePort();
        using var garnet = new GarnetServer(["--port", storePort.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1"]);
        garnet.Start();
        var apiPort = SharedCacheBenchmarks.FreePort();
        _ = FakeApiServer.RunAsync(apiPort, FakeApiServer.DefaultServerToken);
        var kubeconfig = Path.Combine(Path.GetTempPath(), $"mcpauth-replicas3-{Guid.NewGuid():N}");
        await File.WriteAllLinesAsync(kubeconfig,
        [
            "apiVersion: v1", "kind: Config", "current-context: bench", "clusters:", "- name: bench", "  cluster:", $"    server: http://127.0.0.1:{apiPort}",
            "contexts:", "- name: bench", "  context:", "    cluster: bench", "    user: bench", "users:", "- name: bench", "  user:", $"    token: {FakeApiServer.DefaultServerToken}",
        ]);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024 }) { Timeout = TimeSpan.FromSeconds(60) };
        var issuer = new BenchIssuer();
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var apps = new List<WebApplication>();
        var ports = new List<int>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var port = SharedCacheBenchmarks.FreePort();
                var result = McpAuthHost.Build(
                [
                    "--port", port.ToString(CultureInfo.InvariantCulture), "--require-oauth", "--authorization-url", BenchIssuer.Issuer,
                    "--server-url", "https://mcp.bench", "--validate-token", "--kubeconfig", kubeconfig,
                    "--sts-client-id", "mcp", "--sts-client-secret", "secret", "--sts-audience", "k8s-api", "--shared-cache", $"127.0.0.1:{storePort}",
                ], b =>
                {
                    b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["McpAuth:SharedCacheKey"] = secret });
                    b.Logging.ClearProviders(); // the figure is the output
                    b.Services.AddHttpClient(IssuerMetadataStore.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => new BenchIssuer.StubHandler(issuer));
                });
                if (result.App is not { } app)
                {
                    Console.Error.WriteLine("replica refused: " + result.Message);
                    return 2;
                }

                await app.StartAsync();
                SharedCacheBenchmarks.WaitConnected(app.Services);
                apps.Add(app);
                ports.Add(port);
            }

            // Warm every replica (issuer metadata, connections) with a token of its own.
            for (var i = 0; i < 3; i++)
            {
                if (await CallAsync(http, ports[i], NewToken(issuer)) != HttpStatusCode.OK)
                {
                    Console.Error.WriteLine($"warm-up refused on replica {i + 1}");
                    return 1;
                }
            }

            Console.WriteLine($"3 replicas x {perReplica} concurrent identical first requests of a new token, {bursts} bursts (STS: 50 ms per exchange):");
            var exchanges = new List<int>();
            for (var b = 0; b < bursts; b++)
            {
                var token = NewToken(issuer);
                var stsBefore = Volatile.Read(ref BenchIssuer.StubHandler.TokenEndpointCalls);
                var reviewsBefore = await ReviewsAsync(http, apiPort);
                var statuses = await Task.WhenAll(Enumerable.Range(0, 3 * perReplica).Select(n => CallAsync(http, ports[n % 3], token)));
                var sts = Volatile.Read(ref BenchIssuer.StubHandler.TokenEndpointCalls) - stsBefore;
                var reviews = await ReviewsAsync(http, apiPort) - reviewsBefore;
                exchanges.Add(sts);
                Console.WriteLine($"  burst {b + 1}: {statuses.Count(s => s == HttpStatusCode.OK)}/{statuses.Length} OK, exchanges at the STS={sts}, TokenReviews at the API server={reviews}");
            }

            exchanges.Sort();
            Console.WriteLine($"exchanges per burst: min {exchanges[0]}, median {exchanges[exchanges.Count / 2]}, max {exchanges[^1]} (target 1, at most 3)");
            return 0;
        }
        finally
        {
            foreach (var app in apps)
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }

            File.Delete(kubeconfig);
        }
    }

    private static int _jti;

    private static string NewToken(BenchIssuer issuer) =>
        issuer.Token(issuer.Rsa, SecurityAlgorithms.RsaSha256, jti: "replicas3-" + Interlocked.Increment(ref _jti).ToString(CultureInfo.InvariantCulture));

    private static async Task<HttpStatusCode> CallAsync(HttpClient http, int port, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<long> ReviewsAsync(HttpClient http, int apiPort) =>
        long.Parse(await http.GetStringAsync($"http://127.0.0.1:{apiPort}/_bench/reviews"), CultureInfo.InvariantCulture);
}
