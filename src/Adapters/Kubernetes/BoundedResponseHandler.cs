using System.Net.Http.Headers;

namespace McpAuth.Kubernetes;

/// <summary>
/// Reads every API-server response body inside the send, up to a size limit: the body then counts against the call's
/// timeout (KubernetesClient would otherwise read it after the send, outside any deadline) and an API server (or
/// something in front of it) answering with an endless body costs at most <see cref="MaxBytes"/>.
/// </summary>
internal sealed class BoundedResponseHandler : DelegatingHandler
{
    /// <summary>TokenReview and SelfSubjectReview answers are a few KiB; 1 MiB leaves room for large group lists.</summary>
    public const int MaxBytes = 1024 * 1024;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        try
        {
            var content = response.Content;
            if (content.Headers.ContentLength is > MaxBytes)
            {
                throw new HttpRequestException($"The API server's response is larger than {MaxBytes} bytes.");
            }

            await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxBytes)
                {
                    throw new HttpRequestException($"The API server's response is larger than {MaxBytes} bytes.");
                }

                buffer.Write(chunk, 0, read);
            }

            var bounded = new ByteArrayContent(buffer.GetBuffer(), 0, (int)buffer.Length);
            foreach (var header in content.Headers)
            {
                if (!string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    bounded.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }
            }

            content.Dispose();
            response.Content = bounded;
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }
}
