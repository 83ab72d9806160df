using System.Collections.Concurrent;

namespace McpAuth.Caching;

/// <summary>
/// The one cache idiom of McpAuth, for results derived from secrets (validated tokens, exchanged tokens, reviews), in the
/// way of kube-apiserver's cached token authenticator:
/// <list type="bullet">
/// <item>keyed by <see cref="CacheKey"/> (an HMAC), so no raw token is a key;</item>
/// <item>bounded: past <c>maxEntries</c>, expired entries go first, then those closest to expiry;</item>
/// <item>each entry lives until the instant its caller gives (never past the token it was made for); results the caller
/// does not want kept (errors) are not kept;</item>
/// <item>concurrent identical calls run the factory once (coalescing);</item>
/// <item>an <see cref="Epoch"/> that every <see cref="RemoveWhere"/> advances: an insert that started before such a
/// removal is dropped, so a result computed from what was just invalidated cannot come back.</item>
/// </list>
/// </summary>
/// <typeparam name="TValue">The cached value.</typeparam>
public sealed class SecretKeyedCache<TValue>
{
    private readonly ConcurrentDictionary<CacheKey, Entry> _entries = new();
    private readonly ConcurrentDictionary<CacheKey, Task<TValue>> _inFlight = new();
    private readonly TimeProvider _time;
    private readonly int _maxEntries;
    private readonly Lock _evictionLock = new();
    private int _count;
    private long _epoch;
    private long _factoryCalls;

    /// <summary>Creates a cache of at most <paramref name="maxEntries"/> entries (0: nothing is kept).</summary>
    public SecretKeyedCache(int maxEntries, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _maxEntries = Math.Max(0, maxEntries);
        _time = time;
    }

    /// <summary>False when the cache keeps nothing (<c>maxEntries</c> 0).</summary>
    public bool Enabled => _maxEntries > 0;

    /// <summary>Entries held now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Calls to factories so far (the peer calls the cache did not save).</summary>
    public long FactoryCalls => Interlocked.Read(ref _factoryCalls);

    /// <summary>Advanced by every <see cref="RemoveWhere"/>; read it before computing a result and pass it to <see cref="Set"/>.</summary>
    public long Epoch => Interlocked.Read(ref _epoch);

    /// <summary>Looks <paramref name="key"/> up; an expired entry is removed and missed.</summary>
    public bool TryGet(in CacheKey key, out TValue value) => TryGet(key, out value, out _);

    /// <summary>Looks <paramref name="key"/> up and says until when the entry lives; an expired entry is removed and missed.</summary>
    public bool TryGet(in CacheKey key, out TValue value, out DateTimeOffset until)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            if (_time.GetUtcNow() < entry.Until)
            {
                value = entry.Value;
                until = entry.Until;
                return true;
            }

            Remove(key, entry);
        }

        value = default!;
        until = default;
        return false;
    }

    /// <summary>
    /// Keeps <paramref name="value"/> until <paramref name="until"/>, unless that is not in the future, the cache is off,
    /// or a <see cref="RemoveWhere"/> ran since <paramref name="epoch"/> was read. Returns whether it was kept.
    /// </summary>
    public bool Set(in CacheKey key, TValue value, DateTimeOffset until, long epoch)
    {
        var now = _time.GetUtcNow();
        if (!Enabled || until <= now || Interlocked.Read(ref _epoch) != epoch)
        {
            return false;
        }

        if (Volatile.Read(ref _count) >= _maxEntries)
        {
            Evict(now);
        }

        var entry = new Entry(value, until);
        while (true)
        {
            if (_entries.TryAdd(key, entry))
            {
                Interlocked.Increment(ref _count);
                break;
            }

            if (_entries.TryGetValue(key, out var existing) && _entries.TryUpdate(key, entry, existing))
            {
                break;
            }
        }

        // A removal that started after the check above may have scanned past this key: undo. RemoveWhere advances the
        // epoch before it scans, so either it sees this entry or this check sees its epoch.
        if (Interlocked.Read(ref _epoch) != epoch)
        {
            Remove(key, entry);
            return false;
        }

        return true;
    }

    /// <summary>
    /// The cached value of <paramref name="key"/>, or the result of <paramref name="factory"/>, run once for all
    /// concurrent callers. <paramref name="lifetime"/> says until when a result may be kept (null: not kept). The factory
    /// runs without the caller's cancellation (others may be waiting on it); each caller's wait is cancellable.
    /// </summary>
    public async ValueTask<TValue> GetOrCreateAsync(
        CacheKey key, Func<Task<TValue>> factory, Func<TValue, DateTimeOffset?> lifetime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(lifetime);
        if (TryGet(key, out var cached))
        {
            return cached;
        }

        while (true)
        {
            if (_inFlight.TryGetValue(key, out var running))
            {
                return await running.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            // TryAdd of a not-yet-started task, so that exactly one caller runs the factory.
            var completion = new TaskCompletionSource<TValue>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_inFlight.TryAdd(key, completion.Task))
            {
                _ = RunAsync(key, factory, lifetime, completion);
                return await completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Removes every entry whose value matches <paramref name="match"/>; returns how many.</summary>
    public int RemoveWhere(Func<TValue, bool> match)
    {
        ArgumentNullException.ThrowIfNull(match);
        Interlocked.Increment(ref _epoch);
        var removed = 0;
        foreach (var (key, entry) in _entries)
        {
            if (match(entry.Value) && Remove(key, entry))
            {
                removed++;
            }
        }

        return removed;
    }

    private async Task RunAsync(CacheKey key, Func<Task<TValue>> factory, Func<TValue, DateTimeOffset?> lifetime, TaskCompletionSource<TValue> completion)
    {
        try
        {
            // A run that finished between the caller's miss and its TryAdd has filled the cache: use that.
            if (TryGet(key, out var cached))
            {
                completion.TrySetResult(cached);
                return;
            }

            var epoch = Epoch;
            Interlocked.Increment(ref _factoryCalls);
            var result = await factory().ConfigureAwait(false);
            if (lifetime(result) is { } until)
            {
                Set(key, result, until, epoch);
            }

            completion.TrySetResult(result);
        }
        catch (Exception ex)
        {
            completion.TrySetException(ex);
        }
        finally
        {
            _inFlight.TryRemove(new KeyValuePair<CacheKey, Task<TValue>>(key, completion.Task));
        }
    }

    private bool Remove(CacheKey key, Entry entry)
    {
        if (_entries.TryRemove(new KeyValuePair<CacheKey, Entry>(key, entry)))
        {
            Interlocked.Decrement(ref _count);
            return true;
        }

        return false;
    }

    // Over the limit: drop expired entries, then the ones closest to expiry, down to 90 % of the limit.
    private void Evict(DateTimeOffset now)
    {
        lock (_evictionLock)
        {
            if (Volatile.Read(ref _count) < _maxEntries)
            {
                return;
            }

            var target = _maxEntries - Math.Max(1, _maxEntries / 10);
            var live = new List<KeyValuePair<CacheKey, Entry>>(_entries.Count);
            foreach (var pair in _entries)
            {
                if (pair.Value.Until <= now)
                {
                    Remove(pair.Key, pair.Value);
                }
                else
                {
                    live.Add(pair);
                }
            }

            if (Volatile.Read(ref _count) <= target)
            {
                return;
            }

            live.Sort((a, b) => a.Value.Until.CompareTo(b.Value.Until));
            foreach (var pair in live)
            {
                if (Volatile.Read(ref _count) <= target)
                {
                    break;
                }

                Remove(pair.Key, pair.Value);
            }
        }
    }

    private sealed record Entry(TValue Value, DateTimeOffset Until);
}
