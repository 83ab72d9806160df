using Microsoft.Extensions.Options;

namespace McpAuth.AspNetCore;

/// <summary>Refuses wrong HTTP settings of the McpAuth scheme, naming their configuration keys.</summary>
internal sealed class McpAuthBearerOptionsValidator : IValidateOptions<McpAuthBearerOptions>
{
    public ValidateOptionsResult Validate(string? name, McpAuthBearerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        static string K(string n) => McpAuthOptions.Key(n);
        var failures = new List<string>();
        if (!string.IsNullOrEmpty(options.ServerUrl) && !McpAuthOptionsValidator.IsAbsoluteHttpUrl(options.ServerUrl))
        {
            failures.Add($"{K(nameof(options.ServerUrl))} must be an absolute http(s) URL without a fragment, e.g. https://mcp.example.com.");
        }

        if (string.IsNullOrEmpty(options.McpPath) || options.McpPath[0] != '/' || options.McpPath.IndexOfAny(['?', '#']) >= 0)
        {
            failures.Add($"{K(nameof(options.McpPath))} must be a path that starts with '/', e.g. /mcp.");
        }

        if (options.MaxBodyBytes <= 0)
        {
            failures.Add($"{K(nameof(options.MaxBodyBytes))} must be positive.");
        }

        if (options.RetryAfterSeconds < 0)
        {
            failures.Add($"{K(nameof(options.RetryAfterSeconds))} must not be negative.");
        }

        foreach (var origin in options.AllowedOrigins)
        {
            if (origin != "*" && !(Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.AbsolutePath == "/" && string.IsNullOrEmpty(uri.Query)))
            {
                failures.Add($"{K(nameof(options.AllowedOrigins))} holds '{origin}', which is not an origin (scheme://host[:port]) or '*'.");
            }
        }

        if (!string.IsNullOrEmpty(options.ResourceMetadataUrl) && !McpAuthOptionsValidator.IsAbsoluteHttpUrl(options.ResourceMetadataUrl))
        {
            failures.Add($"{K(nameof(options.ResourceMetadataUrl))} must be an absolute http(s) URL.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
