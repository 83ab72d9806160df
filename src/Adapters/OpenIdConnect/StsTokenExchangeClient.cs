using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using McpAuth.Diagnostics;
using McpAuth.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.OpenIdConnect;

/// <summary>
/// RFC 8693 token exchange in the original's wire format: a form POST to the token endpoint (<c>StsTokenUrl</c>, else
/// the issuer's discovered <c>token_endpoint</c>) with <c>grant_type</c>, <c>subject_token</c>,
/// <c>subject_token_type</c>, <c>requested_token_type</c>, <c>audience</c> and an always-sent <c>scope</c>; Basic
/// client authentication when id and secret are set. 400/401 → refused; 5xx, timeout, refused connection, a response
/// without <c>access_token</c> or with <c>expires_in</c> ≤ 0 → unavailable.
/// </summary>
public sealed class StsTokenExchangeClient : ITokenExchangeClient
{
    /// <summary>RFC 8693 grant type.</summary>
    public const string GrantType = "urn:ietf:params:oauth:grant-type:token-exchange";

    /// <summary>RFC 8693 access-token type URI.</summary>
    public const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";

    private const int MaxResponseBytes = 64 * 1024;

    private readonly IHttpClientFactory _httpClientFactory;
    private readonly IssuerMetadataStore _issuer;
    private readonly TokenExchangeOptions _options;
    private readonly McpAuthOptions _mcpAuth;
    private readonly TimeProvider _time;
    private readonly ILogger<StsTokenExchangeClient> _logger;
    private readonly AuthenticationHeaderValue? _clientAuthentication;
    private readonly OutboundUrlPolicy _urls;

    /// <summary>Creates the client.</summary>
    public StsTokenExchangeClient(
        IHttpClientFactory httpClientFactory, IssuerMetadataStore issuer, IOptions<McpAuthOptions> mcpAuth,
        IOptions<TokenExchangeOptions> options, OutboundUrlPolicy urls, TimeProvider time, ILogger<StsTokenExchangeClient> logger)
    {
        ArgumentNullException.ThrowIfNull(mcpAuth);
        ArgumentNullException.ThrowIfNull(options);
        _urls = urls;
        _httpClientFactory = httpClientFactory;
        _issuer = issuer;
        _options = options.Value;
        _mcpAuth = mcpAuth.Value;
        _time = time;
        _logger = logger;
        if (!string.IsNullOrEmpty(_mcpAuth.StsClientId) && !string.IsNullOrEmpty(_options.StsClientSecret))
        {
            // RFC 6749 §2.3.1: id and secret are form-encoded, then joined and base64-encoded.
            var credentials = $"{Uri.EscapeDataString(_mcpAuth.StsClientId)}:{Uri.EscapeDataString(_options.StsClientSecret)}";
            _clientAuthentication = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        }
    }

    /// <inheritdoc />
    public async ValueTask<TokenExchangeResult> ExchangeAsync(string subjectToken, DateTimeOffset? subjectExpiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subjectToken);
        var endpoint = _options.StsTokenUrl;
        if (string.IsNullOrEmpty(endpoint))
        {
            var metadata = await _issuer.GetAsync(cancellationToken).ConfigureAwait(false);
            endpoint = metadata?.TokenEndpoint;
            if (string.IsNullOrEmpty(endpoint))
            {
                return TokenExchangeResult.Unavailable("The token endpoint is not known (issuer unreachable or no token_endpoint).");
            }
        }

        if (!_urls.Allows(endpoint))
        {
            Log.ExchangeFailed(_logger, LogValue.Clean(endpoint), OutboundUrlPolicy.RefusalReason);
            return TokenExchangeResult.Unavailable("The token endpoint is not an allowed URL (https, or http on loopback).");
        }

        var fields = new List<KeyValuePair<string, string>>(7)
        {
            new("grant_type", GrantType),
            new("subject_token", subjectToken),
            new("subject_token_type", AccessTokenType),
            new("requested_token_type", AccessTokenType),
            new("audience", _mcpAuth.StsAudience ?? string.Empty),
            new("scope", string.Join(' ', _options.StsScopes)),
        };
        if (_clientAuthentication is null && !string.IsNullOrEmpty(_mcpAuth.StsClientId))
        {
            fields.Add(new("client_id", _mcpAuth.StsClientId)); // public client (RFC 6749 §3.2.1)
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new FormUrlEncodedContent(fields) };
        request.Headers.Authorization = _clientAuthentication;
        request.Headers.Accept.ParseAdd("application/json");

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.StsTimeout);
        try
        {
            using var response = await _httpClientFactory.CreateClient(IssuerMetadataStore.HttpClientName)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var body = await BoundedContent.ReadStringAsync(response.Content, MaxResponseBytes, timeout.Token).ConfigureAwait(false);
            return Interpret(endpoint, response.StatusCode, body);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or InvalidDataException && !cancellationToken.IsCancellationRequested)
        {
            var reason = ex is OperationCanceledException ? $"timed out after {_options.StsTimeout.TotalSeconds:0.#} s" : ex.GetType().Name;
            Log.ExchangeFailed(_logger, LogValue.Clean(endpoint), reason);
            return TokenExchangeResult.Unavailable(reason);
        }
    }

    private TokenExchangeResult Interpret(string endpoint, HttpStatusCode status, string body)
    {
        if (status is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized)
        {
            var error = TryRead(body, "error");
            Log.ExchangeRefused(_logger, LogValue.Clean(endpoint), (int)status, LogValue.Clean(error, 64));
            return TokenExchangeResult.Refused(error is { Length: > 0 } && IsErrorCode(error)
                ? $"The token exchange service refused the token ({error})."
                : "The token exchange service refused the token.");
        }

        if (status != HttpStatusCode.OK)
        {
            Log.ExchangeFailed(_logger, LogValue.Clean(endpoint), $"HTTP {(int)status}");
            return TokenExchangeResult.Unavailable($"HTTP {(int)status}");
        }

        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                Log.ExchangeFailed(_logger, LogValue.Clean(endpoint), "the response is not a JSON object");
                return TokenExchangeResult.Unavailable("The response is not a JSON object.");
            }

            var token = root.TryGetProperty("access_token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            var expiresIn = root.TryGetProperty("expires_in", out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var s) ? s : 0;
            if (string.IsNullOrEmpty(token))
            {
                Log.ExchangeFailed(_logger, LogValue.Clean(endpoint), "the response has no access_token");
                return TokenExchangeResult.Unavailable("The response has no access_token.");
            }

            if (expiresIn <= 0)
            {
                Log.ExchangeFailed(_logger, LogValue.Clean(endpoint), "the response's expires_in is not positive");
                return TokenExchangeResult.Unavailable("The response's expires_in is not positive.");
            }

            return TokenExchangeResult.Exchanged(token, _time.GetUtcNow().AddSeconds(Math.Min(expiresIn, 366L * 24 * 3600)));
        }
        catch (JsonException)
        {
            Log.ExchangeFailed(_logger, LogValue.Clean(endpoint), "the response is not JSON");
            return TokenExchangeResult.Unavailable("The response is not JSON.");
        }
    }

    private static string? TryRead(string body, string property)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // RFC 6749 §5.2 error codes are %x20-21 / %x23-5B / %x5D-7E; keep only short, plain ones for the client.
    private static bool IsErrorCode(string error) => error.Length <= 64 && error.All(c => c is (>= 'a' and <= 'z') or '_' or '-');
}
