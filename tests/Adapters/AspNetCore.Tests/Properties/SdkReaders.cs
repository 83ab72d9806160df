using System.Runtime.CompilerServices;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpAuth.AspNetCore.Tests.Properties;

/// <summary>The tool calls the MCP SDK would run for a body: the index of each message that is a <c>tools/call</c>, and its tool name.</summary>
/// <param name="ToolCalls">(message index in the body, tool name) for every message the SDK would dispatch as <c>tools/call</c>.</param>
public sealed record SdkView(IReadOnlyList<(int Index, string? Name)> ToolCalls)
{
    public static readonly SdkView Nothing = new([]);

    public override string ToString() => ToolCalls.Count == 0 ? "no tools/call" : string.Join(", ", ToolCalls.Select(c => $"#{c.Index} tools/call {PropertyRun.Show(c.Name)}"));
}

/// <summary>
/// A small reader that decodes a body the way ModelContextProtocol 2.4's <c>JsonRpcMessage.Converter</c> and
/// <c>CallToolRequestParams</c> contract do, written from their source: one leading UTF-8 BOM skipped (the stream
/// deserializer does it); message member names compared case-sensitively, the last occurrence winning (<c>method</c>,
/// <c>params</c>, <c>jsonrpc</c>, <c>id</c>); <c>jsonrpc</c> must be "2.0"; an <c>id</c>, when present, is a string or an
/// integer; params as <c>CallToolRequestParams</c> (member names case-insensitive, JsonSerializerDefaults.Web):
/// <c>name</c> required, the last occurrence winning, and the typed members type-checked. A batch (array) is read
/// message by message, which is looser than the SDK (it refuses arrays), so the comparison is stricter on McpAuth. Any
/// exception means the SDK refuses the message. <c>ReferenceReader_AgreesWithTheSdk</c> keeps it honest.
/// </summary>
public static class ReferenceSdkReader
{
    private static readonly JsonReaderOptions Options = new() { MaxDepth = 64 };

    public static SdkView Read(ReadOnlySpan<byte> body)
    {
        if (body.StartsWith("\uFEFF"u8))
        {
            body = body[3..];
        }

        var calls = new List<(int, string?)>();
        try
        {
            var reader = new Utf8JsonReader(body, Options);
            if (!reader.Read())
            {
                return SdkView.Nothing;
            }

            if (reader.TokenType == JsonTokenType.StartArray)
            {
                // Each element stands alone: one that fails does not stop the others.
                var index = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    var start = reader.TokenStartIndex;
                    reader.Skip();
                    var element = body[(int)start..(int)(reader.BytesConsumed)];
                    if (TryMessage(element) is { } name)
                    {
                        calls.Add((index, name.Value));
                    }

                    index++;
                }

                EnsureEnd(ref reader);
                return new SdkView(calls);
            }

            // A single message: the whole body is that one value.
            return TryMessage(body) is { } single ? new SdkView([(0, single.Value)]) : SdkView.Nothing;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException or FormatException)
        {
            return new SdkView(calls);
        }
    }

    /// <summary>For a message the SDK would dispatch as tools/call, its tool name (boxed so that a null name is a result).</summary>
    private static StrongBox<string?>? TryMessage(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, Options);
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            string? jsonrpc = null, method = null;
            var hasMethod = false;
            byte[]? parameters = null;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var member = reader.GetString();
                reader.Read();
                switch (member)
                {
                    case "jsonrpc":
                        jsonrpc = reader.GetString();
                        break;
                    case "id":
                        if (reader.TokenType == JsonTokenType.String)
                        {
                            _ = reader.GetString();
                        }
                        else if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out _))
                        {
                            return null; // RequestId: a string or an integer (null is refused too)
                        }

                        break;
                    case "method":
                        method = reader.GetString();
                        hasMethod = method is not null;
                        break;
                    case "params":
                        {
                            if (reader.TokenType == JsonTokenType.String)
                            {
                                _ = reader.GetString(); // a string JsonNode is decoded at once
                            }

                            var start = reader.TokenStartIndex;
                            reader.Skip();
                            parameters = json[(int)start..(int)reader.BytesConsumed].ToArray();
                            break;
                        }

                    // "error" and "result" are typed or decoded by the SDK; the generators do not produce them.
                    default:
                        reader.Skip();
                        break;
                }
            }

            EnsureEnd(ref reader);

            // A notification (no id) named tools/call is counted too: looser than the SDK, so stricter on McpAuth.
            if (jsonrpc != "2.0" || !hasMethod || method != "tools/call" || parameters is null)
            {
                return null;
            }

            return ToolName(parameters);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException or FormatException)
        {
            return null;
        }
    }

    // CallToolRequestParams, member names compared case-insensitively (OrdinalIgnoreCase): "name" a required string (the
    // last one wins; bytes that are not UTF-8 read as U+FFFD; null passes the contract and then no tool runs);
    // "arguments", "_meta" and "inputResponses" objects or null, "requestState" a string or null, each occurrence
    // checked; other members ignored.
    private static readonly string[] ParamsMembers = ["name", "arguments", "_meta", "inputResponses", "requestState"];

    private static StrongBox<string?>? ToolName(byte[] parameters)
    {
        // The SDK holds params as a JsonNode and reads the contract out of it: every escaped string in it, names
        // included, is unescaped on the way, and a lone surrogate escape anywhere in params fails the call (raw bytes
        // that are not UTF-8 pass through).
        var strings = new Utf8JsonReader(parameters, Options);
        while (strings.Read())
        {
            if (strings.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && strings.ValueIsEscaped && HasLoneSurrogateEscape(strings.ValueSpan))
            {
                return null;
            }
        }

        var reader = new Utf8JsonReader(parameters, Options);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        StrongBox<string?>? name = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var member = NameOf(ref reader);
            member = ParamsMembers.FirstOrDefault(m => m.Equals(member, StringComparison.OrdinalIgnoreCase)) ?? member;
            reader.Read();
            switch (member)
            {
                case "name" or "requestState":
                    var text = reader.TokenType switch
                    {
                        JsonTokenType.String => Lenient(ref reader),
                        JsonTokenType.Null => null,
                        _ => throw new JsonException($"{member} is not a string"),
                    };
                    if (member == "name")
                    {
                        name = new StrongBox<string?>(text);
                    }

                    break;
                case "arguments" or "_meta" or "inputResponses":
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        reader.Skip();
                    }
                    else if (reader.TokenType != JsonTokenType.Null)
                    {
                        throw new JsonException($"{member} is not an object");
                    }

                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return name;
    }

    // A \uD800-\uDBFF escape not followed by a \uDC00-\uDFFF one, or a low one not preceded by a high one.
    private static bool HasLoneSurrogateEscape(ReadOnlySpan<byte> raw)
    {
        var pendingHigh = false;
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] != (byte)'\\')
            {
                if (pendingHigh)
                {
                    return true;
                }

                continue;
            }

            if (raw[i + 1] != (byte)'u')
            {
                if (pendingHigh)
                {
                    return true;
                }

                i++;
                continue;
            }

            var unit = int.Parse(System.Text.Encoding.ASCII.GetString(raw.Slice(i + 2, 4)), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
            i += 5;
            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                if (pendingHigh)
                {
                    return true;
                }

                pendingHigh = true;
            }
            else if (unit is >= 0xDC00 and <= 0xDFFF)
            {
                if (!pendingHigh)
                {
                    return true;
                }

                pendingHigh = false;
            }
            else if (pendingHigh)
            {
                return true;
            }
        }

        return pendingHigh;
    }

    // A string value as the JsonNode path reads it: bytes that are not UTF-8 become U+FFFD.
    private static string Lenient(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            var repaired = System.Text.Encoding.UTF8.GetBytes("\"" + System.Text.Encoding.UTF8.GetString(reader.ValueSpan) + "\"");
            var again = new Utf8JsonReader(repaired);
            again.Read();
            return again.GetString()!;
        }
    }

    // A member name as the contract's lookup sees it: one holding bytes that are not UTF-8 matches no member (and does
    // not fail; lone surrogate escapes were refused before).
    private static string NameOf(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            return string.Empty;
        }
    }

    private static void EnsureEnd(ref Utf8JsonReader reader)
    {
        if (reader.Read())
        {
            throw new JsonException("trailing content");
        }
    }
}

/// <summary>
/// The MCP SDK itself (ModelContextProtocol.Core 2.4.0): <see cref="JsonRpcMessage"/> deserialized with
/// <see cref="McpJsonUtilities.DefaultOptions"/> (after one BOM, as the stream reader skips it), then, for
/// <c>tools/call</c>, its params as <see cref="CallToolRequestParams"/>. Arrays are read element by element (the SDK
/// refuses them; reading them is the stricter comparison).
/// </summary>
public static class RealSdkReader
{
    private static readonly JsonSerializerOptions Options = McpJsonUtilities.DefaultOptions;

    public static SdkView Read(ReadOnlySpan<byte> body)
    {
        if (body.StartsWith("\uFEFF"u8))
        {
            body = body[3..];
        }

        var calls = new List<(int, string?)>();
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
            if (reader.Read() && reader.TokenType == JsonTokenType.StartArray)
            {
                var index = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    var start = reader.TokenStartIndex;
                    reader.Skip();
                    if (ToolCall(body[(int)start..(int)reader.BytesConsumed]) is { } name)
                    {
                        calls.Add((index, name.Value));
                    }

                    index++;
                }

                return new SdkView(calls);
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return new SdkView(calls);
        }

        return ToolCall(body) is { } single ? new SdkView([(0, single.Value)]) : SdkView.Nothing;
    }

    private static StrongBox<string?>? ToolCall(ReadOnlySpan<byte> json)
    {
        try
        {
            var message = JsonSerializer.Deserialize(json, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<JsonRpcMessage>)Options.GetTypeInfo(typeof(JsonRpcMessage)));
            var (method, parameters) = message switch
            {
                JsonRpcRequest r => (r.Method, r.Params),
                JsonRpcNotification n => (n.Method, n.Params),
                _ => (null, null),
            };
            if (method != RequestMethods.ToolsCall)
            {
                return null;
            }

            var call = JsonSerializer.Deserialize(parameters, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<CallToolRequestParams>)Options.GetTypeInfo(typeof(CallToolRequestParams)));
            return call is null ? null : new StrongBox<string?>(call.Name);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException or NotSupportedException or FormatException)
        {
            return null;
        }
    }
}
