using System.Text;

namespace McpAuth.OpenIdConnect.Exchange;

/// <summary>
/// What Duende.IdentityModel sends its token requests through: the issuer's <see cref="HttpClient"/> with the body read
/// as it streams in and refused past a bound (<see cref="InvalidDataException"/>), so a huge or endless answer costs at
/// most that many bytes and the exchange's timeout covers the body too.
/// </summary>
internal sealed class BoundedResponseHandler(HttpClient client, int maxBytes) : HttpMessageHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var body = await BoundedContent.ReadStringAsync(response.Content, maxBytes, cancellationToken).ConfigureAwait(false);
        var copy = new HttpResponseMessage(response.StatusCode)
        {
            ReasonPhrase = response.ReasonPhrase,
            Version = response.Version,
            RequestMessage = request,
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)),
        };
        foreach (var header in response.Headers)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        foreach (var header in response.Content.Headers.Where(h => !h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)))
        {
            copy.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return copy;
    }
}
