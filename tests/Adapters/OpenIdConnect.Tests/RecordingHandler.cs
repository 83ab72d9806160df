using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;

namespace McpAuth.OpenIdConnect.Tests;

/// <summary>
/// A handler in the issuer/STS <see cref="HttpClient"/> (<see cref="IssuerMetadataStore.HttpClientName"/>): records
/// every request the adapters send, whatever the host, so a test can prove that nothing was sent. Requests to an
/// RFC 2606 <c>.invalid</c> host never leave the process: they get an RFC 8693 answer from here.
/// </summary>
internal sealed class RecordingHandler(ConcurrentQueue<Uri> sent) : DelegatingHandler
{
    public static object ExchangeResponse(string tag) => new
    {
        access_token = "opaque-" + tag,
        issued_token_type = "urn:ietf:params:oauth:token-type:access_token",
        token_type = "N_A",
        expires_in = 300,
    };

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        sent.Enqueue(request.RequestUri!);
        if (request.RequestUri!.Host.EndsWith(".invalid", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = JsonContent.Create(ExchangeResponse("from-" + request.RequestUri.Host)) });
        }

        return base.SendAsync(request, cancellationToken);
    }
}
