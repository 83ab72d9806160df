using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using McpAuth.Caching;
using Microsoft.Extensions.Time.Testing;

namespace McpAuth.Core.Tests;

/// <summary>Exact edges of the cache idiom: eviction at the expiry instant, the 10 % target, keys and their secret.</summary>
public class SecretKeyedCacheEdgeTests
{
    private static readonly CacheKeys Keys = new();

    private static CacheKey K(int i) => Keys.OfSecret("edge-" + i);

    [Fact]
    public void Eviction_EntriesExpiringExactlyNow_AreExpired_AndDroppingThemIsEnough()
    {
        var clock = new FakeTimeProvider(Tokens.Now);
        var cache = new SecretKeyedCache<string>(10, clock);
        for (var i = 0; i < 10; i++)
        {
            cache.Set(K(i), "v" + i, Tokens.Now.AddMinutes(i < 5 ? 1 : 60), cache.Epoch).Should().BeTrue();
        }

        clock.Advance(TimeSpan.FromMinutes(1)); // entries 0-4 expire at this very instant
        cache.Set(K(100), "new", Tokens.Now.AddMinutes(30), cache.Epoch).Should().BeTrue();
        cache.Count.Should().Be(6, "the five entries whose instant is now are expired; nothing live is evicted");
        for (var i = 5; i < 10; i++)
        {
            cache.TryGet(K(i), out _).Should().BeTrue("entry " + i + " is live");
        }
    }

    [Fact]
    public void Eviction_NotEnoughExpired_EvictsLiveEntriesClosestToExpiry_DownToTheTarget()
    {
        var clock = new FakeTimeProvider(Tokens.Now);
        var cache = new SecretKeyedCache<string>(20, clock);
        for (var i = 0; i < 20; i++)
        {
            cache.Set(K(i), "v" + i, Tokens.Now.AddMinutes(i == 0 ? 1 : 100 - i), cache.Epoch).Should().BeTrue();
        }

        clock.Advance(TimeSpan.FromMinutes(1)); // only entry 0 expired; the target is 20 - 2 = 18
        cache.Set(K(100), "new", Tokens.Now.AddMinutes(200), cache.Epoch).Should().BeTrue();
        cache.Count.Should().Be(19, "one expired and one live entry went (down to 18), then the new one came");
        cache.TryGet(K(0), out _).Should().BeFalse();
        cache.TryGet(K(19), out _).Should().BeFalse("it was the live entry closest to expiry");
        for (var i = 1; i < 19; i++)
        {
            cache.TryGet(K(i), out _).Should().BeTrue("entry " + i + " expires later");
        }
    }

    [Fact]
    public void Eviction_BelowTheLimit_NeverEvicts()
    {
        var cache = new SecretKeyedCache<string>(10, new FakeTimeProvider(Tokens.Now));
        for (var i = 0; i < 10; i++)
        {
            cache.Set(K(i), "v" + i, Tokens.Now.AddMinutes(10 + i), cache.Epoch).Should().BeTrue();
        }

        cache.Count.Should().Be(10, "exactly the limit is allowed");
        for (var i = 0; i < 10; i++)
        {
            cache.TryGet(K(i), out _).Should().BeTrue();
        }
    }

    [Fact]
    public void Set_ExistingKey_AtTheLimit_StillEvictsFirst_ThenReplaces()
    {
        var cache = new SecretKeyedCache<string>(10, new FakeTimeProvider(Tokens.Now));
        for (var i = 0; i < 10; i++)
        {
            cache.Set(K(i), "v" + i, Tokens.Now.AddMinutes(100 - i), cache.Epoch);
        }

        cache.Set(K(0), "again", Tokens.Now.AddMinutes(200), cache.Epoch).Should().BeTrue();
        cache.Count.Should().Be(9, "entry 9 was evicted to make room, then entry 0 was replaced in place");
        cache.TryGet(K(0), out var value).Should().BeTrue();
        value.Should().Be("again");
    }

    [Fact]
    public async Task GetOrCreate_CachedValue_IsServedWithoutTheFactory_EvenToACancelledCaller()
    {
        var cache = new SecretKeyedCache<string>(10, new FakeTimeProvider(Tokens.Now));
        cache.Set(K(1), "kept", Tokens.Now.AddMinutes(1), cache.Epoch).Should().BeTrue();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        (await cache.GetOrCreateAsync(K(1), () => throw new InvalidOperationException("not called"), _ => null, cts.Token)).Should().Be("kept");
        cache.FactoryCalls.Should().Be(0);
    }

    [Fact]
    public async Task GetOrCreate_ResultKeptUntilTheInstantTheCallerGives()
    {
        var clock = new FakeTimeProvider(Tokens.Now);
        var cache = new SecretKeyedCache<string>(10, clock);
        (await cache.GetOrCreateAsync(K(1), () => Task.FromResult("v"), _ => Tokens.Now.AddSeconds(30), CancellationToken.None)).Should().Be("v");
        cache.TryGet(K(1), out _, out var until).Should().BeTrue();
        until.Should().Be(Tokens.Now.AddSeconds(30));
        clock.Advance(TimeSpan.FromSeconds(30));
        (await cache.GetOrCreateAsync(K(1), () => Task.FromResult("w"), _ => null, CancellationToken.None)).Should().Be("w");
        cache.FactoryCalls.Should().Be(2);
    }

    [Fact]
    public void RemoveWhere_CountsOnlyWhatItRemoved()
    {
        var cache = new SecretKeyedCache<string>(10, new FakeTimeProvider(Tokens.Now));
        cache.Set(K(1), "a", Tokens.Now.AddMinutes(1), cache.Epoch);
        cache.Set(K(2), "b", Tokens.Now.AddMinutes(1), cache.Epoch);
        cache.RemoveWhere(v => v == "a").Should().Be(1);
        cache.RemoveWhere(v => v == "a").Should().Be(0);
        cache.Count.Should().Be(1);
    }

    [Fact]
    public void CacheKeys_AreTheHmacSha256OfTheUtf8Secret_UnderTheGivenKey()
    {
        var secret = Enumerable.Range(0, 32).Select(i => (byte)(i * 7)).ToArray();
        using var keys = new CacheKeys(secret);
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes("tökén")));
        keys.OfSecret("tökén").ToString().Should().Be(expected);

        // Parts: each is a little-endian 32-bit byte length followed by its UTF-8 bytes.
        var parts = new byte[] { 2, 0, 0, 0, (byte)'a', (byte)'b', 0, 0, 0, 0, 3, 0, 0, 0, 0xC3, 0xA9, (byte)'c' };
        keys.OfParts(["ab", null, "éc"]).ToString().Should().Be(Convert.ToHexStringLower(HMACSHA256.HashData(secret, parts)));
    }

    [Fact]
    public void CacheKeys_LongInputs_AreKeyedTheSameWay()
    {
        var secret = new byte[32];
        using var keys = new CacheKeys(secret);
        var longSecret = new string('x', 3000);
        keys.OfSecret(longSecret).ToString().Should().Be(Convert.ToHexStringLower(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(longSecret))));
        var longPart = new string('y', 2000);
        var expected = new byte[4 + 2000];
        BitConverter.TryWriteBytes(expected, 2000);
        Encoding.UTF8.GetBytes(longPart, expected.AsSpan(4));
        keys.OfParts([longPart]).ToString().Should().Be(Convert.ToHexStringLower(HMACSHA256.HashData(secret, expected)));
    }

    [Fact]
    public void CacheKeys_SecretOfExactly32Bytes_IsEnough_AndTheCallersArrayIsCopied()
    {
        var secret = new byte[32];
        using var keys = new CacheKeys(secret);
        var before = keys.OfSecret("t");
        secret[0] = 1;
        keys.OfSecret("t").Should().Be(before, "changing the caller's array later does not change the keys");
    }

    [Fact]
    public void CacheKeys_PooledBufferOfALongSecret_IsClearedBeforeItIsReturned()
    {
        // A secret too long for the stack goes through ArrayPool.Shared, which hands the array returned last on a thread
        // to the next renter of that size on the thread: it must not find the secret in it.
        using var keys = new CacheKeys();
        var secret = new string('s', 3000);
        AssertClearedAfter(Encoding.UTF8.GetMaxByteCount(secret.Length), () => keys.OfSecret(secret));
        AssertClearedAfter(8 + (2 * Encoding.UTF8.GetMaxByteCount(secret.Length)), () => keys.OfParts([secret, secret]));
    }

    private static void AssertClearedAfter(int size, Action use)
    {
        var held = ArrayPool<byte>.Shared.Rent(size); // empties this thread's slot, so the next return lands there
        try
        {
            use();
            var rented = ArrayPool<byte>.Shared.Rent(size);
            try
            {
                rented.Should().NotContain((byte)'s');
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(held);
        }
    }
}
