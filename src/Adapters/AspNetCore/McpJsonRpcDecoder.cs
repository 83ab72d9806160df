using System.Text;
using System.Text.Json;

namespace McpAuth.AspNetCore;

/// <summary>
/// Decodes an MCP request body into <see cref="McpCall"/>s the way the MCP endpoint will, or refuses it. Stricter than
/// the MCP SDK wherever they could differ, never looser: member names match case-insensitively and a name that appears
/// twice (in any case) is refused, since a reader that takes the first and one that takes the last would then disagree
/// on which tool runs; a member the calls depend on that has the wrong JSON type is refused instead of being read as
/// absent; a string that cannot be decoded (invalid UTF-8, a lone surrogate escape) is refused. The caller hands the
/// endpoint exactly the bytes decoded here.
/// </summary>
internal static class McpJsonRpcDecoder
{
    /// <summary>The component name in refusals.</summary>
    public const string Source = "McpBody";

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64 };

    /// <summary>Decodes a UTF-8 body (one leading BOM is skipped, as System.Text.Json's stream reader does).</summary>
    /// <param name="utf8">The body.</param>
    /// <param name="methodHeader">The <c>Mcp-Method</c> header (MCP 2026-07-28), when sent: it must agree with the body.</param>
    /// <param name="nameHeader">The <c>Mcp-Name</c> header, when sent: for <c>tools/call</c> it must agree with the tool name.</param>
    public static McpCallSet Decode(ReadOnlyMemory<byte> utf8, string? methodHeader = null, string? nameHeader = null)
    {
        if (utf8.Span.StartsWith("\uFEFF"u8))
        {
            utf8 = utf8[3..];
        }

        if (utf8.IsEmpty)
        {
            return Refused("The MCP request body is empty.");
        }

        if (!System.Text.Unicode.Utf8.IsValid(utf8.Span) || !EscapesDecode(utf8.Span))
        {
            return Refused("The MCP request body holds a string that cannot be decoded.");
        }

        List<McpCall> calls;
        try
        {
            using var json = JsonDocument.Parse(utf8, Options);
            var root = json.RootElement;
            calls = new List<McpCall>(root.ValueKind == JsonValueKind.Array ? root.GetArrayLength() : 1);
            if (root.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in root.EnumerateArray())
                {
                    if (Read(item) is not { } call)
                    {
                        return Refused("The MCP request body is not a valid JSON-RPC message.");
                    }

                    calls.Add(call);
                }
            }
            else if (Read(root) is { } call)
            {
                calls.Add(call);
            }
            else
            {
                return Refused("The MCP request body is not a valid JSON-RPC message.");
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException or FormatException)
        {
            return Refused("The MCP request body is not valid JSON, or holds a string that cannot be decoded.");
        }

        if (calls.Count == 0)
        {
            return Refused("The MCP request body is an empty batch.");
        }

        return HeadersAgree(calls, methodHeader, nameHeader) ? McpCallSet.Of(calls) : Refused("The Mcp-Method or Mcp-Name header does not match the body.");
    }

    // One JSON-RPC message; null when it is not an object or a member the calls depend on is ambiguous or mistyped.
    private static McpCall? Read(JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object || !TryMembers(message, out var members))
        {
            return null;
        }

        var method = string.Empty;
        if (members.TryGetValue("method", out var m))
        {
            switch (m.ValueKind)
            {
                case JsonValueKind.String:
                    method = m.GetString()!;
                    break;
                case JsonValueKind.Null:
                    break;
                default:
                    return null;
            }
        }

        string? tool = null;
        var target = string.Empty;
        if (members.TryGetValue("params", out var p) && p.ValueKind == JsonValueKind.Object)
        {
            if (!TryMembers(p, out var parameters))
            {
                return null;
            }

            if (parameters.TryGetValue("name", out var n))
            {
                if (n.ValueKind == JsonValueKind.String)
                {
                    tool = n.GetString();
                }
                else if (n.ValueKind != JsonValueKind.Null)
                {
                    return null;
                }
            }

            if (parameters.TryGetValue("arguments", out var a) && a.ValueKind == JsonValueKind.Object)
            {
                if (!TryMembers(a, out var arguments))
                {
                    return null;
                }

                if (arguments.TryGetValue("context", out var c))
                {
                    // The SDK binds tool arguments by exact name: "Context" would be no target for the tool, which then runs on
                    // the default cluster, while a case-insensitive read would review the token on "Context"'s cluster.
                    if (!HasExactMember(a, "context"))
                    {
                        return null;
                    }

                    if (c.ValueKind == JsonValueKind.String)
                    {
                        target = c.GetString()!;
                    }
                    else if (c.ValueKind != JsonValueKind.Null)
                    {
                        return null;
                    }
                }
            }
        }

        var call = new McpCall(method, null, target);
        return call.IsToolCall ? call with { ToolName = tool } : call;
    }

    // Every escaped string and member name must decode (no lone surrogate escape anywhere), as it will have to when the
    // endpoint reads it. Unescaped text was checked as UTF-8 above; structure errors are left to the parser.
    private static bool EscapesDecode(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = Options.MaxDepth });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
                {
                    _ = reader.GetString();
                }
            }
        }
        catch (JsonException)
        {
            return true; // not JSON at all: the parser refuses it with its own message
        }
        catch (InvalidOperationException)
        {
            return false;
        }

        return true;
    }

    private static bool HasExactMember(JsonElement element, string name)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (property.NameEquals(name))
            {
                return true;
            }
        }

        return false;
    }

    // The members of an object by name, case-insensitively; false when a name appears twice.
    private static bool TryMembers(JsonElement element, out Dictionary<string, JsonElement> members)
    {
        members = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in element.EnumerateObject())
        {
            if (!members.TryAdd(property.Name, property.Value))
            {
                return false;
            }
        }

        return true;
    }

    private static bool HeadersAgree(List<McpCall> calls, string? methodHeader, string? nameHeader)
    {
        if (methodHeader is not null && !calls.TrueForAll(c => string.Equals(c.Method, methodHeader.Trim(), StringComparison.Ordinal)))
        {
            return false;
        }

        if (nameHeader is null)
        {
            return true;
        }

        var name = DecodeHeaderValue(nameHeader.Trim());
        return name is not null && calls.TrueForAll(c => !c.IsToolCall || string.Equals(c.ToolName, name, StringComparison.Ordinal));
    }

    // SEP-2243 header values: plain, or "=?base64?<base64 of UTF-8>?=" for values that are not plain ASCII.
    internal static string? DecodeHeaderValue(string value)
    {
        const string prefix = "=?base64?", suffix = "?=";
        if (!value.StartsWith(prefix, StringComparison.Ordinal) || !value.EndsWith(suffix, StringComparison.Ordinal) || value.Length < prefix.Length + suffix.Length)
        {
            return value;
        }

        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Convert.FromBase64String(value[prefix.Length..^suffix.Length]));
        }
        catch (Exception ex) when (ex is FormatException or DecoderFallbackException)
        {
            return null;
        }
    }

    private static McpCallSet Refused(string description) => McpCallSet.Refused(AuthenticationErrorCode.InvalidRequest, description, Source);
}
