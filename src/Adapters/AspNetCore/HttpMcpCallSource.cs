using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace McpAuth.AspNetCore;

/// <summary>
/// The calls of an MCP request, read from its body when a stage first asks (after the token passed the stages that do
/// not need the body). The body is read once into one pooled buffer, bounded by <c>MaxBodyBytes</c>, decoded by
/// <see cref="McpJsonRpcDecoder"/>, and then handed to the MCP endpoint as exactly those bytes: a body in another
/// charset is transcoded to UTF-8 the way ASP.NET Core's <c>ReadFromJsonAsync</c> would, and the endpoint then reads the
/// UTF-8 bytes that were authorized (its Content-Type says so). So the body that was authorized is the body that runs.
/// </summary>
internal sealed class HttpMcpCallSource(HttpContext context, long maxBodyBytes) : IMcpCallSource
{
    public async ValueTask<McpCallSet> ReadCallsAsync(CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method))
        {
            return McpCallSet.None; // GET (event stream) and DELETE (session end) carry no JSON-RPC call
        }

        if (JsonEncoding(request.ContentType, out var encoding) is { } error)
        {
            return Refused(AuthenticationErrorCode.InvalidRequest, error);
        }

        if (request.ContentLength > maxBodyBytes)
        {
            return TooLarge();
        }

        byte[]? buffer = null;
        var pooled = true;
        try
        {
            int length;
            (buffer, length) = await ReadAsync(request, cancellationToken).ConfigureAwait(false);
            if (length > maxBodyBytes)
            {
                return TooLarge();
            }

            if (encoding.CodePage != Encoding.UTF8.CodePage)
            {
                var utf8 = Encoding.Convert(encoding, Encoding.UTF8, buffer, 0, length);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = utf8;
                pooled = false;
                length = utf8.Length;
                request.ContentType = "application/json; charset=utf-8";
            }

            var calls = McpJsonRpcDecoder.Decode(buffer.AsMemory(0, length), Header(request, "Mcp-Method"), Header(request, "Mcp-Name"));
            request.Body = new MemoryStream(buffer, 0, length, writable: false);
            request.ContentLength = length;
            if (pooled)
            {
                context.Response.RegisterForDispose(new PooledBuffer(buffer)); // returned when the request ends
            }

            buffer = null;
            return calls;
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge();
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status408RequestTimeout)
        {
            return Refused(AuthenticationErrorCode.RequestTimeout, "The request body arrived too slowly.");
        }
        catch (BadHttpRequestException)
        {
            return Refused(AuthenticationErrorCode.InvalidRequest, "The request body could not be read.");
        }
        finally
        {
            if (buffer is not null && pooled)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    // Reads the whole body into one pooled buffer: sized from Content-Length when sent, else grown as data arrives.
    // Stops one byte past the limit, so a body over it is detected without reading it all.
    private async Task<(byte[] Buffer, int Length)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var limit = (int)Math.Min(maxBodyBytes + 1, Array.MaxLength);
        var initial = request.ContentLength is { } declared ? Math.Min(declared + 1, 1024 * 1024) : 4096; // a declared length is a hint, not a promise
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(initial, limit));
        var length = 0;
        try
        {
            while (length < limit)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, limit) - length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    // ASP.NET Core's rule for JSON bodies: application/json or any +json type; its charset, else UTF-8.
    private static string? JsonEncoding(string? contentType, out Encoding encoding)
    {
        encoding = Encoding.UTF8;
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            || !(mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                 || mediaType.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase)))
        {
            return "The MCP request body must be JSON (Content-Type: application/json).";
        }

        var charset = mediaType.Charset;
        if (!charset.HasValue || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        try
        {
            encoding = Encoding.GetEncoding(charset.Value!.Trim('"'));
            return null;
        }
        catch (ArgumentException)
        {
            return "The MCP request body's charset is not a known encoding.";
        }
    }

    private static string? Header(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var values) ? values.ToString() : null;

    private McpCallSet TooLarge() =>
        Refused(AuthenticationErrorCode.RequestTooLarge, $"The request body is larger than {maxBodyBytes} bytes.");

    private static McpCallSet Refused(AuthenticationErrorCode code, string description) =>
        McpCallSet.Refused(code, description, McpJsonRpcDecoder.Source);

    private sealed class PooledBuffer(byte[] buffer) : IDisposable
    {
        public void Dispose() => ArrayPool<byte>.Shared.Return(buffer);
    }
}
