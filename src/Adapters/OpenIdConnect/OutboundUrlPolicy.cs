using Microsoft.Extensions.Options;

namespace McpAuth.OpenIdConnect;

/// <summary>
/// The one rule for every URL this package calls, configured or discovered (discovery, <c>jwks_uri</c>, token
/// endpoint): https, or plain http on a loopback host only, unless <see cref="OidcProviderOptions.AllowInsecureHttp"/>.
/// A client secret or a subject token never travels in clear text off the machine by default.
/// </summary>
public sealed class OutboundUrlPolicy(IOptions<OidcProviderOptions> options)
{
    private readonly bool _allowInsecureHttp = options.Value.AllowInsecureHttp;

    /// <summary>The reason a refused URL is refused, for logs.</summary>
    public const string RefusalReason = "plain http is only allowed on loopback (set McpAuth:AllowInsecureHttp to override)";

    /// <summary>True when <paramref name="url"/> may be called.</summary>
    public bool Allows(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return url.IsAbsoluteUri
               && (url.Scheme == Uri.UriSchemeHttps || (url.Scheme == Uri.UriSchemeHttp && (url.IsLoopback || _allowInsecureHttp)));
    }

    /// <summary>True when <paramref name="url"/> is an absolute URL that may be called.</summary>
    public bool Allows(string? url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) && Allows(uri);
}
