using Microsoft.Extensions.Caching.Distributed;

namespace McpAuth.Redis;

/// <summary>
/// The store as HybridCache sees it: every call bounded by a short timeout, skipped while the circuit is open, and never
/// throwing (a failing read is a miss, a failing write is dropped), so a store that is down or slow costs a request at
/// most one timeout and then nothing for a while, and HybridCache writes no log line per request.
/// </summary>
internal sealed class ObservedDistributedCache(IDistributedCache store, SharedCacheState state, TimeSpan timeout, Func<StoreConnection> connection)
    : IDistributedCache
{
    // Not connected: skipped at once, never waited for. While the first connection attempt runs that is expected and not
    // counted (HybridCache reads its own keys at construction); after it, counted as a failure for readiness.
    private bool Ready(string operation)
    {
        if (!state.Usable)
        {
            return false;
        }

        switch (connection())
        {
            case StoreConnection.Up:
                return true;
            case StoreConnection.Down:
                state.NotConnected(operation);
                return false;
            default:
                return false;
        }
    }

    public byte[]? Get(string key) => throw new NotSupportedException("McpAuth uses the shared cache asynchronously only.");

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        if (!Ready("get"))
        {
            return null;
        }

        try
        {
            return await store.GetAsync(key, token).WaitAsync(timeout, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!token.IsCancellationRequested)
        {
            state.Failed("get", ex is TimeoutException ? $"timed out after {timeout.TotalMilliseconds:0} ms" : ex.GetType().Name);
            return null;
        }
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => throw new NotSupportedException("McpAuth uses the shared cache asynchronously only.");

    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        if (!Ready("set"))
        {
            return;
        }

        try
        {
            await store.SetAsync(key, value, options, token).WaitAsync(timeout, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!token.IsCancellationRequested)
        {
            state.Failed("set", ex is TimeoutException ? $"timed out after {timeout.TotalMilliseconds:0} ms" : ex.GetType().Name);
        }
    }

    public void Refresh(string key)
    {
    }

    public Task RefreshAsync(string key, CancellationToken token = default) => Task.CompletedTask;

    public void Remove(string key) => throw new NotSupportedException("McpAuth uses the shared cache asynchronously only.");

    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        if (!Ready("remove"))
        {
            return;
        }

        try
        {
            await store.RemoveAsync(key, token).WaitAsync(timeout, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!token.IsCancellationRequested)
        {
            state.Failed("remove", ex.GetType().Name);
        }
    }
}

/// <summary>Where the connection to the store stands.</summary>
internal enum StoreConnection
{
    /// <summary>The first connection attempt has not finished.</summary>
    Connecting,

    /// <summary>Connected.</summary>
    Up,

    /// <summary>Not connected after the first attempt (the multiplexer keeps retrying in the background).</summary>
    Down,
}
