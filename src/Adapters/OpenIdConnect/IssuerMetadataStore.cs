using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using McpAuth.Caching;
using McpAuth.Diagnostics;

namespace McpAuth.OpenIdConnect;

/// <summary>
/// Discovery and JWKS of the configured issuer, with the refresh policy the validator needs:
/// <list type="bullet">
/// <item>discovery from <c>/.well-known/openid-configuration</c>, falling back to RFC 8414
/// <c>/.well-known/oauth-authorization-server</c> (path-insert form for issuers with a path); the discovered issuer must
/// equal the configured one (a trailing slash tolerated); every URL passes <see cref="OutboundUrlPolicy"/>;</item>
/// <item>one fetch at a time, shared by every caller that needs it, bounded by <see cref="OidcProviderOptions.IssuerTimeout"/>
/// as a whole (discovery and JWKS together);</item>
/// <item>keys past <see cref="OidcProviderOptions.MetadataMaxAge"/> stay in use while a background refresh runs: a
/// request never waits for a refresh when keys are cached (last-known-good), and a failing issuer is retried with
/// exponential backoff from <see cref="OidcProviderOptions.FailureBackoff"/>;</item>
/// <item>a token that needs keys the snapshot lacks (unknown <c>kid</c>, or a failed signature under a known one) gets a
/// snapshot fetched after it arrived: it joins the running fetch, or the next one, which starts at most once per
/// <see cref="OidcProviderOptions.KeyRefreshInterval"/>. A throttled refresh waits for its slot, it is never refused, so
/// the first token under a new key is accepted within one interval plus one fetch even during a flood of junk tokens,
/// and the flood costs at most one fetch per interval.</item>
/// </list>
/// </summary>
public sealed class IssuerMetadataStore
{
    /// <summary>The name of the <see cref="HttpClient"/> used for the issuer (and the STS).</summary>
    public const string HttpClientName = "McpAuth.Issuer";

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(1);

    private readonly IHttpClientFactory _httpClientFactory;
    private readonly OidcProviderOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<IssuerMetadataStore> _logger;
    private readonly Uri? _issuer;
    private readonly ValidatedTokenCache? _validatedTokens;
    private readonly OutboundUrlPolicy _urls;
    private readonly Lock _lock = new();
    private volatile IssuerMetadata? _current;
    private Task<IssuerMetadata?>? _inflight;
    private Task<IssuerMetadata?>? _scheduled;
    private DateTimeOffset _lastFetchStarted = DateTimeOffset.MinValue;
    private DateTimeOffset _nextAttempt = DateTimeOffset.MinValue;
    private TimeSpan _backoff;
    private DateTimeOffset? _failingSince;
    private long _documentFetches;
    private long _keyFetches;
    private long _fetches;

    /// <summary>Creates the store for <see cref="McpAuthOptions.PrimaryIssuerUrl"/> (<see cref="McpAuthOptions.AuthorizationUrl"/>, else the first of the issuers).</summary>
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
        _issuer = Uri.TryCreate(mcpAuthOptions.Value.PrimaryIssuerUrl, UriKind.Absolute, out var issuer) ? issuer : null;
    }

    /// <summary>JWKS requests sent so far.</summary>
    public long KeyFetches => Interlocked.Read(ref _keyFetches);

    /// <summary>Discovery requests sent so far.</summary>
    public long DocumentFetches => Interlocked.Read(ref _documentFetches);

    /// <summary>Fetches (discovery and JWKS together) started so far.</summary>
    public long Fetches => Interlocked.Read(ref _fetches);

    /// <summary>The current snapshot without any I/O (null before the first successful fetch).</summary>
    public IssuerMetadata? Current => _current;

    /// <summary>Since when fetches have been failing (null while the last one succeeded).</summary>
    public DateTimeOffset? FailingSince
    {
        get
        {
            lock (_lock)
            {
                return _failingSince;
            }
        }
    }

    /// <summary>
    /// The current snapshot. When it is older than <see cref="OidcProviderOptions.MetadataMaxAge"/> it is still returned
    /// at once, and a background refresh starts. Only before the first successful fetch does a caller wait (for the one
    /// shared fetch); null when the issuer cannot be reached and nothing is cached.
    /// </summary>
    public ValueTask<IssuerMetadata?> GetAsync(CancellationToken cancellationToken)
    {
        var current = _current;
        if (current is null)
        {
            return FirstFetchAsync(cancellationToken);
        }

        if (_time.GetUtcNow() - current.FetchedAt >= _options.MetadataMaxAge)
        {
            RefreshInBackground();
        }

        return ValueTask.FromResult<IssuerMetadata?>(current);
    }

    /// <summary>
    /// A token that arrived at <paramref name="since"/> needs keys <paramref name="seen"/> lacks. Returns a snapshot
    /// fetched after <paramref name="since"/> (joining the running fetch, or waiting for the next slot), or null when the
    /// issuer could not be reached.
    /// </summary>
    public async ValueTask<IssuerMetadata?> RefreshKeysAsync(IssuerMetadata seen, DateTimeOffset since, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(seen);
        Task<IssuerMetadata?> fetch;
        lock (_lock)
        {
            var current = _current;
            var now = _time.GetUtcNow();
            if (current is not null && current.FetchedAt >= since)
            {
                return current; // fetched after the token arrived: that is the answer, no second fetch
            }

            if (_inflight is { } running)
            {
                fetch = running;
            }
            else if (_failingSince is not null && now < _nextAttempt)
            {
                return null; // the issuer is down and backing off: answer now, never queue
            }
            else if (now - _lastFetchStarted >= _options.KeyRefreshInterval || _failingSince is not null)
            {
                fetch = StartFetch(now);
            }
            else
            {
                Log.KeyRefreshThrottled(_logger);
                fetch = _scheduled ??= FetchAtAsync(_lastFetchStarted + _options.KeyRefreshInterval);
            }
        }

        return await fetch.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<IssuerMetadata?> FirstFetchAsync(CancellationToken cancellationToken)
    {
        Task<IssuerMetadata?> fetch;
        lock (_lock)
        {
            if (_current is { } current)
            {
                return current;
            }

            var now = _time.GetUtcNow();
            if (_inflight is { } running)
            {
                fetch = running;
            }
            else if (now < _nextAttempt)
            {
                return null; // backing off after a failure: 503 now, no new fetch
            }
            else
            {
                fetch = StartFetch(now);
            }
        }

        return await fetch.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private void RefreshInBackground()
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            if (_inflight is null && now >= _nextAttempt && now - _lastFetchStarted >= _options.KeyRefreshInterval)
            {
                _ = StartFetch(now);
            }
        }
    }

    // Under the lock. Runs the fetch on the thread pool so that it can never complete inside the lock.
    private Task<IssuerMetadata?> StartFetch(DateTimeOffset now)
    {
        _lastFetchStarted = now;
        Interlocked.Increment(ref _fetches);
        var fetch = Task.Run(FetchAndStoreAsync);
        _inflight = fetch;
        return fetch;
    }

    private async Task<IssuerMetadata?> FetchAtAsync(DateTimeOffset at)
    {
        var wait = at - _time.GetUtcNow();
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _time).ConfigureAwait(false);
        }

        Task<IssuerMetadata?> fetch;
        lock (_lock)
        {
            _scheduled = null;
            fetch = _inflight ?? StartFetch(_time.GetUtcNow());
        }

        return await fetch.ConfigureAwait(false);
    }

    private async Task<IssuerMetadata?> FetchAndStoreAsync()
    {
        IssuerMetadata? fetched = null;
        try
        {
            using var timeout = new CancellationTokenSource(_options.IssuerTimeout, _time);
            var known = _current;
            fetched = known is { JwksUri: { } jwksUri, DocumentFetchedAt: { } documentAt } && _time.GetUtcNow() - documentAt < _options.MetadataMaxAge
                ? await FetchKeysAsync(known, jwksUri, timeout.Token).ConfigureAwait(false) // the document is fresh: keys only
                : await FetchAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Log.FetchFailed(_logger, LogValue.Clean(_issuer?.ToString()), $"timed out after {_options.IssuerTimeout.TotalSeconds:0.#} s");
        }
        catch (Exception ex)
        {
            // A fetch never faults: a faulted task left in _inflight would answer every later request with the fault.
            Log.FetchFailed(_logger, LogValue.Clean(_issuer?.ToString()), ex.GetType().Name + ": " + LogValue.Clean(ex.Message));
        }

        IssuerMetadata? previous;
        lock (_lock)
        {
            _inflight = null;
            previous = _current;
            var now = _time.GetUtcNow();
            if (fetched is null)
            {
                _failingSince ??= now;
                _backoff = _backoff == TimeSpan.Zero ? _options.FailureBackoff : TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, MaxBackoff.Ticks));
                _nextAttempt = now + _backoff;
                return null;
            }

            _current = fetched;
            _failingSince = null;
            _backoff = TimeSpan.Zero;
            _nextAttempt = DateTimeOffset.MinValue;
        }

        var gone = previous?.SigningKeys
            .Where(k => !fetched.KeysById.TryGetValue(k.KeyId ?? string.Empty, out var same) || !SameKey(k, same))
            .Select(k => k.KeyId).ToHashSet(StringComparer.Ordinal);
        if (previous is null || gone is { Count: > 0 } || previous.SigningKeys.Count != fetched.SigningKeys.Count)
        {
            // Logged when the key set changes, not on every fetch (junk tokens cause a fetch every KeyRefreshInterval).
            Log.KeysFetched(_logger, LogValue.Clean(fetched.Issuer), fetched.SigningKeys.Count, LogValue.Clean(string.Join(",", fetched.SigningKeys.Select(k => k.KeyId)), 512));
        }

        if (gone is { Count: > 0 })
        {
            // Tokens verified by a key the issuer no longer publishes (or replaced) must be verified again.
            _validatedTokens?.InvalidateKeys(kid => kid is null || gone.Contains(kid));
        }

        return fetched;
    }

    // The same public key: JsonWebKeySet.GetSigningKeys() turns each JWK into an RsaSecurityKey or ECDsaSecurityKey (or
    // an X509SecurityKey), a new object per fetch, so keys are compared by their RFC 7638 thumbprint (or the certificate's),
    // never by reference: a fetch that finds the same keys changes nothing, logs nothing and invalidates no cached token.
    private static bool SameKey(SecurityKey a, SecurityKey b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        if (a is X509SecurityKey xa && b is X509SecurityKey xb)
        {
            return xa.Certificate.RawData.AsSpan().SequenceEqual(xb.Certificate.RawData);
        }

        try
        {
            return a.CanComputeJwkThumbprint() && b.CanComputeJwkThumbprint()
                   && a.ComputeJwkThumbprint().AsSpan().SequenceEqual(b.ComputeJwkThumbprint());
        }
        catch (Exception ex) when (ex is NotSupportedException or ArgumentException or System.Security.Cryptography.CryptographicException)
        {
            return false;
        }
    }

    private async Task<IssuerMetadata?> FetchKeysAsync(IssuerMetadata previous, Uri jwksUri, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _keyFetches);
        var jwks = await GetDocumentAsync(_httpClientFactory.CreateClient(HttpClientName), jwksUri, cancellationToken).ConfigureAwait(false);
        if (jwks is null)
        {
            return null;
        }

        var keys = ReadSigningKeys(jwks, jwksUri);
        return keys is null
            ? null
            // A new record, not `with`: the keys-by-kid index is computed from the keys at construction.
            : new IssuerMetadata(previous.Issuer, previous.TokenEndpoint, previous.DocumentUrl, previous.Document, keys, _time.GetUtcNow(), jwksUri, previous.DocumentFetchedAt, previous.IntrospectionEndpoint);
    }

    /// <summary>
    /// The JWKS's signing keys, or null when it is not valid or has none: an empty set is a failed fetch, never a
    /// replacement for the keys held (an issuer mid-deploy serving <c>{"keys":[]}</c> must not lock every token out).
    /// </summary>
    private IReadOnlyList<SecurityKey>? ReadSigningKeys(string jwks, Uri jwksUri)
    {
        try
        {
            var keys = new JsonWebKeySet(jwks).GetSigningKeys().ToArray();
            if (keys.Length == 0)
            {
                Log.FetchFailed(_logger, LogValue.Clean(jwksUri.ToString()), "the JWKS has no usable signing key");
                return null;
            }

            return keys;
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException or FormatException)
        {
            Log.FetchFailed(_logger, LogValue.Clean(jwksUri.ToString()), "the JWKS is not valid");
            return null;
        }
    }

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
                Log.FetchFailed(_logger, LogValue.Clean(url.ToString()), OutboundUrlPolicy.RefusalReason);
                return null;
            }

            Interlocked.Increment(ref _documentFetches);
            var document = await GetDocumentAsync(client, url, cancellationToken).ConfigureAwait(false);
            if (document is null)
            {
                cancellationToken.ThrowIfCancellationRequested(); // the budget is spent: no fallback URL can answer in time
                continue;
            }

            OpenIdConnectConfiguration configuration;
            try
            {
                configuration = OpenIdConnectConfiguration.Create(document);
            }
            catch (Exception ex) when (ex is ArgumentException or JsonException)
            {
                Log.FetchFailed(_logger, LogValue.Clean(url.ToString()), "the metadata document is not valid JSON");
                continue;
            }

            if (!SameIssuer(configuration.Issuer, _issuer))
            {
                Log.FetchFailed(_logger, LogValue.Clean(url.ToString()), $"it names issuer '{LogValue.Clean(configuration.Issuer)}', not the configured one");
                return null;
            }

            if (!Uri.TryCreate(configuration.JwksUri, UriKind.Absolute, out var jwksUri) || !_urls.Allows(jwksUri))
            {
                Log.FetchFailed(_logger, LogValue.Clean(url.ToString()), "it has no usable jwks_uri");
                return null;
            }

            Interlocked.Increment(ref _keyFetches);
            var jwks = await GetDocumentAsync(client, jwksUri, cancellationToken).ConfigureAwait(false);
            if (jwks is null)
            {
                return null;
            }

            var keys = ReadSigningKeys(jwks, jwksUri);
            if (keys is null)
            {
                return null;
            }

            var now = _time.GetUtcNow();
            return new IssuerMetadata(configuration.Issuer, configuration.TokenEndpoint, url.ToString(), document, keys, now, jwksUri, now,
                string.IsNullOrEmpty(configuration.IntrospectionEndpoint) ? null : configuration.IntrospectionEndpoint);
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
            Log.FetchFailed(_logger, LogValue.Clean(url.ToString()), OutboundUrlPolicy.RefusalReason);
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
                Log.FetchFailed(_logger, LogValue.Clean(url.ToString()), $"HTTP {(int)response.StatusCode}");
                return null;
            }

            return await BoundedContent.ReadStringAsync(response.Content, _options.MaxDocumentBytes, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or InvalidDataException && !cancellationToken.IsCancellationRequested)
        {
            Log.FetchFailed(_logger, LogValue.Clean(url.ToString()), ex is OperationCanceledException ? "timed out" : ex.GetType().Name + ": " + LogValue.Clean(ex.Message));
            return null;
        }
    }

    private static bool SameIssuer(string? discovered, Uri configured) =>
        discovered is not null && string.Equals(discovered.TrimEnd('/'), configured.OriginalString.TrimEnd('/'), StringComparison.Ordinal);
}
