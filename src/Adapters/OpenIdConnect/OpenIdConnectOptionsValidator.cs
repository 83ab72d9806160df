using McpAuth.Diagnostics;
using McpAuth.OpenIdConnect.Exchange;
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
            (nameof(options.StsStrategy), options.StsStrategy != TokenExchangeStrategies.Rfc8693),
            (nameof(options.StsClientAuth), !string.IsNullOrEmpty(options.StsClientAuth)),
            (nameof(options.StsClientSecretFile), !string.IsNullOrEmpty(options.StsClientSecretFile)),
            (nameof(options.StsClientKeyFile), !string.IsNullOrEmpty(options.StsClientKeyFile)),
            (nameof(options.StsClientAssertionFile), !string.IsNullOrEmpty(options.StsClientAssertionFile)),
            (nameof(options.StsActorTokenFile), !string.IsNullOrEmpty(options.StsActorTokenFile)),
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

        ValidateStrategy(options, failures);
        ValidateClientAuthentication(options, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateStrategy(TokenExchangeOptions options, List<string> failures)
    {
        if (!TokenExchangeStrategies.All.Contains(options.StsStrategy, StringComparer.Ordinal))
        {
            failures.Add($"{K(nameof(options.StsStrategy))} must be one of {string.Join(", ", TokenExchangeStrategies.All)}, not '{LogValue.Clean(options.StsStrategy, 32)}'.");
            return;
        }

        if (options.StsStrategy == TokenExchangeStrategies.EntraOnBehalfOf && options.StsScopes.Count == 0)
        {
            failures.Add($"{K(nameof(options.StsScopes))} is required with {K(nameof(options.StsStrategy))}={TokenExchangeStrategies.EntraOnBehalfOf} (the on-behalf-of request's scope, e.g. api://downstream/.default).");
        }

        if (options.StsStrategy != TokenExchangeStrategies.Rfc8693 && !string.IsNullOrEmpty(options.StsActorTokenFile))
        {
            failures.Add($"{K(nameof(options.StsActorTokenFile))} only works with {K(nameof(options.StsStrategy))}={TokenExchangeStrategies.Rfc8693}: {options.StsStrategy} takes no actor_token.");
        }

        if (!string.IsNullOrEmpty(options.StsActorTokenFile))
        {
            if (!File.Exists(options.StsActorTokenFile))
            {
                failures.Add($"{K(nameof(options.StsActorTokenFile))} names a file that does not exist: '{LogValue.Clean(options.StsActorTokenFile)}'.");
            }

            if (!Uri.TryCreate(options.StsActorTokenType, UriKind.Absolute, out _))
            {
                failures.Add($"{K(nameof(options.StsActorTokenType))} must be a token type URI (e.g. {TokenExchangeStrategies.JwtTokenType}).");
            }
        }
    }

    // The credential setting each client authentication method reads.
    private static bool Uses(string method, string setting) => method switch
    {
        StsClientAuthMethods.ClientSecretBasic or StsClientAuthMethods.ClientSecretPost =>
            setting is nameof(TokenExchangeOptions.StsClientSecret) or nameof(TokenExchangeOptions.StsClientSecretFile),
        StsClientAuthMethods.PrivateKeyJwt => setting == nameof(TokenExchangeOptions.StsClientKeyFile),
        StsClientAuthMethods.FederatedAssertion => setting == nameof(TokenExchangeOptions.StsClientAssertionFile),
        _ => false,
    };

    private void ValidateClientAuthentication(TokenExchangeOptions options, List<string> failures)
    {
        var method = TokenServiceCredentials.MethodOf(options);
        if (!string.IsNullOrEmpty(options.StsClientAuth) && !StsClientAuthMethods.All.Contains(options.StsClientAuth, StringComparer.Ordinal))
        {
            failures.Add($"{K(nameof(options.StsClientAuth))} must be one of {string.Join(", ", StsClientAuthMethods.All)}, not '{LogValue.Clean(options.StsClientAuth, 32)}'.");
            return;
        }

        var hasSecret = !string.IsNullOrEmpty(options.StsClientSecret) || !string.IsNullOrEmpty(options.StsClientSecretFile);
        var credentials = new[]
        {
            (nameof(options.StsClientSecret), !string.IsNullOrEmpty(options.StsClientSecret)),
            (nameof(options.StsClientSecretFile), !string.IsNullOrEmpty(options.StsClientSecretFile)),
            (nameof(options.StsClientKeyFile), !string.IsNullOrEmpty(options.StsClientKeyFile)),
            (nameof(options.StsClientAssertionFile), !string.IsNullOrEmpty(options.StsClientAssertionFile)),
        }.Where(c => c.Item2).Select(c => K(c.Item1)).ToList();
        if (credentials.Count > 1)
        {
            failures.Add($"Set one client credential for the token exchange, not {string.Join(" and ", credentials)}.");
            return;
        }

        var needed = method switch
        {
            StsClientAuthMethods.ClientSecretBasic or StsClientAuthMethods.ClientSecretPost when !hasSecret =>
                $"{K(nameof(options.StsClientSecret))} or {K(nameof(options.StsClientSecretFile))}",
            StsClientAuthMethods.PrivateKeyJwt when string.IsNullOrEmpty(options.StsClientKeyFile) => K(nameof(options.StsClientKeyFile)),
            StsClientAuthMethods.FederatedAssertion when string.IsNullOrEmpty(options.StsClientAssertionFile) => K(nameof(options.StsClientAssertionFile)),
            _ => null,
        };
        if (needed is not null)
        {
            failures.Add($"{K(nameof(options.StsClientAuth))}={method} needs {needed}.");
            return;
        }

        if (credentials.Count == 1 && !Uses(method, credentials[0][(credentials[0].IndexOf(':', StringComparison.Ordinal) + 1)..]))
        {
            failures.Add($"{credentials[0]} is not used by {K(nameof(options.StsClientAuth))}={method}: remove it or choose the method that uses it.");
            return;
        }

        if (method == "none" && options.StsStrategy != TokenExchangeStrategies.Rfc8693 && mcpAuth.Value.TokenExchangeEnabled)
        {
            failures.Add($"{K(nameof(options.StsStrategy))}={options.StsStrategy} needs a confidential client: set a client secret, {K(nameof(options.StsClientKeyFile))} or {K(nameof(options.StsClientAssertionFile))}.");
        }

        foreach (var (setting, path) in new[]
                 {
                     (nameof(options.StsClientSecretFile), options.StsClientSecretFile),
                     (nameof(options.StsClientAssertionFile), options.StsClientAssertionFile),
                 })
        {
            if (!string.IsNullOrEmpty(path) && !File.Exists(path))
            {
                failures.Add($"{K(setting)} names a file that does not exist: '{LogValue.Clean(path)}'.");
            }
        }

        if (!string.IsNullOrEmpty(options.StsClientKeyFile))
        {
            try
            {
                _ = ClientAssertionSigner.Load(options.StsClientKeyFile, options.StsClientKeyId, options.StsClientSigningAlgorithm);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                failures.Add($"{K(nameof(options.StsClientKeyFile))} '{LogValue.Clean(options.StsClientKeyFile)}' " +
                             (ex is InvalidDataException ? ex.Message : "cannot be read (" + ex.GetType().Name + ")") + ".");
            }
        }
    }
}
