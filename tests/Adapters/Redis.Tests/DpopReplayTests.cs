using System.Diagnostics;
using System.Net;
using System.Text;
using McpAuth.Caching;
using McpAuth.Ports;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace McpAuth.Redis.Tests;

/// <summary>
/// DPoP replay protection across replicas (#13): three replicas of the reference host with DPoP allowed, one store
/// (Garnet), proofs made by a real client library (npm jose, tests/peers/dpop-client.mjs) for tokens bound to its key
/// (<c>cnf.jkt</c>). A proof used at one replica is refused at every other one; the store holds only an HMAC of the
/// proof's jti, for the proof's window; with the store down each replica still refuses what it saw itself.
/// </summary>
public sealed class DpopReplayTests(IssuerFixture issuer, ITestOutputHelper output) : IClassFixture<IssuerFixture>
{
    private static readonly TimeSpan ProofWindow = TimeSpan.FromMinutes(1);

    private static Dictionary<string, string?> Settings() => new()
    {
        ["McpAuth:Dpop"] = "allowed",
        ["McpAuth:DpopProofLifetime"] = "00:01:00",
        ["McpAuth:SharedCacheRetryAfter"] = "00:00:01",
    };

    [Fact]
    public async Task ProofUsedAtReplicaOne_IsRefusedAtTwoAndThree_OneHmacKeyInTheStore_ForTheProofWindow()
    {
        using var garnet = new GarnetStore();
        await using var replicas = await ThreeReplicasAsync(garnet.Configuration);
        var client = await JoseClient.NewAsync();
        var token = client.BoundToken(issuer, replicas.Resource);
        var proof = await client.ProofAsync(replicas.Resource, token);

        var first = await CallAsync(replicas, 0, token, proof);
        first.Status.Should().Be(HttpStatusCode.OK, first.Body);
        first.Body.Should().Contain("alice@alpha", "the tool ran with the exchanged identity");

        foreach (var replica in new[] { 1, 2 })
        {
            var replayed = await CallAsync(replicas, replica, token, proof);
            output.WriteLine($"replica {replica + 1}: {(int)replayed.Status} {replayed.DpopChallenge}");
            replayed.Status.Should().Be(HttpStatusCode.Unauthorized, $"replica {replica + 1} learns from the store that replica 1 took this proof");
            replayed.DpopChallenge.Should().Contain("error=\"invalid_dpop_proof\"").And.Contain("already used");
        }

        using var store = new StoreInspection(garnet);
        var key = store.SingleKey("dpop-jti");
        StoreInspection.CacheKeyOf(key).Should().Be(replicas[0].GetRequiredService<CacheKeys>().OfParts("dpop-jti", client.Jkt, JtiOf(proof)),
            "the key is the HMAC, under the shared key, of the client's key thumbprint and the proof's jti");
        var ttl = store.Db.KeyTimeToLive(key);
        output.WriteLine($"{key}: TTL {ttl}");
        ttl.Should().NotBeNull("the jti is forgotten once the proof could no longer be accepted anyway");
        ttl!.Value.Should().BePositive().And.BeLessThanOrEqualTo(ProofWindow, "a proof made now is accepted until its iat + DpopProofLifetime");
    }

    [Fact]
    public async Task TwoProofsForTheSameToken_PassAtDifferentReplicas()
    {
        using var garnet = new GarnetStore();
        await using var replicas = await ThreeReplicasAsync(garnet.Configuration);
        var client = await JoseClient.NewAsync();
        var token = client.BoundToken(issuer, replicas.Resource);

        var one = await CallAsync(replicas, 0, token, await client.ProofAsync(replicas.Resource, token));
        var two = await CallAsync(replicas, 1, token, await client.ProofAsync(replicas.Resource, token));
        var three = await CallAsync(replicas, 2, token, await client.ProofAsync(replicas.Resource, token));

        one.Status.Should().Be(HttpStatusCode.OK, one.Body);
        two.Status.Should().Be(HttpStatusCode.OK, "a new proof (new jti) for the same token is not a replay");
        three.Status.Should().Be(HttpStatusCode.OK, three.Body);
        using var store = new StoreInspection(garnet);
        store.Keys("mcpauth:dpop-jti:*").Should().HaveCount(3, "one key per proof");
    }

    [Fact]
    public async Task StoreStopped_RequestsSucceed_AReplayAtTheSameReplicaIsStillRefused_AndTheFailureIsCounted()
    {
        using var failures = new FailureCounter();
        using var garnet = new GarnetStore();
        await using var replicas = await ThreeReplicasAsync(garnet.Configuration);
        var client = await JoseClient.NewAsync();
        var token = client.BoundToken(issuer, replicas.Resource);
        (await CallAsync(replicas, 0, token, await client.ProofAsync(replicas.Resource, token))).Status.Should().Be(HttpStatusCode.OK);
        var before = failures["dpop-jti"];
        var stopped = DateTimeOffset.UtcNow;

        garnet.Stop();

        var proofs = new string[3];
        for (var r = 0; r < 3; r++)
        {
            proofs[r] = await client.ProofAsync(replicas.Resource, token);
            var fresh = await CallAsync(replicas, r, token, proofs[r]);
            fresh.Status.Should().Be(HttpStatusCode.OK, $"replica {r + 1} goes on without the store: {fresh.Body}");
            fresh.Body.Should().Contain("alice@alpha");

            var replayed = await CallAsync(replicas, r, token, proofs[r]);
            output.WriteLine($"store stopped, replica {r + 1}: {(int)fresh.Status} in {fresh.Elapsed.TotalMilliseconds:0} ms, replayed there {(int)replayed.Status} {replayed.DpopChallenge}");
            replayed.Status.Should().Be(HttpStatusCode.Unauthorized, $"replica {r + 1} remembers in its own memory the proof it took");
            replayed.DpopChallenge.Should().Contain("error=\"invalid_dpop_proof\"").And.Contain("already used");
            replicas[r].GetRequiredService<SharedCacheState>().LastFailure.Should().BeOnOrAfter(stopped.AddSeconds(-1), $"replica {r + 1} counted the store it could not reach");
        }

        failures["dpop-jti"].Should().BeGreaterThan(before, "a jti the store could not take is counted in mcpauth.shared_cache.failures");
        // The documented limit: while the store is down, replays are caught per replica only.
        (await CallAsync(replicas, 1, token, proofs[0])).Status.Should().Be(HttpStatusCode.OK, "replica 2 cannot know what replica 1 took while the store is down");

        garnet.Start();
        for (var r = 0; r < 3; r++)
        {
            await replicas.WaitReadyzAsync(r, "Healthy", TimeSpan.FromSeconds(20));
        }

        var after = await client.ProofAsync(replicas.Resource, token);
        (await CallAsync(replicas, 2, token, after)).Status.Should().Be(HttpStatusCode.OK);
        (await CallAsync(replicas, 0, token, after)).DpopChallenge.Should().Contain("already used", "sharing resumed once the store was back");
    }

    [Fact]
    public async Task StoreHanging_RequestsSucceedWithinOneTimeout_AReplayAtTheSameReplicaIsStillRefused()
    {
        using var failures = new FailureCounter();
        using var garnet = new GarnetStore();
        using var proxy = new FreezingProxy(garnet.Port);
        await using var replicas = await ThreeReplicasAsync(proxy.Configuration, count: 2);
        var client = await JoseClient.NewAsync();
        var token = client.BoundToken(issuer, replicas.Resource);
        var warm = await CallAsync(replicas, 0, token, await client.ProofAsync(replicas.Resource, token));
        warm.Status.Should().Be(HttpStatusCode.OK);
        (await CallAsync(replicas, 1, token, await client.ProofAsync(replicas.Resource, token))).Status.Should().Be(HttpStatusCode.OK);
        var before = failures["dpop-jti"];

        proxy.Freeze();

        for (var r = 0; r < 2; r++)
        {
            var proof = await client.ProofAsync(replicas.Resource, token);
            var fresh = await CallAsync(replicas, r, token, proof);
            var replayed = await CallAsync(replicas, r, token, proof);
            output.WriteLine($"store hanging, replica {r + 1}: {(int)fresh.Status} in {fresh.Elapsed.TotalMilliseconds:0} ms, replayed there {(int)replayed.Status} in {replayed.Elapsed.TotalMilliseconds:0} ms");
            fresh.Status.Should().Be(HttpStatusCode.OK, fresh.Body);
            fresh.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2), "a store that does not answer costs at most one SharedCacheTimeout (250 ms) per request");
            replayed.Status.Should().Be(HttpStatusCode.Unauthorized);
            replayed.DpopChallenge.Should().Contain("already used");
        }

        failures["dpop-jti"].Should().BeGreaterThan(before, "the timed-out SET NX is counted");
        proxy.Thaw();
    }

    [Fact]
    public async Task TheStoreHoldsNeitherTheJtiNorTheTokenNorTheKeyThumbprint()
    {
        using var garnet = new GarnetStore();
        await using var replicas = await ThreeReplicasAsync(garnet.Configuration);
        var client = await JoseClient.NewAsync();
        var token = client.BoundToken(issuer, replicas.Resource);
        var proofs = new List<string>();
        for (var r = 0; r < 3; r++)
        {
            proofs.Add(await client.ProofAsync(replicas.Resource, token));
            (await CallAsync(replicas, r, token, proofs[^1])).Status.Should().Be(HttpStatusCode.OK);
        }

        using var store = new StoreInspection(garnet);
        var secrets = proofs.Select(JtiOf).Concat(proofs).Append(token).Append(client.Jkt).ToArray();
        var keys = store.Keys();
        keys.Where(k => k.StartsWith("mcpauth:dpop-jti:", StringComparison.Ordinal)).Should().HaveCount(3);
        var everything = new StringBuilder();
        foreach (var key in keys)
        {
            everything.AppendLine(key);
            if (key.StartsWith("mcpauth:dpop-jti:", StringComparison.Ordinal))
            {
                key.Should().MatchRegex("^mcpauth:dpop-jti:[0-9a-f]{64}$", "the name is an HMAC in hex");
                ((string?)store.Db.StringGet(key)).Should().Be("1", "the value says nothing");
            }
            else if (store.Db.KeyType(key) == RedisType.Hash)
            {
                foreach (var field in store.Db.HashGetAll(key))
                {
                    everything.AppendLine(Encoding.Latin1.GetString((byte[])field.Value!));
                }
            }
        }

        var text = everything.ToString();
        secrets.Should().OnlyContain(s => !text.Contains(s, StringComparison.Ordinal), "no jti, proof, token or key thumbprint is in the store in the clear");
    }

    [Theory]
    [InlineData(0.4)]
    [InlineData(0.999)]
    public async Task ProofWithLessThanAMillisecondLeft_IsTakenByTheStore_WithoutTrippingTheCircuit(double millisecondsLeft)
    {
        // The stage hands the cache iat + window, which may be less than a millisecond away: Redis takes no PX 0.
        using var failures = new FailureCounter();
        using var garnet = new GarnetStore();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var one = DirectReplica(garnet, Replicas.NewSecret(), time);
        await SmokeTests.Connected(one);
        var jti = one.GetRequiredService<CacheKeys>().OfParts("dpop-jti", "thumbprint", Guid.NewGuid().ToString("N"));
        var until = time.GetUtcNow() + TimeSpan.FromMilliseconds(millisecondsLeft);
        var before = failures["dpop-jti"];

        (await one.GetRequiredService<IDpopReplayCache>().TryUseAsync(jti, until, CancellationToken.None)).Should().BeTrue();

        var state = one.GetRequiredService<SharedCacheState>();
        failures["dpop-jti"].Should().Be(before, "the store was up and answered; nothing failed");
        state.Usable.Should().BeTrue("a proof at the edge of its window must not open the circuit for every other shared entry");
        state.LastFailure.Should().BeNull();
    }

    private static ServiceProvider DirectReplica(GarnetStore garnet, string secret, TimeProvider time)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(time);
        services.AddMcpAuth(o => o.ValidateToken = true).AddRedisSharedCache(r => { r.SharedCache = garnet.Configuration; r.SharedCacheKey = secret; });
        return services.BuildServiceProvider();
    }

    private async Task<Replicas> ThreeReplicasAsync(string store, int count = 3)
    {
        var replicas = await Replicas.StartAsync(issuer);
        var secret = Replicas.NewSecret();
        for (var i = 0; i < count; i++)
        {
            await replicas.AddAsync(store, secret, Settings());
            await SmokeTests.Connected(replicas[i]);
        }

        return replicas;
    }

    private static string JtiOf(string proof) => new JsonWebToken(proof).GetPayloadValue<string>("jti");

    private sealed record Answer(HttpStatusCode Status, string DpopChallenge, string Body, TimeSpan Elapsed);

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>tools/call whoami at <paramref name="replica"/> with <c>Authorization: DPoP</c> and the proof.</summary>
    private static async Task<Answer> CallAsync(Replicas replicas, int replica, string token, string proof)
    {
        var address = replicas[replica].GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal).Replace("0.0.0.0", "localhost", StringComparison.Ordinal)).Port;
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.TryAddWithoutValidation("Authorization", "DPoP " + token);
        request.Headers.TryAddWithoutValidation("DPoP", proof);
        var watch = Stopwatch.StartNew();
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        watch.Stop();
        var challenge = response.Headers.TryGetValues("WWW-Authenticate", out var values)
            ? values.SingleOrDefault(v => v.StartsWith("DPoP ", StringComparison.Ordinal)) ?? ""
            : "";
        return new Answer(response.StatusCode, challenge, body, watch.Elapsed);
    }

    /// <summary>A DPoP client: its key pair and proofs made by npm jose (tests/peers/dpop-client.mjs).</summary>
    private sealed record JoseClient(JoseDpopClient Client)
    {
        public string Jkt => Client.Thumbprint;

        public static async Task<JoseClient> NewAsync() => new(await JoseDpopClient.CreateAsync());

        public Task<string> ProofAsync(string htu, string token) => Client.ProofAsync("POST", htu, token);

        /// <summary>An access token of the issuer (signed with its key, as oidc-provider signs them) bound to this client's key.</summary>
        public string BoundToken(IssuerFixture issuer, string resource)
        {
            var now = DateTimeOffset.UtcNow;
            return TestKeys.Sign(issuer.Idp.Keys.Rsa, "RS256", new Dictionary<string, object>
            {
                ["iss"] = issuer.Idp.Issuer, ["sub"] = "alice", ["aud"] = resource, ["scope"] = "read", ["client_id"] = OidcProviderProcess.ClientId,
                ["jti"] = Guid.NewGuid().ToString("N"), ["iat"] = now.ToUnixTimeSeconds(), ["exp"] = now.AddMinutes(10).ToUnixTimeSeconds(),
                ["cnf"] = new Dictionary<string, object> { ["jkt"] = Jkt },
            }, typ: "at+jwt");
        }
    }
}
