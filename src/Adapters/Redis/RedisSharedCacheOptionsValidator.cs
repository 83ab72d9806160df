using Microsoft.Extensions.Options;

namespace McpAuth.Redis;

/// <summary>A shared cache needs a shared secret: without one, keys would differ per replica and values could not be protected.</summary>
internal sealed class RedisSharedCacheOptionsValidator : IValidateOptions<RedisSharedCacheOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisSharedCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        try
        {
            _ = StackExchange.Redis.ConfigurationOptions.Parse(options.SharedCache!);
        }
        catch (ArgumentException ex)
        {
            // The parser's message names the keyword, never the value (which can hold a password).
            failures.Add($"{McpAuthOptions.Key(nameof(options.SharedCache))} is not a Redis configuration string (host:port[,option=value...]): {ex.Message}");
        }

        if (SharedCacheSecrets.TryCreate(options.SharedCacheKey) is null)
        {
            failures.Add($"{McpAuthOptions.Key(nameof(options.SharedCache))} is set but {McpAuthOptions.Key(nameof(options.SharedCacheKey))} is not base64 of at least " +
                         $"{SharedCacheSecrets.MinimumSecretBytes} bytes: every replica needs the same secret (e.g. `openssl rand -base64 32`, from a Kubernetes Secret).");
        }

        if (options.SharedCacheTimeout <= TimeSpan.Zero || options.SharedCacheTimeout > TimeSpan.FromSeconds(5))
        {
            failures.Add($"{McpAuthOptions.Key(nameof(options.SharedCacheTimeout))} must be between 0 and 5 seconds.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
