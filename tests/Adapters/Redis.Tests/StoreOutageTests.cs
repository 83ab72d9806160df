using System.Diagnostics;
using System.Net;
using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace McpAuth.Redis.Tests;

/// <summary>
/// The store goes away in the middle (stopped, or hanging behind a frozen proxy): every request still succeeds within
/// one SharedCacheTimeout of its usual time, readiness says Degraded, and sharing resumes once the store is back.
/// </summary>
public sealed class StoreOutageTests(IssuerFixture issuer, ITestOutputHelper output) : IClassFixture<IssuerFixture>
{
    private static readonly TimeSpan SharedCacheTimeout = TimeSpan.FromMilliseconds(250); // the default
    private static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(400); // a busy test machine

    private static Dictionary<string, string?> Settings() => new() { ["McpAuth:SharedCacheRetryAfter"] = "00:00:01" };

    [Fact]
    public async Task StoreStopped_EveryRequestSucceeds_ReadinessDegraded_ThenSharingResumesWhenItIsBack()
    {
        using var garnet = new GarnetStore();
        await using var replicas = await Replicas.StartAsync(issuer);
        var secret = Replicas.NewSecret();
        for (var i = 0; i < 3; i++)
        {
            await replicas.AddAsync(garnet.Configuration, secret, Settings());
            await SmokeTests.Connected(replicas[i]);
        }

        var usual = await UsualTimeAsync(replicas);
        var shared = await replicas.NewTokenAsync();
        (await replicas.WhoAmIAsync(0, shared)).Status.Should().Be(HttpStatusCode.OK);

        garnet.Stop();

        var answers = new List<(int Replica, WhoAmI Answer)>();
        foreach (var token in new[] { shared, await replicas.NewTokenAsync(), await replicas.NewTokenAsync(), await replicas.NewTokenAsync() })
        {
            for (var r = 0; r < 3; r++)
            {
                answers.Add((r, await replicas.WhoAmIAsync(r, token)));
            }
        }

        output.WriteLine($"usual {usual.TotalMilliseconds:0} ms; with the store stopped: {string.Join(", ", answers.Select(a => $"r{a.Replica + 1} {(int)a.Answer.Status} {a.Answer.Elapsed.TotalMilliseconds:0} ms"))}");
        answers.Should().OnlyContain(a => a.Answer.Status == HttpStatusCode.OK && a.Answer.ClusterUser == "alice@alpha", "each replica falls back to its own cache and the peers");
        answers.Max(a => a.Answer.Elapsed).Should().BeLessThan(usual + SharedCacheTimeout + Slack, "a request pays at most one SharedCacheTimeout for a store that is down");
        (await issuer.ExchangesOfAsync(shared)).Should().Be(3, "replicas 2 and 3 could not read replica 1's exchange, so they exchanged themselves");

        for (var r = 0; r < 3; r++)
        {
            (await replicas.ReadyzAsync(r)).Should().Be((HttpStatusCode.OK, "Degraded"), "a store that is down degrades readiness, it does not take the replica out");
            var probe = replicas[r].GetServices<IPeerHealthProbe>().Single(p => p.Name == "shared-cache");
            (await probe.CheckAsync(CancellationToken.None)).Status.Should().Be(PeerHealthStatus.Degraded);
        }

        garnet.Start();
        var recovered = new List<TimeSpan>();
        for (var r = 0; r < 3; r++)
        {
            recovered.Add(await replicas.WaitReadyzAsync(r, "Healthy", TimeSpan.FromSeconds(20)));
        }

        output.WriteLine($"/readyz Healthy again after the store came back: {string.Join(", ", recovered.Select(t => $"{t.TotalMilliseconds:0} ms"))}");
        var fresh = await replicas.NewTokenAsync();
        (await replicas.WhoAmIAsync(0, fresh)).Status.Should().Be(HttpStatusCode.OK);
        (await replicas.WhoAmIAsync(1, fresh)).Status.Should().Be(HttpStatusCode.OK);
        (await replicas.WhoAmIAsync(2, fresh)).Status.Should().Be(HttpStatusCode.OK);
        (await issuer.ExchangesOfAsync(fresh)).Should().Be(1, "sharing resumed: replicas 2 and 3 reuse replica 1's exchange");
        replicas.Log.Should().NotContain(l => l.Contains(shared, StringComparison.Ordinal) || l.Contains(secret, StringComparison.Ordinal));
        replicas.Log.Count(l => l.Contains("[2040]", StringComparison.Ordinal)).Should().BeLessThanOrEqualTo(2 * 3, "failures are logged at most once a minute per replica");
    }

    [Fact]
    public async Task StoreHanging_EveryRequestSucceeds_PayingAtMostOneTimeout_ThenSharingResumes()
    {
        using var garnet = new GarnetStore();
        using var proxy = new FreezingProxy(garnet.Port);
        await using var replicas = await Replicas.StartAsync(issuer);
        var secret = Replicas.NewSecret();
        for (var i = 0; i < 2; i++)
        {
            await replicas.AddAsync(proxy.Configuration, secret, Settings());
            await SmokeTests.Connected(replicas[i]);
        }

        var usual = await UsualTimeAsync(replicas);

        proxy.Freeze();

        var answers = new List<WhoAmI>();
        for (var n = 0; n < 8; n++)
        {
            answers.Add(await replicas.WhoAmIAsync(n % 2, await replicas.NewTokenAsync()));
        }

        var watch = Stopwatch.StartNew();
        var readiness = await replicas.ReadyzAsync(0);
        watch.Stop();
        output.WriteLine($"usual {usual.TotalMilliseconds:0} ms; with the store hanging: {string.Join(", ", answers.Select(a => $"{(int)a.Status} {a.Elapsed.TotalMilliseconds:0} ms"))}; /readyz {readiness.Body} in {watch.ElapsedMilliseconds} ms");
        answers.Should().OnlyContain(a => a.Status == HttpStatusCode.OK && a.ClusterUser == "alice@alpha");
        answers.Max(a => a.Elapsed).Should().BeLessThan(usual + SharedCacheTimeout + Slack, "a request pays at most one SharedCacheTimeout for a store that does not answer");
        readiness.Should().Be((HttpStatusCode.OK, "Degraded"));
        watch.Elapsed.Should().BeLessThan(SharedCacheTimeout + Slack, "the readiness probe is bounded by the same timeout");

        proxy.Thaw();
        for (var r = 0; r < 2; r++)
        {
            output.WriteLine($"replica {r + 1} Healthy again after {(await replicas.WaitReadyzAsync(r, "Healthy", TimeSpan.FromSeconds(20))).TotalMilliseconds:0} ms");
        }

        var fresh = await replicas.NewTokenAsync();
        (await replicas.WhoAmIAsync(0, fresh)).Status.Should().Be(HttpStatusCode.OK);
        (await replicas.WhoAmIAsync(1, fresh)).Status.Should().Be(HttpStatusCode.OK);
        (await issuer.ExchangesOfAsync(fresh)).Should().Be(1, "sharing resumed");
    }

    [Fact]
    public async Task StoreDownAtStart_ReplicasStartAndServe_ThenConnectInTheBackgroundAndShare()
    {
        using var garnet = new GarnetStore();
        garnet.Stop();
        await using var replicas = await Replicas.StartAsync(issuer);
        var secret = Replicas.NewSecret();
        await replicas.AddAsync(garnet.Configuration, secret, Settings());
        await replicas.AddAsync(garnet.Configuration, secret, Settings());

        var token = await replicas.NewTokenAsync();
        (await replicas.WhoAmIAsync(0, token)).Status.Should().Be(HttpStatusCode.OK);
        (await replicas.WhoAmIAsync(1, token)).Status.Should().Be(HttpStatusCode.OK);
        (await issuer.ExchangesOfAsync(token)).Should().Be(2, "nothing is shared without a store");
        (await replicas.ReadyzAsync(0)).Should().Be((HttpStatusCode.OK, "Degraded"));

        garnet.Start();
        for (var r = 0; r < 2; r++)
        {
            output.WriteLine($"replica {r + 1} Healthy after {(await replicas.WaitReadyzAsync(r, "Healthy", TimeSpan.FromSeconds(20))).TotalMilliseconds:0} ms");
        }

        var fresh = await replicas.NewTokenAsync();
        (await replicas.WhoAmIAsync(0, fresh)).Status.Should().Be(HttpStatusCode.OK);
        (await replicas.WhoAmIAsync(1, fresh)).Status.Should().Be(HttpStatusCode.OK);
        (await issuer.ExchangesOfAsync(fresh)).Should().Be(1, "connected in the background, the replicas share");
    }

    // The slowest of a few first requests of new tokens (exchange, review, SelfSubjectReview) with the store up, once each
    // replica is warm (issuer metadata, connections).
    private static async Task<TimeSpan> UsualTimeAsync(Replicas replicas)
    {
        for (var r = 0; r < replicas.Count; r++)
        {
            (await replicas.WhoAmIAsync(r, await replicas.NewTokenAsync())).Status.Should().Be(HttpStatusCode.OK);
        }

        var times = new List<TimeSpan>();
        for (var n = 0; n < 2 * replicas.Count; n++)
        {
            var answer = await replicas.WhoAmIAsync(n % replicas.Count, await replicas.NewTokenAsync());
            answer.Status.Should().Be(HttpStatusCode.OK);
            times.Add(answer.Elapsed);
        }

        return times.Max();
    }
}
