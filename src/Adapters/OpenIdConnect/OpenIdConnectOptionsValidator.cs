using Microsoft.Extensions.Options;

namespace McpAuth.OpenIdConnect;

/// <summary>Refuses wrong settings of the OIDC provider and token exchange adapters, naming their configuration keys.</summary>
internal sealed class OpenIdConnectOptionsValidator(IOptions<McpAuthOptions> mcpAuth)
    : IValidateOptions<OidcProviderOptions>, IValidateOptions<TokenExchangeOptions>
{
    private static string K(string name) => McpAuthOptions.Key(name);

    public ValidateOptionsResult Validate(string? name, OidcProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!string.IsNullOrEmpty(options.CertificateAuthority) && !File.Exists(options.CertificateAuthority))
        {
            failures.Add($"{K(nameof(options.CertificateAuthority))} names a file that does not exist: '{options.CertificateAuthority}'.");
        }

        if (options.IssuerTimeout <= TimeSpan.Zero || options.KeyRefreshInterval <= TimeSpan.Zero || options.MetadataMaxAge <= TimeSpan.Zero)
        {
            failures.Add($"{K(nameof(options.IssuerTimeout))}, {K(nameof(options.KeyRefreshInterval))} and {K(nameof(options.MetadataMaxAge))} must be positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public ValidateOptionsResult Validate(string? name, TokenExchangeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var set = new[]
        {
            (nameof(options.StsClientSecret), !string.IsNullOrEmpty(options.StsClientSecret)),
            (nameof(options.StsTokenUrl), !string.IsNullOrEmpty(options.StsTokenUrl)),
            (nameof(options.StsScopes), options.StsScopes.Count > 0),
        }.Where(s => s.Item2).Select(s => K(s.Item1)).ToList();
        if (set.Count > 0 && !mcpAuth.Value.TokenExchangeEnabled)
        {
            failures.Add($"{string.Join(", ", set)} only take effect with a token exchange: set {K(nameof(McpAuthOptions.AuthorizationUrl))}, " +
                         $"{K(nameof(McpAuthOptions.StsClientId))} and {K(nameof(McpAuthOptions.StsAudience))}, or remove them.");
        }

        if (!string.IsNullOrEmpty(options.StsTokenUrl) && !McpAuthOptionsValidator.IsAbsoluteHttpUrl(options.StsTokenUrl))
        {
            failures.Add($"{K(nameof(options.StsTokenUrl))} must be an absolute http(s) URL.");
        }

        if (options.StsTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{K(nameof(options.StsTimeout))} must be positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
