using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using McpAuth.Caching;

namespace McpAuth.OpenIdConnect;

/// <summary>
/// Discovery and JWKS of the configured issuer, with the refresh policy the validator needs:
/// <list type="bullet">
/// <item>discovery from <c>/.well-known/openid-configuration</c>, falling back to RFC 8414
/// <c>/.well-known/oauth-authorization-server</c> (path-insert form for issuers with a path); the discovered issuer must
/// equal the configured one (a trailing slash tolerated);</item>
/// <item>forced refreshes (unknown <c>kid</c>, failed signature) are awaited, so the first token under a new key is
/// accepted, and rate-limited by a token bucket, so junk <c>kid</c>s cannot hammer the issuer;</item>
/// <item>last-known-good: a failed refresh keeps the previous keys;</item>
/// <item>concurrent refreshes are coalesced; every fetch has a timeout and a size limit; http only on loopback.</item>
/// </list>
/// </summary>
public sealed partial class IssuerMetadataStore
{
    /// <summary>The name of the <see cref="HttpClient"/> used for the issuer (and the STS).</summary>
    public const string HttpClientName = "McpAuth.Issuer";

    private readonly IHttpClientFactory _httpClientFactory;
    private readonly OidcProviderOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<IssuerMetadataStore> _logger;
    private readonly Uri? _issuer;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ValidatedTokenCache? _validatedTokens;
    private readonly OutboundUrlPolicy _urls;
    private volatile IssuerMetadata? _current;
    private DateTimeOffset _lastFailure = DateTimeOffset.MinValue;
    private double _refreshTokens;
    private DateTimeOffset _refreshTokensAt;
    private long _documentFetches;
    private long _keyFetches;

    /// <summary>Creates the store for <see cref="McpAuthOptions.AuthorizationUrl"/>.</summary>
    public IssuerMetadataStore(
        IOptions<McpAuthOptions> mcpAuthOptions, IOptions<OidcProviderOptions> options, IHttpClientFactory httpClientFactory,
        OutboundUrlPolicy urls, TimeProvider time, ILogger<IssuerMetadataStore> logger, ValidatedTokenCache? validatedTokens = null)
    {
        ArgumentNullException.ThrowIfNull(mcpAuthOptions);
        ArgumentNullException.ThrowIfNull(options);
        _urls = urls;
        _validatedTokens = validatedTokens;
        _options = options.Value;
        _httpClientFactory = httpClientFactory;
        _time = time;
        _logger = logger;
        _issuer = Uri.TryCreate(mcpAuthOptions.Value.AuthorizationUrl, UriKind.Absolute, out var issuer) ? issuer : null;
        _refreshTokens = _options.KeyRefreshBurst;
        _refreshTokensAt = time.GetUtcNow();
    }

    /// <summary>JWKS requests sent so far.</summary>
    public long KeyFetches => Interlocked.Read(ref _keyFetches);

    /// <summary>Discovery requests sent so far.</summary>
    public long DocumentFetches => Interlocked.Read(ref _documentFetches);

    /// <summary>The current snapshot without any I/O (null before the first successful fetch).</summary>
    public IssuerMetadata? Current => _current;

    /// <summary>
    /// The current snapshot; fetched when there is none or it is older than <see cref="OidcProviderOptions.MetadataMaxAge"/>.
    /// Null when the issuer cannot be reached and nothing is cached.
    /// </summary>
    public async ValueTask<IssuerMetadata?> GetAsync(CancellationToken cancellationToken)
    {
        var current = _current;
        if (current is not null && _time.GetUtcNow() - current.FetchedAt < _options.MetadataMaxAge)
        {
            return current;
        }

        return await RefreshAsync(current, force: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Fetches the keys again because <paramref name="seen"/> did not have what a token needs, unless the rate limit
    /// says no. Returns the newest snapshot (the same one when nothing was fetched or the fetch failed).
    /// </summary>
    public ValueTask<IssuerMetadata?> RefreshKeysAsync(IssuerMetadata seen, CancellationToken cancellationToken) =>
        RefreshAsync(seen, force: true, cancellationToken);

    private async ValueTask<IssuerMetadata?> RefreshAsync(IssuerMetadata? seen, bool force, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = _current;
            if (!ReferenceEquals(current, seen))
            {
                return current; // someone refreshed while we waited: use theirs
            }

            var now = _time.GetUtcNow();
            if (current is null && now - _lastFailure < _options.FailureBackoff)
            {
                return null;
            }

            if (force && !TakeRefreshToken(now))
            {
                Log.KeyRefreshThrottled(_logger);
                return current;
            }

            var fetched = await FetchAsync(cancellationToken).ConfigureAwait(false);
            if (fetched is null)
            {
                _lastFailure = _time.GetUtcNow();
                return current;
            }

            _current = fetched;
            var gone = current?.SigningKeys
                .Where(k => !fetched.KeysById.TryGetValue(k.KeyId ?? string.Empty, out var same) || !SameKey(k, same))
                .Select(k => k.KeyId).ToHashSet(StringComparer.Ordinal);
            if (gone is { Count: > 0 })
            {
                // Tokens verified by a key the issuer no longer publishes (or replaced) must be verified again.
                _validatedTokens?.InvalidateKeys(kid => kid is null || gone.Contains(kid));
            }

            return fetched;
        }
        finally
        {
            _gate.Release();
        }
    }

    private bool TakeRefreshToken(DateTimeOffset now)
    {
        var elapsed = (now - _refreshTokensAt).TotalSeconds;
        _refreshTokensAt = now;
        _refreshTokens = Math.Min(_options.KeyRefreshBurst, _refreshTokens + elapsed / Math.Max(0.001, _options.KeyRefreshInterval.TotalSeconds));
        if (_refreshTokens < 1)
        {
            return false;
        }

        _refreshTokens -= 1;
        return true;
    }

    private static bool SameKey(SecurityKey a, SecurityKey b) =>
        a is JsonWebKey ja && b is JsonWebKey jb
            ? ja.N == jb.N && ja.E == jb.E && ja.X == jb.X && ja.Y == jb.Y && ja.Crv == jb.Crv
            : ReferenceEquals(a, b);

    private async Task<IssuerMetadata?> FetchAsync(CancellationToken cancellationToken)
    {
        if (_issuer is null)
        {
            return null;
        }

        var client = _httpClientFactory.CreateClient(HttpClientName);
        foreach (var url in DiscoveryUrls(_issuer))
        {
            if (!_urls.Allows(url))
            {
                Log.FetchFailed(_logger, url.ToString(), OutboundUrlPolicy.RefusalReason);
                return null;
            }

            Interlocked.Increment(ref _documentFetches);
            var document = await GetDocumentAsync(client, url, cancellationToken).ConfigureAwait(false);
            if (document is null)
            {
                continue;
            }

            OpenIdConnectConfiguration configuration;
            try
            {
                configuration = OpenIdConnectConfiguration.Create(document);
            }
            catch (Exception ex) when (ex is ArgumentException or JsonException)
            {
                Log.FetchFailed(_logger, url.ToString(), "the metadata document is not valid JSON");
                continue;
            }

            if (!SameIssuer(configuration.Issuer, _issuer))
            {
                Log.FetchFailed(_logger, url.ToString(), $"it names issuer '{configuration.Issuer}', not the configured one");
                return null;
            }

            if (!Uri.TryCreate(configuration.JwksUri, UriKind.Absolute, out var jwksUri) || !_urls.Allows(jwksUri))
            {
                Log.FetchFailed(_logger, url.ToString(), "it has no usable jwks_uri");
                return null;
            }

            Interlocked.Increment(ref _keyFetches);
            var jwks = await GetDocumentAsync(client, jwksUri, cancellationToken).ConfigureAwait(false);
            if (jwks is null)
            {
                return null;
            }

            IReadOnlyList<SecurityKey> keys;
            try
            {
                keys = new JsonWebKeySet(jwks).GetSigningKeys().ToArray();
            }
            catch (Exception ex) when (ex is ArgumentException or JsonException)
            {
                Log.FetchFailed(_logger, jwksUri.ToString(), "the JWKS is not valid");
                return null;
            }

            Log.KeysFetched(_logger, configuration.Issuer, keys.Count, string.Join(",", keys.Select(k => k.KeyId)));
            return new IssuerMetadata(configuration.Issuer, configuration.TokenEndpoint, url.ToString(), document, keys, _time.GetUtcNow());
        }

        return null;
    }

    /// <summary>
    /// Where to look for the issuer's metadata, in order: OIDC discovery (<c>{issuer}/.well-known/openid-configuration</c>),
    /// then RFC 8414 (<c>{origin}/.well-known/oauth-authorization-server{path}</c>), then, for issuers with a path, the
    /// OIDC path-insert form (<c>{origin}/.well-known/openid-configuration{path}</c>).
    /// </summary>
    public static IReadOnlyList<Uri> DiscoveryUrls(Uri issuer)
    {
        var path = issuer.AbsolutePath.TrimEnd('/');
        var origin = issuer.GetLeftPart(UriPartial.Authority);
        var urls = new List<Uri>
        {
            new(issuer.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/.well-known/openid-configuration"),
            new(origin + "/.well-known/oauth-authorization-server" + path),
        };
        if (path.Length > 0)
        {
            urls.Add(new Uri(origin + "/.well-known/openid-configuration" + path));
        }

        return urls;
    }

    private async Task<string?> GetDocumentAsync(HttpClient client, Uri url, CancellationToken cancellationToken)
    {
        if (!_urls.Allows(url))
        {
            Log.FetchFailed(_logger, url.ToString(), OutboundUrlPolicy.RefusalReason);
            return null;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.IssuerTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.ParseAdd("application/json");
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                Log.FetchFailed(_logger, url.ToString(), $"HTTP {(int)response.StatusCode}");
                return null;
            }

            return await BoundedContent.ReadStringAsync(response.Content, _options.MaxDocumentBytes, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or InvalidDataException && !cancellationToken.IsCancellationRequested)
        {
            Log.FetchFailed(_logger, url.ToString(), ex is OperationCanceledException ? "timed out" : ex.GetType().Name + ": " + ex.Message);
            return null;
        }
    }

    private static bool SameIssuer(string? discovered, Uri configured) =>
        discovered is not null && string.Equals(discovered.TrimEnd('/'), configured.OriginalString.TrimEnd('/'), StringComparison.Ordinal);
}
