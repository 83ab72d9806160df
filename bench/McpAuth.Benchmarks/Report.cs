using System.Diagnostics;
using McpAuth.Kubernetes;
using McpAuth.Caching;
using McpAuth.OpenIdConnect;
using McpAuth.Ports;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.Benchmarks;

/// <summary>
/// <c>report</c>: (1) 64 concurrent identical first requests with OIDC + STS + TokenReview: calls at the peers;
/// (2) peak memory while 1,000,000 distinct valid tokens go through the pipeline (OIDC mode, default cache limits).
/// </summary>
public static class Report
{
    private sealed class CountingReview : ITokenReviewClient
    {
        public int Calls;

        public async ValueTask<TokenReviewResult> ReviewAsync(TokenReviewRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            await Task.Delay(50, cancellationToken); // an API server takes time: concurrent callers pile up
            return TokenReviewResult.Authenticated(new ClusterUser("alice", null, [], new Dictionary<string, IReadOnlyList<string>>()), request.Audiences);
        }
    }

    public static async Task<int> RunAsync(int tokens)
    {
        var issuer = new BenchIssuer();
        var review = new CountingReview();
        var full = issuer.Pipeline(more: services =>
        {
            services.Replace(ServiceDescriptor.Singleton<ITokenReviewClient>(sp => new CachingTokenReviewClient(
                review, sp.GetRequiredService<IOptions<KubernetesTokenReviewOptions>>(), sp.GetRequiredService<CacheKeys>(), sp.GetRequiredService<TimeProvider>())));
            services.AddMcpAuth().AddTokenExchange(t => t.StsClientSecret = "secret");
            services.AddMcpAuthSettings<KubernetesTokenReviewOptions>();
        }, options: o =>
        {
            o.StsClientId = "mcp";
            o.StsAudience = "k8s-api";
            o.ValidateToken = true;
        });
        var token = "Bearer " + issuer.Token(issuer.Rsa, SecurityAlgorithms.RsaSha256);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(() => full.Send(AuthenticateRequest.ForTarget(token, "")))));
        Console.WriteLine($"concurrency: 64 identical first requests (OIDC + STS + TokenReview): succeeded={outcomes.Count(o => o.Succeeded)}/64, " +
                          $"exchange calls at the STS={BenchIssuer.StubHandler.TokenEndpointCalls}, TokenReview calls at the API server={review.Calls}");

        var pipeline = issuer.Pipeline();
        var warm = await pipeline.Send(new AuthenticateRequest("Bearer " + issuer.Token(issuer.Ec, SecurityAlgorithms.EcdsaSha256)));
        if (!warm.Succeeded)
        {
            Console.Error.WriteLine("warm-up refused: " + warm);
            return 1;
        }

        GC.Collect();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var watch = Stopwatch.StartNew();
        var peakHeap = 0L;
        var refused = 0;
        var done = 0;
        await Parallel.ForAsync(0, tokens, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, async (i, _) =>
        {
            var t = "Bearer " + issuer.Token(issuer.Ec, SecurityAlgorithms.EcdsaSha256, jti: i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (!(await pipeline.Send(new AuthenticateRequest(t))).Succeeded)
            {
                Interlocked.Increment(ref refused);
            }

            if (Interlocked.Increment(ref done) % 50_000 == 0)
            {
                var heap = GC.GetTotalMemory(false);
                InterlockedMax(ref peakHeap, heap);
                Console.WriteLine($"  {done:N0} tokens, heap {heap / 1048576.0:F1} MiB, {watch.Elapsed.TotalSeconds:F0} s");
            }
        });
        var after = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        Console.WriteLine($"memory: {tokens:N0} distinct valid ES256 tokens in {watch.Elapsed.TotalSeconds:F0} s, refused={refused}; " +
                          $"managed heap before {baseline / 1048576.0:F1} MiB, peak sampled {peakHeap / 1048576.0:F1} MiB, after full GC {after / 1048576.0:F1} MiB; " +
                          $"peak working set {process.PeakWorkingSet64 / 1048576.0:F1} MiB (cache limit: TokenCacheMaxEntries=10,000)");
        return 0;
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while (value > (current = Interlocked.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
