namespace McpAuth.Redis;

/// <summary>Settings of the shared cache (bound from the <c>McpAuth</c> section).</summary>
public sealed class RedisSharedCacheOptions
{
    /// <summary>The Redis configuration string, e.g. <c>redis:6379,password=…</c>. Unset: no shared cache, nothing changes.</summary>
    public string? SharedCache { get; set; }

    /// <summary>
    /// A base64 secret of at least 32 bytes that every replica shares (from a Kubernetes Secret). Cache keys are HMACs
    /// under a key derived from it, values are encrypted and authenticated under another. Required with <see cref="SharedCache"/>.
    /// </summary>
    public string? SharedCacheKey { get; set; }

    /// <summary>The longest one store call may take before the request goes on without it. Default 250 ms.</summary>
    public TimeSpan SharedCacheTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>After a failed store call, the store is skipped for this long. Default 5 s.</summary>
    public TimeSpan SharedCacheRetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The prefix of every key McpAuth writes. Default <c>mcpauth:</c>.</summary>
    public string SharedCachePrefix { get; set; } = "mcpauth:";

    /// <summary>True when a store is configured.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(SharedCache);
}
