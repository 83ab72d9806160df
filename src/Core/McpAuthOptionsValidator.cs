using Microsoft.Extensions.Options;

namespace McpAuth;

/// <summary>
/// Refuses configurations that are wrong or insecure, each with a message that says how to fix it. Runs at start
/// (<c>ValidateOnStart</c>), so a bad configuration never serves a request.
/// </summary>
public sealed class McpAuthOptionsValidator : IValidateOptions<McpAuthOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, McpAuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = Check(options).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Every reason <paramref name="options"/> is refused (empty when it is fine).</summary>
    public static IEnumerable<string> Check(McpAuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var hasIssuer = !string.IsNullOrWhiteSpace(options.AuthorizationUrl);
        var stsSettings = Named(
            (nameof(options.StsClientId), options.StsClientId),
            (nameof(options.StsClientSecret), options.StsClientSecret),
            (nameof(options.StsAudience), options.StsAudience),
            (nameof(options.StsTokenUrl), options.StsTokenUrl),
            (nameof(options.StsScopes), options.StsScopes.Count > 0 ? "set" : null));

        if (!options.RequireOAuth)
        {
            var needOAuth = Named(
                (nameof(options.OAuthAudience), options.OAuthAudience),
                (nameof(options.ValidateToken), options.ValidateToken ? "set" : null),
                (nameof(options.AuthorizationUrl), options.AuthorizationUrl),
                (nameof(options.ServerUrl), options.ServerUrl),
                (nameof(options.CertificateAuthority), options.CertificateAuthority)).Concat(stsSettings).ToList();
            if (needOAuth.Count > 0)
            {
                yield return $"{string.Join(", ", needOAuth)} only take effect with RequireOAuth: set RequireOAuth=true (--require-oauth) or remove them.";
            }

            yield break;
        }

        if (!hasIssuer && !options.ValidateToken && !options.SkipJwtVerification)
        {
            yield return "RequireOAuth is on but nothing verifies tokens: set AuthorizationUrl (--authorization-url) to verify signatures, " +
                         "or ValidateToken (--validate-token) to review tokens on the cluster. SkipJwtVerification (--skip-jwt-verification) " +
                         "accepts unverified tokens and is for development only.";
        }

        if (!hasIssuer && stsSettings.Count > 0)
        {
            yield return $"{string.Join(", ", stsSettings)} need an issuer: set AuthorizationUrl (--authorization-url), or remove them.";
        }

        if (!string.IsNullOrEmpty(options.StsClientId) && string.IsNullOrEmpty(options.StsAudience))
        {
            yield return "StsClientId is set without StsAudience: set StsAudience (--sts-audience) to the audience the exchanged token is for.";
        }

        if (hasIssuer && !IsAbsoluteHttpUrl(options.AuthorizationUrl))
        {
            yield return "AuthorizationUrl must be an absolute http(s) URL, e.g. https://issuer.example.com/realms/mcp.";
        }

        if (!string.IsNullOrEmpty(options.ServerUrl) && !IsAbsoluteHttpUrl(options.ServerUrl))
        {
            yield return "ServerUrl must be an absolute http(s) URL without a fragment, e.g. https://mcp.example.com.";
        }

        if (!string.IsNullOrEmpty(options.StsTokenUrl) && !IsAbsoluteHttpUrl(options.StsTokenUrl))
        {
            yield return "StsTokenUrl must be an absolute http(s) URL.";
        }

        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > TimeSpan.FromMinutes(10))
        {
            yield return "ClockSkew must be between 0 and 10 minutes.";
        }

        if (options.MaxTokenBytes is < 256 or > 1024 * 1024)
        {
            yield return "MaxTokenBytes must be between 256 and 1048576.";
        }
    }

    private static bool IsAbsoluteHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
        && string.IsNullOrEmpty(uri.Fragment);

    private static List<string> Named(params (string Name, string? Value)[] settings) =>
        settings.Where(s => !string.IsNullOrEmpty(s.Value)).Select(s => s.Name).ToList();
}
