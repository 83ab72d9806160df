using System.Collections.Frozen;
using McpAuth.Ports;
using McpAuth.Tokens;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.OpenIdConnect;

/// <summary>
/// <see cref="IOidcTokenValidator"/> for <see cref="McpAuthOptions.Issuers"/>: one <see cref="OidcTokenValidator"/> with
/// its own <see cref="IssuerMetadataStore"/> (discovery, keys, refresh budget, backoff) per issuer. A token goes to the
/// validator of the issuer its <c>iss</c> names, and only to it: an unknown <c>iss</c> is refused without a fetch, a
/// token claiming another issuer's <c>iss</c> is checked against that issuer's keys (and fails), and an issuer that is
/// down costs only its own tokens. The first issuer's store is the shared <see cref="IssuerMetadataStore"/> singleton
/// (token exchange and introspection use it).
/// </summary>
public sealed class MultiIssuerTokenValidator : IOidcTokenValidator
{
    private readonly FrozenDictionary<string, OidcTokenValidator> _byIssuer;

    /// <summary>Creates a validator and a store per issuer of <paramref name="issuers"/>.</summary>
    public MultiIssuerTokenValidator(
        IssuerDirectory issuers, IssuerMetadataStore primary, IOptions<McpAuthOptions> mcpAuth, IOptions<OidcProviderOptions> options,
        IHttpClientFactory httpClientFactory, OutboundUrlPolicy urls, TimeProvider time, ILoggerFactory loggers,
        McpAuth.Caching.ValidatedTokenCache? validatedTokens = null)
    {
        ArgumentNullException.ThrowIfNull(issuers);
        ArgumentNullException.ThrowIfNull(mcpAuth);
        ArgumentNullException.ThrowIfNull(loggers);
        var validators = new Dictionary<string, OidcTokenValidator>(StringComparer.Ordinal);
        foreach (var issuer in issuers.All)
        {
            var store = validators.Count == 0
                ? primary
                : new IssuerMetadataStore(
                    Options.Create(new McpAuthOptions { AuthorizationUrl = issuer.Url }), options, httpClientFactory, urls, time,
                    loggers.CreateLogger<IssuerMetadataStore>(), validatedTokens);
            validators[issuer.Url] = new OidcTokenValidator(store, issuer.Audiences, mcpAuth.Value.ClockSkew, time, loggers.CreateLogger<OidcTokenValidator>());
        }

        _byIssuer = validators.ToFrozenDictionary(StringComparer.Ordinal);
        Stores = validators.ToDictionary(v => v.Key, v => v.Value.Store, StringComparer.Ordinal);
    }

    /// <summary>Each issuer's metadata store, by issuer URL.</summary>
    public IReadOnlyDictionary<string, IssuerMetadataStore> Stores { get; }

    /// <inheritdoc />
    public ValueTask<OidcValidationResult> ValidateAsync(ParsedToken token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        return token.Issuer is { } iss && _byIssuer.TryGetValue(iss, out var validator)
            ? validator.ValidateAsync(token, cancellationToken)
            : ValueTask.FromResult(OidcValidationResult.Invalid("The token's issuer is not one this server trusts."));
    }
}
