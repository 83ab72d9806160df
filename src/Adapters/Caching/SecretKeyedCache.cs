using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;

namespace McpAuth.Adapters.Caching;

/// <summary>
/// A bounded cache for results derived from secrets (tokens), in the way of kube-apiserver's cached token
/// authenticator: entries are keyed by HMAC-SHA256 under a per-process random key, so the raw token is never kept;
/// concurrent identical lookups share one call to the peer (coalescing); the factory decides each entry's lifetime, and
/// results it does not want cached (errors) are not.
/// </summary>
/// <typeparam name="TResult">The cached result.</typeparam>
public sealed class SecretKeyedCache<TResult> : IDisposable
{
    private readonly byte[] _hmacKey = RandomNumberGenerator.GetBytes(32);
    private readonly MemoryCache _cache;
    private readonly ConcurrentDictionary<string, Task<TResult>> _inFlight = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    /// <summary>Creates a cache holding at most <paramref name="maxEntries"/> entries.</summary>
    public SecretKeyedCache(int maxEntries, TimeProvider time)
    {
        _time = time;
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = Math.Max(1, maxEntries), Clock = new TimeProviderClock(time) });
    }

    /// <summary>Entries currently held (for tests and metrics).</summary>
    public int Count => _cache.Count;

    /// <summary>Calls to the factory so far (for tests and metrics).</summary>
    public long FactoryCalls => Interlocked.Read(ref _factoryCalls);

    private long _factoryCalls;

    /// <summary>The cache key for a set of secret parts: base64 HMAC-SHA256 over the parts, each length-prefixed.</summary>
    public string Key(params ReadOnlySpan<string?> parts)
    {
        var length = 0;
        foreach (var p in parts)
        {
            length += 4 + Encoding.UTF8.GetMaxByteCount(p?.Length ?? 0);
        }

        var buffer = length <= 4096 ? stackalloc byte[length] : new byte[length];
        var written = 0;
        foreach (var p in parts)
        {
            var n = Encoding.UTF8.GetBytes(p ?? string.Empty, buffer[(written + 4)..]);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(buffer[written..], n);
            written += 4 + n;
        }

        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_hmacKey, buffer[..written], mac);
        return Convert.ToBase64String(mac);
    }

    /// <summary>
    /// Returns the cached result for <paramref name="key"/>, or runs <paramref name="factory"/> once for all concurrent
    /// callers. <paramref name="lifetime"/> says until when a result may be reused; null or a past instant: not cached.
    /// The factory runs without the caller's cancellation (other callers may be waiting on it); the caller's wait is
    /// cancellable.
    /// </summary>
    public async ValueTask<TResult> GetOrCreateAsync(
        string key, Func<Task<TResult>> factory, Func<TResult, DateTimeOffset?> lifetime, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(key, out TResult? cached))
        {
            return cached!;
        }

        while (true)
        {
            if (_inFlight.TryGetValue(key, out var running))
            {
                return await running.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            // TryAdd of a not-yet-started task, so that exactly one caller runs the factory (GetOrAdd may call its
            // value factory more than once under contention).
            var completion = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_inFlight.TryAdd(key, completion.Task))
            {
                _ = RunAsync(key, factory, lifetime, completion);
                return await completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task RunAsync(string key, Func<Task<TResult>> factory, Func<TResult, DateTimeOffset?> lifetime, TaskCompletionSource<TResult> completion)
    {
        try
        {
            // A run that finished between the caller's cache miss and its TryAdd has filled the cache: use that.
            if (_cache.TryGetValue(key, out TResult? cached))
            {
                completion.TrySetResult(cached!);
                return;
            }

            Interlocked.Increment(ref _factoryCalls);
            var result = await factory().ConfigureAwait(false);
            if (lifetime(result) is { } until && until > _time.GetUtcNow())
            {
                _cache.Set(key, result, new MemoryCacheEntryOptions { AbsoluteExpiration = until, Size = 1 });
            }

            completion.TrySetResult(result);
        }
        catch (Exception ex)
        {
            completion.TrySetException(ex);
        }
        finally
        {
            _inFlight.TryRemove(new KeyValuePair<string, Task<TResult>>(key, completion.Task));
        }
    }

    /// <inheritdoc />
    public void Dispose() => _cache.Dispose();

    private sealed class TimeProviderClock(TimeProvider time) : Microsoft.Extensions.Internal.ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
}
