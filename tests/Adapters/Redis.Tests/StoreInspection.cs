using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using McpAuth.Caching;
using StackExchange.Redis;

namespace McpAuth.Redis.Tests;

/// <summary>What is in the store, read with a plain StackExchange.Redis client, as anyone with access to it would.</summary>
public sealed class StoreInspection : IDisposable
{
    private readonly ConnectionMultiplexer _redis;

    public StoreInspection(GarnetStore store)
    {
        _redis = ConnectionMultiplexer.Connect(store.Configuration + ",allowAdmin=true");
        Db = _redis.GetDatabase();
        Server = _redis.GetServer(_redis.GetEndPoints()[0]);
    }

    public IDatabase Db { get; }

    public IServer Server { get; }

    public string[] Keys(string pattern = "*") => Server.Keys(pattern: pattern).Select(k => k.ToString()).Order(StringComparer.Ordinal).ToArray();

    /// <summary>The one key named <c>mcpauth:&lt;purpose&gt;:…</c>.</summary>
    public string SingleKey(string purpose) => Keys($"mcpauth:{purpose}:*").Should().ContainSingle().Subject;

    /// <summary>The HybridCache payload RedisCache stored (the hash's <c>data</c> field).</summary>
    public byte[] Data(string key) => (byte[])Db.HashGet(key, "data")!;

    public bool SetData(string key, byte[] data) => Db.HashSet(key, "data", data);

    /// <summary>The cache key whose hex is the last segment of a store key name.</summary>
    public static CacheKey CacheKeyOf(string storeKey) => MemoryMarshal.Read<CacheKey>(Convert.FromHexString(storeKey[(storeKey.LastIndexOf(':') + 1)..]));

    /// <summary>
    /// Where the AES-GCM sealed value sits inside the HybridCache payload: the (offset, length) that opens under
    /// <paramref name="valueKey"/> (found by trying; HybridCache's own header comes first).
    /// </summary>
    public static (int Offset, int Length, byte[] Plaintext) LocateSealed(byte[] data, byte[] valueKey, string purpose, CacheKey slot)
    {
        for (var offset = 0; offset < data.Length - 37; offset++)
        {
            if (data[offset] != 2) // SealedValue's version
            {
                continue;
            }

            for (var end = data.Length; end >= Math.Max(offset + 37, data.Length - 64); end--)
            {
                if (SealedValue.Open(valueKey, purpose, slot, data.AsSpan(offset, end - offset)) is { } opened)
                {
                    return (offset, end - offset, opened.Value);
                }
            }
        }

        throw new InvalidOperationException("no sealed value opens in the stored payload");
    }

    public void Dispose() => _redis.Dispose();
}

/// <summary>Counts <c>mcpauth.shared_cache.failures</c> by operation (every replica in this process; filter by operation).</summary>
public sealed class FailureCounter : IDisposable
{
    private readonly MeterListener _listener = new();

    public FailureCounter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "McpAuth" && instrument.Name == "mcpauth.shared_cache.failures")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var operation = "?";
            foreach (var tag in tags)
            {
                if (tag.Key == "operation")
                {
                    operation = tag.Value as string ?? "?";
                }
            }

            ByOperation.AddOrUpdate(operation, value, (_, n) => n + value);
        });
        _listener.Start();
    }

    public ConcurrentDictionary<string, long> ByOperation { get; } = new(StringComparer.Ordinal);

    public long this[string operation] => ByOperation.TryGetValue(operation, out var n) ? n : 0;

    public void Dispose() => _listener.Dispose();
}
