using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace McpAuth.Host;

/// <summary>What the host read from an MCP request body: the JSON-RPC calls and their distinct targets.</summary>
public sealed class McpRequestInfo
{
    /// <summary>No body, or one that is not JSON-RPC: the default target, no calls.</summary>
    public static readonly McpRequestInfo Empty = new([], []);

    internal McpRequestInfo(IReadOnlyList<string> targets, IReadOnlyList<McpCall> calls)
    {
        Targets = targets;
        Calls = calls;
    }

    /// <summary>Distinct targets (<c>params.arguments.context</c>); empty = the default one.</summary>
    public IReadOnlyList<string> Targets { get; }

    /// <summary>The calls, in body order.</summary>
    public IReadOnlyList<McpCall> Calls { get; }

    /// <summary>Parses a JSON-RPC message or batch. Anything unparsable means the default target.</summary>
    public static McpRequestInfo Parse(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return Empty;
        }

        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
            using var json = JsonDocument.ParseValue(ref reader);
            var root = json.RootElement;
            var calls = new List<McpCall>();
            if (root.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in root.EnumerateArray())
                {
                    Add(item, calls);
                }
            }
            else
            {
                Add(root, calls);
            }

            var targets = calls.Select(c => c.Target).Distinct(StringComparer.Ordinal).ToArray();
            return new McpRequestInfo(targets, calls);
        }
        catch (JsonException)
        {
            return Empty;
        }
    }

    private static void Add(JsonElement message, List<McpCall> calls)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var method = message.TryGetProperty("method", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : string.Empty;
        string? tool = null;
        var target = string.Empty;
        if (message.TryGetProperty("params", out var p) && p.ValueKind == JsonValueKind.Object)
        {
            if (p.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
            {
                tool = n.GetString();
            }

            if (p.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.Object
                && a.TryGetProperty("context", out var c) && c.ValueKind == JsonValueKind.String)
            {
                target = c.GetString()!;
            }
        }

        calls.Add(new McpCall(method, method == Behaviors.ToolScopesBehavior.ToolsCall ? tool : null, target));
    }
}

/// <summary>
/// Reads the body of <c>POST /mcp</c> once, with a limit (larger → 413 before any parsing), parses the JSON-RPC calls
/// into <see cref="McpRequestInfo"/> (a request feature) and leaves the body readable for the MCP endpoint. When no
/// stage needs the calls (<paramref name="parse"/> false: no TokenReview, no per-tool scopes), it only enforces the
/// limit and the body is not buffered at all.
/// </summary>
internal sealed class McpBodyReaderMiddleware(RequestDelegate next, long maxBodyBytes, bool parse)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            await next(context);
            return;
        }

        if (context.Request.ContentLength > maxBodyBytes)
        {
            await TooLarge(context);
            return;
        }

        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = maxBodyBytes;
        }

        if (!parse)
        {
            await next(context);
            return;
        }

        context.Request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: maxBodyBytes);
        using var buffer = new MemoryStream();
        try
        {
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or BadHttpRequestException)
        {
            await TooLarge(context);
            return;
        }

        if (buffer.Length > maxBodyBytes)
        {
            await TooLarge(context);
            return;
        }

        context.Request.Body.Position = 0;
        context.Features.Set(McpRequestInfo.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)));
        await next(context);
    }

    private Task TooLarge(HttpContext context) =>
        new Challenge(StatusCodes.Status413PayloadTooLarge, null, "request_too_large", $"The request body is larger than {maxBodyBytes} bytes.").WriteAsync(context.Response);
}
