using System.Net;
using System.Text;
using McpAuth.Caching;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace McpAuth.Redis.Tests;

/// <summary>
/// What the store holds, read straight from it: no token or part of one, nothing that opens without the secret; and a
/// value altered in the store is refused, counted, and replaced by a fresh exchange.
/// </summary>
public sealed class StoredValueTests(IssuerFixture issuer, ITestOutputHelper output) : IClassFixture<IssuerFixture>
{
    [Fact]
    public async Task StoredEntries_HoldNoTokenNorAnyPartOfOne_AndOpenOnlyWithTheSecret()
    {
        using var garnet = new GarnetStore();
        await using var replicas = await Replicas.StartAsync(issuer);
        var secret = Replicas.NewSecret();
        await replicas.AddAsync(garnet.Configuration, secret);
        await SmokeTests.Connected(replicas[0]);
        var token = await replicas.NewTokenAsync();
        (await replicas.WhoAmIAsync(0, token)).Status.Should().Be(HttpStatusCode.OK);
        var exchanged = replicas.ApiServer.TokenReviews.Should().ContainSingle().Subject.Token;
        using var store = new StoreInspection(garnet);

        // Key names: the prefix, the purpose and an HMAC under a key derived from the secret; nothing of the token.
        var secrets = SharedCacheSecrets.TryCreate(secret)!;
        using var keys = new CacheKeys(secrets.KeyKey);
        var stsKey = store.SingleKey("sts-v1");
        // The exchange's key: the subject token and all that changes the result (audience, scopes, strategy, client, actor).
        stsKey.Should().Be("mcpauth:sts-v1:" + keys.OfParts(token, Replicas.StsAudience, Replicas.StsScopes, "rfc8693", McpAuth.TestPeers.OidcProviderProcess.ClientId, ""));
        var reviewKey = store.SingleKey("review-v1");
        reviewKey.Should().MatchRegex("^mcpauth:review-v1:[0-9a-f]{64}$");
        store.Keys().Should().BeEquivalentTo([stsKey, reviewKey], "nothing else is written (the validated-token cache stays in each process)");

        // Every field of both hashes (RedisCache: absexp, sldexp, data), bytes and text.
        foreach (var key in new[] { stsKey, reviewKey })
        {
            var fields = store.Db.HashGetAll(key);
            fields.Select(f => f.Name.ToString()).Should().Contain("data");
            foreach (var field in fields)
            {
                var text = Encoding.Latin1.GetString((byte[])field.Value!);
                foreach (var secretText in new[] { token, exchanged })
                {
                    foreach (var part in Parts(secretText))
                    {
                        text.Should().NotContain(part, $"{key} {field.Name} must not hold any part of a token");
                    }
                }

                text.Should().NotContain("alice@alpha", "the review's user is sealed too");
                text.Should().NotContain("uid-alice", "the review's user is sealed too");
            }

            (await store.Db.KeyTimeToLiveAsync(key)).Should().NotBeNull("an entry never outlives what it was made for").And.BeLessThan(TimeSpan.FromHours(1));
        }

        // The sealed value opens under the secret, and under nothing else: another secret, another purpose, another key.
        var data = store.Data(stsKey);
        var slot = StoreInspection.CacheKeyOf(stsKey);
        var (offset, length, plaintext) = StoreInspection.LocateSealed(data, secrets.ValueKey, "sts-v1", slot);
        output.WriteLine($"sts entry: {data.Length} bytes of HybridCache payload, sealed value at {offset}..{offset + length}");
        Encoding.UTF8.GetString(plaintext).Should().Contain(exchanged, "this is the value (sanity check of the search)");
        var sealedValue = data.AsSpan(offset, length).ToArray();
        SealedValue.Open(SharedCacheSecrets.TryCreate(Replicas.NewSecret())!.ValueKey, "sts-v1", slot, sealedValue).Should().BeNull();
        SealedValue.Open(secrets.KeyKey, "sts-v1", slot, sealedValue).Should().BeNull("the HMAC key is not the value key");
        SealedValue.Open(secrets.ValueKey, "review-v1", slot, sealedValue).Should().BeNull("a value moved to another purpose does not open");
        SealedValue.Open(secrets.ValueKey, "sts-v1", StoreInspection.CacheKeyOf(reviewKey), sealedValue).Should().BeNull("a value moved to another key does not open");
    }

    [Fact]
    public async Task TamperedValue_IsRefusedAndCounted_TheNextRequestExchangesAgainAndSucceeds()
    {
        using var failures = new FailureCounter();
        using var garnet = new GarnetStore();
        await using var replicas = await Replicas.StartAsync(issuer);
        var secret = Replicas.NewSecret();
        for (var i = 0; i < 3; i++)
        {
            await replicas.AddAsync(garnet.Configuration, secret);
            await SmokeTests.Connected(replicas[i]);
        }

        var token = await replicas.NewTokenAsync();
        (await replicas.WhoAmIAsync(0, token)).Status.Should().Be(HttpStatusCode.OK);
        var exchanged = replicas.ApiServer.TokenReviews.Single().Token;
        using var store = new StoreInspection(garnet);
        var stsKey = store.SingleKey("sts-v1");
        var data = store.Data(stsKey);
        var (offset, length, _) = StoreInspection.LocateSealed(data, SharedCacheSecrets.TryCreate(secret)!.ValueKey, "sts-v1", StoreInspection.CacheKeyOf(stsKey));
        data[offset + length - 7] ^= 0x01; // one bit of the ciphertext
        store.SetData(stsKey, data);
        var openFailures = failures["open"];

        var second = await replicas.WhoAmIAsync(1, token);

        second.Status.Should().Be(HttpStatusCode.OK, second.Body);
        second.Exchanged.Should().BeTrue();
        second.ClusterUser.Should().Be("alice@alpha");
        (await issuer.ExchangesOfAsync(token)).Should().Be(2, "the altered value is not used: replica 2 exchanges itself");
        failures["open"].Should().BeGreaterThan(openFailures, "a value that does not authenticate is counted in mcpauth.shared_cache.failures");
        replicas.ApiServer.SelfSubjectReviews.Last().Token.Should().NotBe(exchanged, "replica 2 presents the token it got itself");
    }

    [Fact]
    public async Task TamperedValue_IsReplacedByTheFreshExchange_SoTheOtherReplicasReuseIt()
    {
        using var garnet = new GarnetStore();
        await using var replicas = await Replicas.StartAsync(issuer);
        var secret = Replicas.NewSecret();
        for (var i = 0; i < 3; i++)
        {
            await replicas.AddAsync(garnet.Configuration, secret);
            await SmokeTests.Connected(replicas[i]);
        }

        var token = await replicas.NewTokenAsync();
        (await replicas.WhoAmIAsync(0, token)).Status.Should().Be(HttpStatusCode.OK);
        using var store = new StoreInspection(garnet);
        var stsKey = store.SingleKey("sts-v1");
        var data = store.Data(stsKey);
        data[^7] ^= 0x01;
        store.SetData(stsKey, data);
        (await replicas.WhoAmIAsync(1, token)).Status.Should().Be(HttpStatusCode.OK);
        (await issuer.ExchangesOfAsync(token)).Should().Be(2);
        var readiness = await replicas.ReadyzAsync(1);
        output.WriteLine($"replica 2 after reading an altered value: /readyz {(int)readiness.Status} {readiness.Body}");

        (await replicas.WhoAmIAsync(2, token)).Status.Should().Be(HttpStatusCode.OK);

        (await issuer.ExchangesOfAsync(token)).Should().Be(2,
            "replica 2 found the altered value and exchanged: its fresh exchange should replace the bad entry so replica 3 reuses it");
        readiness.Body.Should().Be("Healthy", "the store answered; one altered value is not an outage");
    }

    [Fact]
    public async Task AlteredHybridCacheHeader_IsRefusedToo_AndCounted()
    {
        using var garnet = new GarnetStore();
        await using var replicas = await Replicas.StartAsync(issuer);
        var secret = Replicas.NewSecret();
        for (var i = 0; i < 2; i++)
        {
            await replicas.AddAsync(garnet.Configuration, secret);
            await SmokeTests.Connected(replicas[i]);
        }

        var token = await replicas.NewTokenAsync();
        (await replicas.WhoAmIAsync(0, token)).Status.Should().Be(HttpStatusCode.OK);
        using var store = new StoreInspection(garnet);
        var stsKey = store.SingleKey("sts-v1");
        var data = store.Data(stsKey);
        data[0] ^= 0xFF; // HybridCache's own header, outside the sealed value
        store.SetData(stsKey, data);
        var state = replicas[1].GetRequiredService<SharedCacheState>();
        var lastRejected = state.LastRejected;

        var second = await replicas.WhoAmIAsync(1, token);

        second.Status.Should().Be(HttpStatusCode.OK, second.Body);
        (await issuer.ExchangesOfAsync(token)).Should().Be(2, "an unreadable entry is a miss");
        output.WriteLine($"replica 2's last shared-cache failure after reading a damaged HybridCache header: {state.LastRejected?.ToString() ?? "none"}; log: {string.Join(" | ", replicas.Log)}");
        state.LastRejected.Should().NotBe(lastRejected, "a damaged stored value is counted (mcpauth.shared_cache.failures) whichever byte was altered");
    }

    // The token's segments and every 16-character window of it.
    private static IEnumerable<string> Parts(string token)
    {
        foreach (var segment in token.Split('.'))
        {
            if (segment.Length >= 8)
            {
                yield return segment;
            }
        }

        for (var i = 0; i + 16 <= token.Length; i += 4)
        {
            yield return token.Substring(i, 16);
        }
    }
}
