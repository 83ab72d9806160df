using System.Net;
using System.Text.Json;
using Duende.IdentityModel.Client;
using McpAuth.Diagnostics;
using McpAuth.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.OpenIdConnect.Exchange;

/// <summary>
/// The part every exchange strategy shares: the token endpoint (<c>StsTokenUrl</c>, else the issuer's discovered
/// <c>token_endpoint</c>) under the outbound URL rule, client authentication, one timeout around the whole call (body
/// included), a 64 KiB bound on the answer, and its reading. 400/401 (and what the strategy adds) with an OAuth error →
/// refused, except <c>temporarily_unavailable</c> and <c>server_error</c>; anything else that is not a 200 with a JSON
/// object holding <c>access_token</c> and a positive <c>expires_in</c> → unavailable. Transport failures never escape as
/// exceptions.
/// </summary>
internal sealed class TokenEndpoint(
    IHttpClientFactory httpClientFactory, IssuerMetadataStore issuer, TokenExchangeOptions options, OutboundUrlPolicy urls,
    TokenServiceCredentials credentials, TimeProvider time, ILogger logger)
{
    /// <summary>The largest answer read from the token service.</summary>
    public const int MaxResponseBytes = 64 * 1024;

    public TokenServiceCredentials Credentials => credentials;

    /// <summary>The endpoint of a strategy adapter, from the adapters' common constructor arguments.</summary>
    public static TokenEndpoint For(
        IHttpClientFactory httpClientFactory, IssuerMetadataStore issuer, IOptions<McpAuthOptions> mcpAuth, IOptions<TokenExchangeOptions> options,
        OutboundUrlPolicy urls, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(mcpAuth);
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        return new TokenEndpoint(httpClientFactory, issuer, o, urls, new TokenServiceCredentials(o, mcpAuth.Value.StsClientId, time), time, logger);
    }

    public async ValueTask<TokenExchangeResult> ExchangeAsync(TokenServiceDialect dialect, string subjectToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subjectToken);
        var endpoint = options.StsTokenUrl;
        if (string.IsNullOrEmpty(endpoint))
        {
            var metadata = await issuer.GetAsync(cancellationToken).ConfigureAwait(false);
            endpoint = metadata?.TokenEndpoint;
            if (string.IsNullOrEmpty(endpoint))
            {
                return TokenExchangeResult.Unavailable("The token endpoint is not known (issuer unreachable or no token_endpoint).");
            }
        }

        if (!urls.Allows(endpoint))
        {
            Log.ExchangeFailed(logger, LogValue.Clean(endpoint), OutboundUrlPolicy.RefusalReason);
            return TokenExchangeResult.Unavailable("The token endpoint is not an allowed URL (https, or http on loopback).");
        }

        using var request = dialect.Build(endpoint, subjectToken, out var problem);
        problem ??= request is null ? "no request" : credentials.Apply(request, endpoint, dialect.ClientIdWithKeyAssertion, dialect.ClientIdWithBasic);
        if (problem is not null)
        {
            ExchangeLog.CredentialUnusable(logger, dialect.Name, problem);
            return TokenExchangeResult.Unavailable("The token exchange is not possible now: " + problem + ".");
        }

        request!.Address = endpoint;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.StsTimeout);
        try
        {
            using var invoker = new HttpMessageInvoker(
                new BoundedResponseHandler(httpClientFactory.CreateClient(IssuerMetadataStore.HttpClientName), MaxResponseBytes), disposeHandler: true);
            using var response = await dialect.SendAsync(invoker, request, timeout.Token).ConfigureAwait(false);
            if (response.HttpResponse is null || response.Raw is null)
            {
                // Duende.IdentityModel turns a transport failure into a response holding the exception.
                var reason = response.Exception?.GetType().Name ?? "no response";
                Log.ExchangeFailed(logger, LogValue.Clean(endpoint), reason);
                return TokenExchangeResult.Unavailable(reason);
            }

            return Interpret(dialect, endpoint, response.HttpStatusCode, response.Raw);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or InvalidDataException && !cancellationToken.IsCancellationRequested)
        {
            var reason = ex is OperationCanceledException ? $"timed out after {options.StsTimeout.TotalSeconds:0.#} s" : ex.GetType().Name;
            Log.ExchangeFailed(logger, LogValue.Clean(endpoint), reason);
            return TokenExchangeResult.Unavailable(reason);
        }
    }

    private TokenExchangeResult Interpret(TokenServiceDialect dialect, string endpoint, HttpStatusCode status, string body)
    {
        if (dialect.IsRefusal(status))
        {
            return Refusal(dialect, endpoint, status, body);
        }

        if (status != HttpStatusCode.OK)
        {
            Log.ExchangeFailed(logger, LogValue.Clean(endpoint), $"HTTP {(int)status}");
            return TokenExchangeResult.Unavailable($"HTTP {(int)status}");
        }

        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                Log.ExchangeFailed(logger, LogValue.Clean(endpoint), "the response is not a JSON object");
                return TokenExchangeResult.Unavailable("The response is not a JSON object.");
            }

            var token = root.TryGetProperty("access_token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            var expiresIn = root.TryGetProperty("expires_in", out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var s) ? s : 0;
            if (string.IsNullOrEmpty(token))
            {
                Log.ExchangeFailed(logger, LogValue.Clean(endpoint), "the response has no access_token");
                return TokenExchangeResult.Unavailable("The response has no access_token.");
            }

            if (expiresIn <= 0)
            {
                Log.ExchangeFailed(logger, LogValue.Clean(endpoint), "the response's expires_in is not positive");
                return TokenExchangeResult.Unavailable("The response's expires_in is not positive.");
            }

            return TokenExchangeResult.Exchanged(token, time.GetUtcNow().AddSeconds(Math.Min(expiresIn, 366L * 24 * 3600)), ActorChain.Read(token));
        }
        catch (JsonException)
        {
            Log.ExchangeFailed(logger, LogValue.Clean(endpoint), "the response is not JSON");
            return TokenExchangeResult.Unavailable("The response is not JSON.");
        }
    }

    private TokenExchangeResult Refusal(TokenServiceDialect dialect, string endpoint, HttpStatusCode status, string body)
    {
        string? error = null;
        string? details = null;
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object)
            {
                error = json.RootElement.TryGetProperty("error", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                details = dialect.Details(json.RootElement);
            }
        }
        catch (JsonException)
        {
        }

        if (error is "temporarily_unavailable" or "server_error")
        {
            // The token service says it is the one failing: not the caller's fault, and worth a retry.
            Log.ExchangeFailed(logger, LogValue.Clean(endpoint), $"HTTP {(int)status}, error '{error}'" + (details is null ? "" : $" ({LogValue.Clean(details)})"));
            return TokenExchangeResult.Unavailable($"The token service answered {error}.");
        }

        if (details is null)
        {
            Log.ExchangeRefused(logger, LogValue.Clean(endpoint), (int)status, LogValue.Clean(error, 64));
        }
        else
        {
            ExchangeLog.RefusedWithDetails(logger, dialect.Name, LogValue.Clean(endpoint), (int)status, LogValue.Clean(error, 64), LogValue.Clean(details));
        }

        return TokenExchangeResult.Refused(error is { Length: > 0 } && IsErrorCode(error)
            ? $"The token exchange service refused the token ({error})."
            : "The token exchange service refused the token.");
    }

    // RFC 6749 §5.2 error codes are %x20-21 / %x23-5B / %x5D-7E; keep only short, plain ones for the client.
    private static bool IsErrorCode(string error) => error.Length <= 64 && error.All(c => c is (>= 'a' and <= 'z') or '_' or '-');
}
