using McpAuth.Diagnostics;
using Microsoft.Extensions.Options;

namespace McpAuth.OpenIdConnect;

/// <summary>Refuses wrong settings of the introspection adapter, naming their configuration keys.</summary>
internal sealed class IntrospectionOptionsValidator(IOptions<McpAuthOptions> mcpAuth) : IValidateOptions<IntrospectionOptions>
{
    private static string K(string name) => McpAuthOptions.Key(name);

    public ValidateOptionsResult Validate(string? name, IntrospectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        bool enabled;
        try
        {
            enabled = !string.IsNullOrWhiteSpace(mcpAuth.Value.IntrospectionClientId);
        }
        catch (OptionsValidationException)
        {
            // The pipeline's own settings are refused, and say why themselves: one refusal, not the same one twice.
            return ValidateOptionsResult.Skip;
        }

        var set = new[]
            {
                (nameof(options.IntrospectionClientSecret), !string.IsNullOrEmpty(options.IntrospectionClientSecret)),
                (nameof(options.IntrospectionClientSecretFile), !string.IsNullOrEmpty(options.IntrospectionClientSecretFile)),
                (nameof(options.IntrospectionEndpoint), !string.IsNullOrEmpty(options.IntrospectionEndpoint)),
            }
            .Where(s => s.Item2).Select(s => K(s.Item1)).ToList();
        if (!enabled && set.Count > 0)
        {
            failures.Add($"{string.Join(", ", set)} have no effect without {K(nameof(McpAuthOptions.IntrospectionClientId))}: set it (and {K(nameof(McpAuthOptions.AuthorizationUrl))}), or remove them.");
        }

        if (enabled && string.IsNullOrEmpty(options.IntrospectionClientSecret) && string.IsNullOrEmpty(options.IntrospectionClientSecretFile))
        {
            failures.Add($"{K(nameof(McpAuthOptions.IntrospectionClientId))} is set without {K(nameof(options.IntrospectionClientSecret))} or {K(nameof(options.IntrospectionClientSecretFile))}: the introspection endpoint only answers an authenticated client (RFC 7662 §2.1).");
        }

        if (!string.IsNullOrEmpty(options.IntrospectionClientSecret) && !string.IsNullOrEmpty(options.IntrospectionClientSecretFile))
        {
            failures.Add($"Set one of {K(nameof(options.IntrospectionClientSecret))} and {K(nameof(options.IntrospectionClientSecretFile))}, not both.");
        }

        if (!string.IsNullOrEmpty(options.IntrospectionClientSecretFile) && !File.Exists(options.IntrospectionClientSecretFile))
        {
            failures.Add($"{K(nameof(options.IntrospectionClientSecretFile))} names a file that does not exist: '{LogValue.Clean(options.IntrospectionClientSecretFile)}'.");
        }

        if (!string.IsNullOrEmpty(options.IntrospectionEndpoint) && !McpAuthOptionsValidator.IsAbsoluteHttpUrl(options.IntrospectionEndpoint))
        {
            failures.Add($"{K(nameof(options.IntrospectionEndpoint))} must be an absolute http(s) URL.");
        }

        if (options.IntrospectionClientAuth is not (IntrospectionClientAuthMethods.Basic or IntrospectionClientAuthMethods.Post))
        {
            failures.Add($"{K(nameof(options.IntrospectionClientAuth))} must be {IntrospectionClientAuthMethods.Basic} or {IntrospectionClientAuthMethods.Post}, not '{LogValue.Clean(options.IntrospectionClientAuth, 32)}'.");
        }

        if (options.IntrospectionTimeout <= TimeSpan.Zero || options.IntrospectionTimeout > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{K(nameof(options.IntrospectionTimeout))} must be between 0 and 1 minute.");
        }

        if (options.IntrospectionMaxConcurrency < 1)
        {
            failures.Add($"{K(nameof(options.IntrospectionMaxConcurrency))} must be at least 1.");
        }

        if (options.IntrospectionCacheMaxAge < TimeSpan.Zero || options.IntrospectionInactiveCacheTtl < TimeSpan.Zero || options.IntrospectionCacheMaxEntries < 0)
        {
            failures.Add($"{K(nameof(options.IntrospectionCacheMaxAge))}, {K(nameof(options.IntrospectionInactiveCacheTtl))} and {K(nameof(options.IntrospectionCacheMaxEntries))} must not be negative.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
