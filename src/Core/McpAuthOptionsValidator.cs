using Microsoft.Extensions.Options;

namespace McpAuth;

/// <summary>
/// Refuses configurations that are wrong or insecure, each with a message that names the settings by their
/// configuration keys and says how to fix them. Runs at start (<c>ValidateOnStart</c>), so a bad configuration never
/// serves a request.
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

    private static IEnumerable<string> CheckIssuers(McpAuthOptions options)
    {
        string K(string n) => McpAuthOptions.Key(n);
        if (!string.IsNullOrWhiteSpace(options.AuthorizationUrl))
        {
            yield return $"Set either {K(nameof(options.AuthorizationUrl))} (one issuer) or {K(nameof(options.Issuers))} (several), not both.";
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Issuers.Count; i++)
        {
            var issuer = options.Issuers[i];
            var key = K($"{nameof(options.Issuers)}:{i}");
            if (!IsAbsoluteHttpUrl(issuer.Url))
            {
                yield return $"{key}:Url must be an absolute http(s) URL, the issuer's identifier exactly as its tokens' iss carries it.";
            }
            else if (!seen.Add(issuer.Url))
            {
                yield return $"{key}:Url repeats an issuer listed before it; each issuer appears once.";
            }

            if (issuer.Audiences.All(string.IsNullOrWhiteSpace) && string.IsNullOrWhiteSpace(options.Audience) && !options.AcceptAnyAudience)
            {
                yield return $"{key}:Audiences is empty and no {K(nameof(options.Audience))} is set, so this issuer's tokens for any API would be accepted: " +
                             $"set one, or {K(nameof(options.AcceptAnyAudience))}=true (insecure).";
            }
        }
    }

    /// <summary>Every reason <paramref name="options"/> is refused (empty when it is fine).</summary>
    public static IEnumerable<string> Check(McpAuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var hasIssuer = options.HasIssuer;
        string K(string n) => McpAuthOptions.Key(n);

        if (!hasIssuer && !options.ValidateToken && !options.SkipJwtVerification)
        {
            yield return $"Nothing verifies tokens: set {K(nameof(options.AuthorizationUrl))} to verify signatures at the issuer, " +
                         $"or {K(nameof(options.ValidateToken))}=true to review tokens on the cluster. " +
                         $"{K(nameof(options.SkipJwtVerification))}=true accepts unverified tokens and is for development only.";
        }

        if (hasIssuer && options.Issuers.Count == 0 && string.IsNullOrWhiteSpace(options.Audience) && !options.AcceptAnyAudience)
        {
            yield return $"{K(nameof(options.AuthorizationUrl))} is set but no audience is expected, so tokens the issuer made for any other API " +
                         $"would be accepted: set {K(nameof(options.Audience))} to this server's resource URL (or {K("ServerUrl")}, from which it is derived), " +
                         $"or {K(nameof(options.AcceptAnyAudience))}=true (insecure).";
        }

        var sts = new[] { (nameof(options.StsClientId), options.StsClientId), (nameof(options.StsAudience), options.StsAudience) }
            .Where(s => !string.IsNullOrEmpty(s.Item2)).Select(s => K(s.Item1)).ToList();
        if (!hasIssuer && sts.Count > 0)
        {
            yield return $"{string.Join(", ", sts)} need an issuer: set {K(nameof(options.AuthorizationUrl))}, or remove them.";
        }

        if (!hasIssuer && !string.IsNullOrEmpty(options.IntrospectionClientId))
        {
            yield return $"{K(nameof(options.IntrospectionClientId))} needs an issuer to introspect at: set {K(nameof(options.AuthorizationUrl))}, or remove it.";
        }

        if (!string.IsNullOrEmpty(options.StsClientId) && string.IsNullOrEmpty(options.StsAudience))
        {
            yield return $"{K(nameof(options.StsClientId))} is set without {K(nameof(options.StsAudience))}: set it to the audience the exchanged token is for.";
        }

        if (options.Issuers.Count > 0)
        {
            foreach (var problem in CheckIssuers(options))
            {
                yield return problem;
            }
        }
        else if (hasIssuer && !IsAbsoluteHttpUrl(options.AuthorizationUrl))
        {
            yield return $"{K(nameof(options.AuthorizationUrl))} must be an absolute http(s) URL, e.g. https://issuer.example.com/realms/mcp.";
        }

        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > TimeSpan.FromMinutes(10))
        {
            yield return $"{K(nameof(options.ClockSkew))} must be between 0 and 10 minutes.";
        }

        if (options.MaxTokenBytes is < 256 or > 1024 * 1024)
        {
            yield return $"{K(nameof(options.MaxTokenBytes))} must be between 256 and 1048576.";
        }

        if (options.TokenCacheMaxEntries < 0 || options.TokenCacheMaxAge < TimeSpan.Zero)
        {
            yield return $"{K(nameof(options.TokenCacheMaxEntries))} and {K(nameof(options.TokenCacheMaxAge))} must not be negative (0 switches the cache off).";
        }
    }

    /// <summary>True for an absolute http or https URL without a fragment.</summary>
    public static bool IsAbsoluteHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
        && string.IsNullOrEmpty(uri.Fragment);
}
