using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace McpAuth.AspNetCore;

/// <summary>An HTTP answer to a refused request.</summary>
/// <param name="Status">The status code.</param>
/// <param name="WwwAuthenticate">The <c>WWW-Authenticate</c> values (one challenge per scheme), when there are any.</param>
/// <param name="Error">The body's <c>error</c>.</param>
/// <param name="Description">The body's <c>error_description</c>.</param>
/// <param name="RetryAfterSeconds">The <c>Retry-After</c> value, for 503.</param>
/// <param name="DpopNonce">The <c>DPoP-Nonce</c> value (RFC 9449 §8), when the server requires nonces.</param>
internal sealed record Challenge(int Status, string[]? WwwAuthenticate, string Error, string Description, int? RetryAfterSeconds = null, string? DpopNonce = null)
{
    /// <summary>Writes the answer: status, headers and a small JSON body (no token, no stack trace).</summary>
    public Task WriteAsync(HttpResponse response)
    {
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        response.StatusCode = Status;
        if (WwwAuthenticate is { Length: > 0 })
        {
            response.Headers.WWWAuthenticate = WwwAuthenticate;
        }

        if (DpopNonce is not null)
        {
            response.Headers["DPoP-Nonce"] = DpopNonce;
        }

        if (RetryAfterSeconds is { } retry)
        {
            response.Headers.RetryAfter = retry.ToString(CultureInfo.InvariantCulture);
        }

        response.Headers.CacheControl = "no-store";
        response.ContentType = "application/json";
        return response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = Error, ["error_description"] = Description }));
    }
}
