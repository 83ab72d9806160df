using System.Net;
using System.Text.Json;
using Duende.IdentityModel.Client;
using McpAuth.Diagnostics;
using McpAuth.OpenIdConnect.Exchange;
using McpAuth.Ports;
using McpAuth.Tokens;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.OpenIdConnect;

/// <summary>
/// <see cref="ITokenIntrospector"/> on the authorization server's RFC 7662 endpoint (<c>IntrospectionEndpoint</c>, else
/// the issuer's discovered <c>introspection_endpoint</c>) under the outbound URL rule: a POST with
/// <c>token</c> and <c>token_type_hint=access_token</c>, authenticated as <see cref="McpAuthOptions.IntrospectionClientId"/>
/// (Basic or form), one timeout around the whole call, at most 64 KiB of answer. A 200 with a JSON object decides:
/// <c>"active": false</c> → not active; <c>"active": true</c> → active, unless the answer names another issuer or a
/// token type that is not an access token (refused); anything else (another status, not JSON, <c>active</c> not a
/// boolean, a malformed member) → unavailable. Never throws for any of these; the token is never logged.
/// </summary>
public sealed class TokenIntrospectionClient : ITokenIntrospector
{
    /// <summary>The largest answer read from the introspection endpoint.</summary>
    public const int MaxResponseBytes = 64 * 1024;

    private readonly IHttpClientFactory _httpClientFactory;
    private readonly IssuerMetadataStore _issuer;
    private readonly IntrospectionOptions _options;
    private readonly OutboundUrlPolicy _urls;
    private readonly ILogger<TokenIntrospectionClient> _logger;
    private readonly string _clientId;
    private readonly SemaphoreSlim _slots;

    /// <summary>Creates the client; <see cref="IssuerMetadataStore"/> supplies the discovered endpoint and the issuer.</summary>
    public TokenIntrospectionClient(
        IHttpClientFactory httpClientFactory, IssuerMetadataStore issuer, IOptions<McpAuthOptions> mcpAuth, IOptions<IntrospectionOptions> options,
        OutboundUrlPolicy urls, ILogger<TokenIntrospectionClient> logger)
    {
        ArgumentNullException.ThrowIfNull(mcpAuth);
        ArgumentNullException.ThrowIfNull(options);
        _httpClientFactory = httpClientFactory;
        _issuer = issuer;
        _options = options.Value;
        _urls = urls;
        _logger = logger;
        _clientId = mcpAuth.Value.IntrospectionClientId ?? string.Empty;
        _slots = new SemaphoreSlim(Math.Max(1, _options.IntrospectionMaxConcurrency));
    }

    /// <summary>Introspection calls in flight now.</summary>
    public int InFlight => Math.Max(1, _options.IntrospectionMaxConcurrency) - _slots.CurrentCount;

    /// <inheritdoc />
    public async ValueTask<IntrospectionResult> IntrospectAsync(ParsedToken token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (!_slots.Wait(0, CancellationToken.None))
        {
            // Never queue behind other tokens' calls: a flood of made-up tokens costs at most this many outbound requests.
            return IntrospectionResult.Unavailable("Too many introspection calls are in flight.");
        }

        try
        {
            return await IntrospectCoreAsync(token, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    private async ValueTask<IntrospectionResult> IntrospectCoreAsync(ParsedToken token, CancellationToken cancellationToken)
    {
        var metadata = await _issuer.GetAsync(cancellationToken).ConfigureAwait(false);
        if (metadata is null)
        {
            return IntrospectionResult.Unavailable("The issuer's metadata could not be fetched.");
        }

        var endpoint = _options.IntrospectionEndpoint is { Length: > 0 } configured ? configured : metadata.IntrospectionEndpoint;
        if (string.IsNullOrEmpty(endpoint))
        {
            return IntrospectionResult.Unavailable("The issuer publishes no introspection_endpoint and none is configured.");
        }

        if (!_urls.Allows(endpoint))
        {
            Log.IntrospectionFailed(_logger, LogValue.Clean(endpoint), OutboundUrlPolicy.RefusalReason);
            return IntrospectionResult.Unavailable("The introspection endpoint is not an allowed URL (https, or http on loopback).");
        }

        if (ReadSecret() is not { } secret)
        {
            Log.IntrospectionFailed(_logger, LogValue.Clean(endpoint), "the client secret file cannot be read");
            return IntrospectionResult.Unavailable("The introspection client secret cannot be read.");
        }

        using var request = new TokenIntrospectionRequest
        {
            Address = endpoint,
            ClientId = _clientId,
            ClientSecret = secret,
            ClientCredentialStyle = _options.IntrospectionClientAuth == IntrospectionClientAuthMethods.Post
                ? ClientCredentialStyle.PostBody
                : ClientCredentialStyle.AuthorizationHeader,
            Token = token.Raw,
            TokenTypeHint = "access_token",
        };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.IntrospectionTimeout);
        // Duende builds and sends the request and reads the answer into its own claims, throwing on shapes RFC 7662 does
        // not allow (a JSON array, null, an empty body, an "exp" that is not a number): the answer is read here, from what
        // the handler saw, never from Duende's view of it, so a malformed answer is "unavailable", not an exception.
        var answer = new AnswerRecorder(new BoundedResponseHandler(_httpClientFactory.CreateClient(IssuerMetadataStore.HttpClientName), MaxResponseBytes));
        try
        {
            using var invoker = new HttpMessageInvoker(answer, disposeHandler: true);
            TokenIntrospectionResponse? response = null;
            try
            {
                response = await invoker.IntrospectTokenAsync(request, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (answer.Body is not null && ex is not OperationCanceledException)
            {
                // Duende could not read an answer that arrived in full: it is interpreted below.
            }

            if (answer.Body is { } body)
            {
                return Interpret(token.Raw, endpoint, metadata.Issuer, answer.Status, body);
            }

            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }

            var reason = timeout.IsCancellationRequested
                ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"timed out after {_options.IntrospectionTimeout.TotalSeconds:0.#} s")
                : response?.Exception?.GetType().Name ?? "no response";
            Log.IntrospectionFailed(_logger, LogValue.Clean(endpoint), reason);
            return IntrospectionResult.Unavailable(reason);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or InvalidDataException && !cancellationToken.IsCancellationRequested)
        {
            var reason = ex is OperationCanceledException ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"timed out after {_options.IntrospectionTimeout.TotalSeconds:0.#} s") : ex.GetType().Name;
            Log.IntrospectionFailed(_logger, LogValue.Clean(endpoint), reason);
            return IntrospectionResult.Unavailable(reason);
        }
    }

    // A member named twice ({"active":false,"active":true}) has no one meaning: such an answer is not read (JsonException).
    private static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false };

    private string? ReadSecret()
    {
        if (string.IsNullOrEmpty(_options.IntrospectionClientSecretFile))
        {
            return _options.IntrospectionClientSecret ?? string.Empty;
        }

        try
        {
            return File.ReadAllText(_options.IntrospectionClientSecretFile).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private IntrospectionResult Interpret(string raw, string endpoint, string issuer, HttpStatusCode status, string body)
    {
        if (status != HttpStatusCode.OK)
        {
            // 401/403: this server's own credentials are refused — the caller's token is not at fault.
            Log.IntrospectionFailed(_logger, LogValue.Clean(endpoint), $"HTTP {(int)status}");
            return IntrospectionResult.Unavailable($"HTTP {(int)status}");
        }

        try
        {
            using var json = JsonDocument.Parse(body, StrictJson);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("active", out var active)
                || active.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                Log.IntrospectionFailed(_logger, LogValue.Clean(endpoint), "the answer is not an object with a boolean 'active'");
                return IntrospectionResult.Unavailable("The introspection answer is not an object with a boolean 'active'.");
            }

            if (active.ValueKind == JsonValueKind.False)
            {
                return IntrospectionResult.Inactive("The token is not active.");
            }

            var parsed = ParsedToken.FromIntrospection(raw, root, out var error);
            if (parsed is null)
            {
                Log.IntrospectionFailed(_logger, LogValue.Clean(endpoint), (error ?? "malformed answer").TrimEnd('.'));
                return IntrospectionResult.Unavailable(error ?? "The introspection answer is malformed.");
            }

            if (parsed.Issuer is { } iss && !string.Equals(iss, issuer, StringComparison.Ordinal))
            {
                return IntrospectionResult.Inactive("The token was not issued by the trusted authorization server.");
            }

            if (root.TryGetProperty("token_type", out var type) && type.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            {
                Log.IntrospectionFailed(_logger, LogValue.Clean(endpoint), "the answer's 'token_type' is not a string");
                return IntrospectionResult.Unavailable("The introspection answer's 'token_type' is not a string.");
            }

            if (type.ValueKind == JsonValueKind.String && !IsAccessTokenType(type.GetString()))
            {
                return IntrospectionResult.Inactive("The token is not an access token.");
            }

            if (type.ValueKind == JsonValueKind.String && string.Equals(type.GetString(), "DPoP", StringComparison.OrdinalIgnoreCase)
                && string.IsNullOrEmpty(parsed.ConfirmationThumbprint))
            {
                // A DPoP token whose key the answer does not name cannot be bound to a proof: never accept it as a bearer token.
                return IntrospectionResult.Inactive("The token is DPoP-bound but its key is not known.");
            }

            return IntrospectionResult.Active(parsed);
        }
        catch (JsonException)
        {
            Log.IntrospectionFailed(_logger, LogValue.Clean(endpoint), "the answer is not JSON");
            return IntrospectionResult.Unavailable("The introspection answer is not JSON.");
        }
    }

    // RFC 7662 §2.2 token_type is an RFC 6749 §7.1 access token type: Bearer or DPoP here (N_A and refresh_token are not).
    private static bool IsAccessTokenType(string? type) =>
        string.Equals(type, "Bearer", StringComparison.OrdinalIgnoreCase)
        || string.Equals(type, "DPoP", StringComparison.OrdinalIgnoreCase)
        || string.Equals(type, "access_token", StringComparison.OrdinalIgnoreCase);

    // Keeps the status and the (bounded, buffered) body of the answer as it arrived.
    private sealed class AnswerRecorder(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public HttpStatusCode Status { get; private set; }

        public string? Body { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            Status = response.StatusCode;
            Body = body;
            return response;
        }
    }
}
