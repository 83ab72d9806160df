using McpAuth.Caching;
using Microsoft.Extensions.Time.Testing;

namespace McpAuth.Core.Tests;

public class SecretKeyedCacheTests
{
    private static readonly CacheKeys Keys = new();

    private static CacheKey K(int i) => Keys.OfSecret("token-" + i);

    private static (SecretKeyedCache<string> Cache, FakeTimeProvider Clock) Create(int maxEntries = 100)
    {
        var clock = new FakeTimeProvider(Tokens.Now);
        return (new SecretKeyedCache<string>(maxEntries, clock), clock);
    }

    [Fact]
    public void Set_KeepsTheValueUntilItsInstant_ThenMissesAndDropsIt()
    {
        var (cache, clock) = Create();
        cache.Set(K(1), "one", Tokens.Now.AddSeconds(10), cache.Epoch).Should().BeTrue();
        cache.Count.Should().Be(1);
        clock.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        cache.TryGet(K(1), out var value).Should().BeTrue();
        value.Should().Be("one");
        clock.Advance(TimeSpan.FromTicks(1));
        cache.TryGet(K(1), out _).Should().BeFalse("an entry lives until, not through, its instant");
        cache.Count.Should().Be(0, "an expired entry is removed when it is missed");
    }

    [Theory]
    [InlineData("Now", 0)]
    [InlineData("Past", -1)]
    public void Set_LifetimeNotInTheFuture_IsNotKept(string name, int seconds)
    {
        var (cache, _) = Create();
        cache.Set(K(1), "one", Tokens.Now.AddSeconds(seconds), cache.Epoch).Should().BeFalse(name);
        cache.Count.Should().Be(0);
        cache.TryGet(K(1), out _).Should().BeFalse();
    }

    [Fact]
    public void Set_SameKeyAgain_ReplacesWithoutCountingTwice()
    {
        var (cache, clock) = Create();
        cache.Set(K(1), "one", Tokens.Now.AddSeconds(10), cache.Epoch).Should().BeTrue();
        cache.Set(K(1), "uno", Tokens.Now.AddSeconds(60), cache.Epoch).Should().BeTrue();
        cache.Count.Should().Be(1);
        clock.Advance(TimeSpan.FromSeconds(30));
        cache.TryGet(K(1), out var value).Should().BeTrue();
        value.Should().Be("uno");
    }

    [Fact]
    public void Eviction_DropsTheEntriesClosestToExpiry_NotTheOldest()
    {
        var (cache, _) = Create(maxEntries: 10);
        for (var i = 0; i < 10; i++)
        {
            // Inserted last = closest to expiry, so eviction by insertion order would pick the wrong one.
            cache.Set(K(i), "v" + i, Tokens.Now.AddMinutes(100 - i), cache.Epoch).Should().BeTrue();
        }

        cache.Count.Should().Be(10);
        cache.Set(K(100), "new", Tokens.Now.AddMinutes(200), cache.Epoch).Should().BeTrue();
        cache.Count.Should().Be(10, "the limit is held: 10 % (at least one) is evicted, then the new entry is added");
        cache.TryGet(K(9), out _).Should().BeFalse("it expired soonest");
        for (var i = 0; i < 9; i++)
        {
            cache.TryGet(K(i), out _).Should().BeTrue("entry " + i + " expires later than entry 9");
        }

        cache.TryGet(K(100), out _).Should().BeTrue();
    }

    [Fact]
    public void Eviction_DropsExpiredEntriesFirst()
    {
        var (cache, clock) = Create(maxEntries: 10);
        for (var i = 0; i < 10; i++)
        {
            cache.Set(K(i), "v" + i, Tokens.Now.AddMinutes(i < 5 ? 1 : 60), cache.Epoch);
        }

        clock.Advance(TimeSpan.FromMinutes(2));
        cache.Set(K(100), "new", Tokens.Now.AddMinutes(30), cache.Epoch).Should().BeTrue();
        cache.Count.Should().Be(6, "the five expired entries went, and that was enough");
        for (var i = 5; i < 10; i++)
        {
            cache.TryGet(K(i), out _).Should().BeTrue();
        }
    }

    [Fact]
    public void Bounded_CountNeverExceedsMaxEntries()
    {
        var (cache, _) = Create(maxEntries: 50);
        var random = new Random(42);
        for (var i = 0; i < 2000; i++)
        {
            cache.Set(K(i), "v", Tokens.Now.AddSeconds(1 + random.Next(3600)), cache.Epoch).Should().BeTrue();
            cache.Count.Should().BeLessThanOrEqualTo(50);
        }

        cache.Count.Should().BeGreaterThan(40);
    }

    [Fact]
    public void MaxEntriesOne_StillKeepsTheNewestEntry()
    {
        var (cache, _) = Create(maxEntries: 1);
        cache.Set(K(1), "one", Tokens.Now.AddMinutes(1), cache.Epoch).Should().BeTrue();
        cache.Set(K(2), "two", Tokens.Now.AddMinutes(1), cache.Epoch).Should().BeTrue();
        cache.Count.Should().Be(1);
        cache.TryGet(K(2), out var value).Should().BeTrue();
        value.Should().Be("two");
    }

    [Fact]
    public async Task MaxEntriesZero_KeepsNothing()
    {
        var (cache, _) = Create(maxEntries: 0);
        cache.Enabled.Should().BeFalse();
        cache.Set(K(1), "one", Tokens.Now.AddMinutes(1), cache.Epoch).Should().BeFalse();
        cache.Count.Should().Be(0);
        var calls = 0;
        for (var i = 0; i < 3; i++)
        {
            (await cache.GetOrCreateAsync(K(1), () => Task.FromResult("v" + Interlocked.Increment(ref calls)), _ => Tokens.Now.AddMinutes(1), CancellationToken.None))
                .Should().Be("v" + (i + 1));
        }

        calls.Should().Be(3);
        cache.Count.Should().Be(0);
        new SecretKeyedCache<string>(-5, TimeProvider.System).Enabled.Should().BeFalse();
    }

    [Fact]
    public async Task GetOrCreate_ConcurrentIdenticalCalls_RunTheFactoryOnce()
    {
        var (cache, _) = Create();
        var gate = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        Task<string> Factory()
        {
            Interlocked.Increment(ref calls);
            return gate.Task;
        }

        // Not kept (lifetime null): only coalescing, not caching, can explain a single call.
        var waiting = Enumerable.Range(0, 32)
            .Select(_ => cache.GetOrCreateAsync(K(1), Factory, _ => null, CancellationToken.None).AsTask())
            .ToArray();
        waiting.Should().OnlyContain(t => !t.IsCompleted);
        gate.SetResult("value");
        (await Task.WhenAll(waiting)).Should().OnlyContain(v => v == "value");
        calls.Should().Be(1);
        cache.FactoryCalls.Should().Be(1);
        cache.Count.Should().Be(0);

        // The run is over: the next call runs the factory again.
        (await cache.GetOrCreateAsync(K(1), () => Task.FromResult("again"), _ => null, CancellationToken.None)).Should().Be("again");
        cache.FactoryCalls.Should().Be(2);
    }

    [Fact]
    public async Task GetOrCreate_ConcurrentCallsFromManyThreads_RunTheFactoryOnce()
    {
        var (cache, _) = Create();
        var calls = 0;
        using var start = new Barrier(16);
        async Task<string> Factory()
        {
            Interlocked.Increment(ref calls);
            await Task.Delay(50);
            return "value";
        }

        var tasks = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            start.SignalAndWait();
            return await cache.GetOrCreateAsync(K(7), Factory, _ => Tokens.Now.AddMinutes(1), CancellationToken.None);
        })).ToArray();
        (await Task.WhenAll(tasks)).Should().OnlyContain(v => v == "value");
        calls.Should().Be(1);
        cache.Count.Should().Be(1);
        (await cache.GetOrCreateAsync(K(7), Factory, _ => Tokens.Now.AddMinutes(1), CancellationToken.None)).Should().Be("value");
        calls.Should().Be(1, "the kept result is served");
    }

    [Fact]
    public async Task GetOrCreate_DifferentKeys_RunSeparately()
    {
        var (cache, _) = Create();
        (await cache.GetOrCreateAsync(K(1), () => Task.FromResult("one"), _ => Tokens.Now.AddMinutes(1), CancellationToken.None)).Should().Be("one");
        (await cache.GetOrCreateAsync(K(2), () => Task.FromResult("two"), _ => Tokens.Now.AddMinutes(1), CancellationToken.None)).Should().Be("two");
        cache.FactoryCalls.Should().Be(2);
        cache.Count.Should().Be(2);
    }

    [Fact]
    public async Task GetOrCreate_FactoryFails_EveryWaiterSeesIt_AndItIsNotCached()
    {
        var (cache, _) = Create();
        var gate = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = cache.GetOrCreateAsync(K(1), () => gate.Task, _ => Tokens.Now.AddMinutes(1), CancellationToken.None).AsTask();
        var second = cache.GetOrCreateAsync(K(1), () => Task.FromResult("never"), _ => Tokens.Now.AddMinutes(1), CancellationToken.None).AsTask();
        gate.SetException(new InvalidOperationException("peer down"));
        await FluentActions.Awaiting(() => first).Should().ThrowAsync<InvalidOperationException>().WithMessage("peer down");
        await FluentActions.Awaiting(() => second).Should().ThrowAsync<InvalidOperationException>().WithMessage("peer down");
        cache.Count.Should().Be(0);

        (await cache.GetOrCreateAsync(K(1), () => Task.FromResult("recovered"), _ => Tokens.Now.AddMinutes(1), CancellationToken.None)).Should().Be("recovered");
        cache.FactoryCalls.Should().Be(2);
    }

    [Fact]
    public async Task GetOrCreate_FactoryThrowsSynchronously_IsNotCached()
    {
        var (cache, _) = Create();
        var act = () => cache.GetOrCreateAsync(K(1), () => throw new InvalidOperationException("bug"), _ => Tokens.Now.AddMinutes(1), CancellationToken.None).AsTask();
        await act.Should().ThrowAsync<InvalidOperationException>();
        (await cache.GetOrCreateAsync(K(1), () => Task.FromResult("ok"), _ => Tokens.Now.AddMinutes(1), CancellationToken.None)).Should().Be("ok");
    }

    [Fact]
    public async Task GetOrCreate_ResultTheCallerDoesNotWantKept_IsNotCached()
    {
        var (cache, _) = Create();
        var calls = 0;
        Task<string> Factory() => Task.FromResult(Interlocked.Increment(ref calls) == 1 ? "error" : "fine");
        DateTimeOffset? Lifetime(string v) => v == "error" ? null : Tokens.Now.AddMinutes(1);
        (await cache.GetOrCreateAsync(K(1), Factory, Lifetime, CancellationToken.None)).Should().Be("error");
        (await cache.GetOrCreateAsync(K(1), Factory, Lifetime, CancellationToken.None)).Should().Be("fine");
        (await cache.GetOrCreateAsync(K(1), Factory, Lifetime, CancellationToken.None)).Should().Be("fine");
        calls.Should().Be(2);
    }

    [Fact]
    public async Task GetOrCreate_ACancelledWaiter_DoesNotCancelTheRunForOthers()
    {
        var (cache, _) = Create();
        var gate = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = new CancellationTokenSource();
        var cancelled = cache.GetOrCreateAsync(K(1), () => gate.Task, _ => Tokens.Now.AddMinutes(1), cts.Token).AsTask();
        var patient = cache.GetOrCreateAsync(K(1), () => Task.FromResult("never"), _ => Tokens.Now.AddMinutes(1), CancellationToken.None).AsTask();
        await cts.CancelAsync();
        await FluentActions.Awaiting(() => cancelled).Should().ThrowAsync<OperationCanceledException>();
        gate.SetResult("value");
        (await patient).Should().Be("value");
        cache.TryGet(K(1), out var kept).Should().BeTrue();
        kept.Should().Be("value");
        cache.FactoryCalls.Should().Be(1);
    }

    [Fact]
    public void Epoch_RemoveWhereAdvancesIt_AndASetFromBeforeIsDropped()
    {
        var (cache, _) = Create();
        var before = cache.Epoch;
        cache.RemoveWhere(_ => false).Should().Be(0);
        cache.Epoch.Should().Be(before + 1);
        cache.Set(K(1), "stale", Tokens.Now.AddMinutes(1), before).Should().BeFalse();
        cache.Count.Should().Be(0);
        cache.Set(K(1), "fresh", Tokens.Now.AddMinutes(1), cache.Epoch).Should().BeTrue();
    }

    [Fact]
    public async Task Epoch_RemovalDuringTheFactory_ResultIsReturnedButNotKept()
    {
        var (cache, _) = Create();
        var value = await cache.GetOrCreateAsync(K(1), async () =>
        {
            await Task.Yield();
            cache.RemoveWhere(v => v == "old");
            return "computed-from-old-keys";
        }, _ => Tokens.Now.AddMinutes(1), CancellationToken.None);
        value.Should().Be("computed-from-old-keys");
        cache.Count.Should().Be(0);
        cache.TryGet(K(1), out _).Should().BeFalse();
    }

    [Fact]
    public void RemoveWhere_RemovesOnlyMatches_AndCountsThem()
    {
        var (cache, _) = Create();
        for (var i = 0; i < 10; i++)
        {
            cache.Set(K(i), i % 2 == 0 ? "even" : "odd", Tokens.Now.AddMinutes(1), cache.Epoch);
        }

        cache.RemoveWhere(v => v == "even").Should().Be(5);
        cache.Count.Should().Be(5);
        cache.TryGet(K(0), out _).Should().BeFalse();
        cache.TryGet(K(1), out _).Should().BeTrue();
    }

    [Fact]
    public async Task Count_NeverDrifts_UnderConcurrentSetGetRemoveAndEviction()
    {
        const int keys = 256;
        var (cache, clock) = Create(maxEntries: 128);
        var keyOf = Enumerable.Range(0, keys).Select(K).ToArray();
        var threads = Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            var random = new Random(t);
            for (var op = 0; op < 10_000; op++)
            {
                var i = random.Next(keys);
                switch (random.Next(10))
                {
                    case < 5:
                        cache.Set(keyOf[i], i.ToString(System.Globalization.CultureInfo.InvariantCulture), clock.GetUtcNow().AddSeconds(1 + random.Next(30)), cache.Epoch);
                        break;
                    case < 8:
                        cache.TryGet(keyOf[i], out _);
                        break;
                    case 8:
                        var match = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                        cache.RemoveWhere(v => v == match);
                        break;
                    default:
                        if (t == 0)
                        {
                            clock.Advance(TimeSpan.FromSeconds(1)); // entries expire while others read and write
                        }

                        break;
                }
            }
        })).ToArray();
        await Task.WhenAll(threads);

        // Quiescent now: a sweep of TryGet drops every expired entry, so afterwards the dictionary holds exactly the hits.
        var live = keyOf.Count(k => cache.TryGet(k, out _));
        cache.Count.Should().Be(live);
        cache.Count.Should().BeGreaterThanOrEqualTo(0).And.BeLessThanOrEqualTo(keys);
        keyOf.Count(k => cache.TryGet(k, out _)).Should().Be(live, "a second sweep sees the same entries");
    }
}

public class CacheKeysTests
{
    [Fact]
    public void Of_SameSecretSameKey_DifferentSecretDifferentKey()
    {
        using var keys = new CacheKeys();
        keys.OfSecret("token-a").Should().Be(keys.OfSecret("xtoken-a".AsSpan()[1..]), "a string and a span of the same characters are one secret");
        keys.OfSecret("token-a").Should().NotBe(keys.OfSecret("token-b"));
        keys.OfSecret("token-a").Should().NotBe(keys.OfParts("token-a"), "one secret and one part are keyed differently (length prefix)");
    }

    [Fact]
    public void Of_DependsOnTheSecretKey()
    {
        using var one = new CacheKeys();
        using var two = new CacheKeys();
        one.OfSecret("token").Should().NotBe(two.OfSecret("token"), "a per-process random key");
        var secret = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        using var a = new CacheKeys(secret);
        using var b = new CacheKeys((byte[])secret.Clone());
        a.OfSecret("token").Should().Be(b.OfSecret("token"), "replicas that share the key share the cache keys");
    }

    [Fact]
    public void Of_Parts_AreLengthPrefixed()
    {
        using var keys = new CacheKeys();
        keys.OfParts(["ab", "c"]).Should().NotBe(keys.OfParts(["a", "bc"]));
        keys.OfParts(["a", null]).Should().Be(keys.OfParts(["a", ""]));
        keys.OfParts(["a", "b"]).Should().Be(keys.OfParts(["a", "b"]));
    }

    [Fact]
    public void Of_LongSecrets_AreKeyedLikeShortOnes()
    {
        using var keys = new CacheKeys();
        var long1 = new string('x', 5000);
        var long2 = new string('x', 4999) + "y";
        keys.OfSecret(long1).Should().Be(keys.OfSecret(long1));
        keys.OfSecret(long1).Should().NotBe(keys.OfSecret(long2));
        keys.OfParts([long1, "t"]).Should().Be(keys.OfParts([long1, "t"]));
    }

    [Fact]
    public void Constructor_ShortSecret_Throws()
    {
        var act = () => new CacheKeys(new byte[31]);
        act.Should().Throw<ArgumentException>().WithMessage("A cache key secret must be at least 32 bytes.*");
    }

    [Fact]
    public void ToString_Is64HexCharacters_AndDoesNotContainTheSecret()
    {
        using var keys = new CacheKeys();
        var text = keys.OfSecret("my-secret-token").ToString();
        text.Should().MatchRegex("^[0-9a-f]{64}$");
        text.Should().NotContain("secret");
    }
}
