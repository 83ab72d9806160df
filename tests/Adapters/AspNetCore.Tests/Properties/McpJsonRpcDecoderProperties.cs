using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Xunit.Abstractions;

namespace McpAuth.AspNetCore.Tests.Properties;

/// <summary>
/// Properties of the JSON-RPC body reader <see cref="McpJsonRpcDecoder.Decode"/>: it never throws, it reads or refuses,
/// and it is never looser than the MCP SDK, compared with a reference reader written from the SDK's source and with
/// the SDK (ModelContextProtocol 2.4.0) itself; a fourth property checks that the reference reader and the SDK agree.
/// </summary>
[Trait("Category", "Property")]
public sealed class McpJsonRpcDecoderProperties(ITestOutputHelper output)
{
    private const int Cases = 500;

    /// <summary>A body and the Mcp-Method / Mcp-Name headers sent with it.</summary>
    public sealed record Body(byte[] Bytes, string? MethodHeader, string? NameHeader)
    {
        public override string ToString() =>
            $"body {Render(Bytes)}, Mcp-Method {PropertyRun.Show(MethodHeader)}, Mcp-Name {PropertyRun.Show(NameHeader)}";
    }

    private static readonly Arbitrary<Body> Bodies = Arb.From(
        from bytes in Gen.Frequency(
            (1, ArbMap.Default.GeneratorFor<byte[]>()),
            (1, Gen.Elements("{}[]\":,\\ u0123456789abcdefnrtl.-+eE/\u00e9\uFEFF".ToCharArray()).ArrayOf().Select(c => Encoding.UTF8.GetBytes(new string(c)))),
            (12, JsonRpcGen.Document.SelectMany(JsonRpcGen.Encode)))
        from method in Gen.Frequency((12, Gen.Constant<string?>(null)), (2, Gen.Constant<string?>("tools/call")), (1, TextGen.String.Select(s => (string?)s)))
        from name in Gen.Frequency((12, Gen.Constant<string?>(null)), (2, JsonRpcGen.ToolName.SelectMany(JsonRpcGen.NameHeader)), (1, TextGen.String.Select(s => (string?)s)))
        select new Body(bytes, method, name),
        ShrinkBody);

    [Fact]
    public void Decode_NeverThrows_AndReadsOrRefuses()
    {
        PropertyRun.Check(output, Prop.ForAll(Bodies, body =>
        {
            var set = McpJsonRpcDecoder.Decode(body.Bytes, body.MethodHeader, body.NameHeader);
            Expect.That(set.Status is McpCallSetStatus.Read or McpCallSetStatus.Refused, $"status {set.Status}");
            Expect.That(set.Status == McpCallSetStatus.Read == set.Refusal is null, "a refusal has a reason, a read has none");
            Expect.That(set.Refusal is null || set.Refusal.Code == AuthenticationErrorCode.InvalidRequest, $"refusal {set.Refusal}");
            Expect.That(set.Status != McpCallSetStatus.Read || set.Calls.Count > 0, "a read body has at least one call");
            if (set.Status == McpCallSetStatus.Read && body.MethodHeader is { } method)
            {
                Expect.That(set.Calls.All(c => c.Method == method.Trim()), $"a call's method differs from Mcp-Method {PropertyRun.Show(method)}");
            }

            if (set.Status == McpCallSetStatus.Read && body.NameHeader is { } name)
            {
                var tool = McpJsonRpcDecoder.DecodeHeaderValue(name.Trim());
                Expect.That(set.Calls.All(c => !c.IsToolCall || c.ToolName == tool), $"a tool name differs from Mcp-Name {PropertyRun.Show(name)}");
            }

            return Prop.ToProperty(true).Collect(Label(set));
        }), Cases);
    }

    [Fact]
    public void ReferenceReader_AgreesWithTheSdk()
    {
        // The reference reader is only worth comparing with if it reads bodies as the SDK does.
        PropertyRun.Check(output, Prop.ForAll(Bodies, body =>
        {
            var reference = ReferenceSdkReader.Read(body.Bytes);
            var sdk = RealSdkReader.Read(body.Bytes);
            Expect.That(reference.ToolCalls.SequenceEqual(sdk.ToolCalls), $"reference: {reference}; SDK: {sdk}");
            return Prop.ToProperty(true).Collect(sdk.ToolCalls.Count == 0 ? "no tools/call" : "tools/call");
        }), Cases);
    }

    [Fact]
    public void Decode_IsNeverLooserThanTheSdk_ReferenceReader() => NeverLooser(ReferenceSdkReader.Read);

    [Fact]
    public void Decode_IsNeverLooserThanTheSdk_RealSdk() => NeverLooser(RealSdkReader.Read);

    // Whenever McpAuth reads a body, every tools/call the SDK would run is one McpAuth reported, at the same place in
    // the body, with the same tool name (case-insensitively, as tool scopes are matched).
    private void NeverLooser(SdkReader sdk, [System.Runtime.CompilerServices.CallerMemberName] string name = "")
    {
        PropertyRun.Check(output, Prop.ForAll(Bodies, body =>
        {
            var set = McpJsonRpcDecoder.Decode(body.Bytes, body.MethodHeader, body.NameHeader);
            var view = sdk(body.Bytes);
            if (set.Status == McpCallSetStatus.Read)
            {
                foreach (var (index, tool) in view.ToolCalls)
                {
                    var seen = index < set.Calls.Count ? set.Calls[index] : null;
                    Expect.That(seen is { IsToolCall: true } && string.Equals(seen.ToolName, tool, StringComparison.OrdinalIgnoreCase),
                        $"the SDK runs #{index} tools/call {PropertyRun.Show(tool)}; McpAuth read {(seen is null ? "nothing there" : $"{PropertyRun.Show(seen.Method)} {PropertyRun.Show(seen.ToolName)}")}");
                }
            }

            var sdkLabel = view.ToolCalls.Count == 0 ? "SDK runs no tool" : "SDK runs a tool";
            return Prop.ToProperty(true).Collect($"{sdkLabel}, McpAuth {Label(set)}");
        }), Cases, method: name);
    }

    private delegate SdkView SdkReader(ReadOnlySpan<byte> body);

    private static string Label(McpCallSet set) => set.Status switch
    {
        McpCallSetStatus.Read => set.Calls.Any(c => c.IsToolCall) ? "read a tools/call" : "read, no tools/call",
        _ => "refused: " + set.Refusal!.Description,
    };

    // Smaller bodies first (halves, quarters, ... single bytes removed), then simpler headers.
    private static IEnumerable<Body> ShrinkBody(Body body)
    {
        var bytes = body.Bytes;
        for (var size = bytes.Length / 2; size >= 1; size /= 2)
        {
            for (var start = 0; start + size <= bytes.Length; start += size)
            {
                yield return body with { Bytes = [.. bytes[..start], .. bytes[(start + size)..]] };
            }
        }

        if (body.MethodHeader is not null)
        {
            yield return body with { MethodHeader = null };
        }

        if (body.NameHeader is not null)
        {
            yield return body with { NameHeader = null };
        }
    }

    private static string Render(byte[] bytes)
    {
        var text = new StringBuilder("\"");
        foreach (var b in bytes.Take(600))
        {
            text.Append(b is >= 0x20 and < 0x7F and not (byte)'"' and not (byte)'\\' ? ((char)b).ToString() : $"\\x{b:X2}");
        }

        return text.Append(bytes.Length > 600 ? $"\"…(+{bytes.Length - 600} bytes)" : "\"").ToString();
    }
}

/// <summary>
/// JSON-RPC bodies built to find disagreements between readers. Most are plausible messages with member names that
/// decode cleanly, so that both readers get far enough to disagree; a quarter carry hostile text everywhere (lone
/// surrogate escapes, control characters, huge or deep values).
/// </summary>
internal static class JsonRpcGen
{
    /// <summary>Tool names, with case and Unicode variants.</summary>
    public static Gen<string> ToolName { get; } = Gen.Frequency(
        (6, Gen.Elements("admin-action", "whoami", "ADMIN-ACTION", "Admin-Action", "admin-action ", "admin\u2010action", "\uFF41dmin-action", "admin-action\0", "")),
        (3, JsonGen.SafeText),
        (1, TextGen.String));

    /// <summary>An Mcp-Name header for a tool name: plain, or SEP-2243's base64 form.</summary>
    public static Gen<string?> NameHeader(string tool) => Gen.Elements<string?>(
        tool, "=?base64?" + Convert.ToBase64String(Encoding.UTF8.GetBytes(tool)) + "?=", "=?base64?not base64?=");

    /// <summary>A body: one message (mostly), a batch, or another JSON value.</summary>
    public static Gen<string> Document { get; } = Gen.Frequency(
        (8, Message(hostile: false)),
        (2, Message(hostile: true)),
        (2, Gen.Elements(false, false, true).SelectMany(h => Message(h).Between(1, 3)).Select(m => "[" + string.Join(",", m) + "]")),
        (1, Gen.Elements("[]", "null", "\"tools/call\"", "1", "[1]", "[[{}]]", "{", "")),
        (1, JsonGen.Value(3)));

    /// <summary>One JSON-RPC message: method, params, jsonrpc and id members, some duplicated or case-varied, plus junk.</summary>
    public static Gen<string> Message(bool hostile) =>
        from methods in Members("method", Method(hostile), hostile)
        from parameters in Members("params", Params(hostile), hostile)
        from jsonrpc in Gen.Frequency((12, Gen.Constant("\"jsonrpc\":\"2.0\"")), (1, Gen.Elements("", "\"jsonrpc\":\"1.0\"", "\"jsonrpc\":2", "\"jsonrpc\":null")))
        from id in Gen.Frequency((8, Gen.Elements("\"id\":1", "\"id\":\"a\"", "")), (1, Gen.Elements("\"id\":null", "\"id\":1.5", "\"id\":99999999999999999999", "\"id\":[]")))
        from junk in Junk(hostile)
        from order in Gen.Choose(0, int.MaxValue)
        let members = methods.Concat(parameters).Concat(new[] { jsonrpc, id }.Where(m => m.Length > 0)).Concat(junk)
        select "{" + string.Join(",", members.OrderBy(_ => new Random(order).Next())) + "}";

    // One member (mostly), or the same member two or three times, each time under a name variant.
    private static Gen<List<string>> Members(string name, Gen<string> value, bool hostile) =>
        Gen.Frequency((hostile ? 6 : 27, Gen.Constant(1)), (3, Gen.Choose(2, 3)))
            .SelectMany(n => Gen.Zip(Member(name), value).ListOf(n))
            .Select(members => members.Select(m => m.Item1 + ":" + m.Item2).ToList());

    /// <summary>A member name literal for <paramref name="name"/>: exact (mostly), case variants, escaped, near misses.</summary>
    private static Gen<string> Member(string name) => Gen.Frequency(
        (16, JsonGen.Literal(name)),
        (2, TextGen.RandomCase(name).SelectMany(JsonGen.Literal)),
        (1, Gen.Elements(name + " ", " " + name, name + "\0", name.ToUpperInvariant()[..1] + name[1..], name.Replace('a', '\u0430')).SelectMany(JsonGen.Literal)));

    private static Gen<string> Method(bool hostile) => Gen.Frequency(
        (12, JsonGen.Literal("tools/call")),
        (2, Gen.Elements("Tools/Call", "TOOLS/CALL", "tools/call ", "tools/call\0", "tools/list", "initialize", "tools\u2215call", "").SelectMany(JsonGen.Literal)),
        (1, Gen.Elements("null", "1", "{}", "[\"tools/call\"]", "true")),
        (hostile ? 2 : 1, (hostile ? TextGen.String : JsonGen.SafeText).SelectMany(JsonGen.Literal)));

    private static Gen<string> Arguments(bool hostile) => Gen.Frequency(
        (3, from context in Gen.Elements("beta", "prod", "", hostile ? "\ud800" : "x").SelectMany(JsonGen.Literal)
            from key in Member("context")
            select $"{{{key}:{context}}}"),
        (1, hostile ? JsonGen.Value(2) : JsonGen.SafeValue(2)));

    private static Gen<string> Params(bool hostile) => Gen.Frequency(
        (8, from names in Members("name", ToolName.SelectMany(JsonGen.Literal), hostile)
            from args in Gen.Frequency((3, Gen.Constant<string?>(null)), (2, Member("arguments").SelectMany(k => Arguments(hostile).Select(a => (string?)(k + ":" + a)))))
            from extra in Junk(hostile)
            from order in Gen.Choose(0, int.MaxValue)
            select "{" + string.Join(",", names.Concat(args is null ? [] : [args]).Concat(extra).OrderBy(_ => new Random(order).Next())) + "}"),
        (1, Gen.Elements("null", "[]", "\"x\"", "1", "{}", "{\"name\":1}", "{\"name\":null}", "{\"name\":{\"a\":1}}", "{\"name\":\"\\ud800\"}")),
        (hostile ? 2 : 1, hostile ? JsonGen.Value(3) : JsonGen.SafeValue(3)));

    // Other members: random names (distinct unless hostile) and values.
    private static Gen<List<string>> Junk(bool hostile) =>
        Gen.Zip(hostile ? JsonGen.Name : JsonGen.SafeName, hostile ? JsonGen.Value(3) : JsonGen.SafeValue(2)).UpTo(3)
            .Select(j => j.Select((m, i) => (hostile ? m.Item1 : $"\"{i}{m.Item1[1..]}") + ":" + m.Item2).ToList());

    /// <summary>The document as bytes: UTF-8, with at random BOMs, whitespace, invalid UTF-8, truncation, trailing bytes.</summary>
    public static Gen<byte[]> Encode(string document) =>
        from boms in Gen.Frequency((6, Gen.Constant(0)), (2, Gen.Constant(1)), (1, Gen.Constant(2)))
        from spaced in Gen.Elements(false, false, true)
        from damage in Gen.Frequency(
            (8, Gen.Constant("none")),
            (1, Gen.Elements("invalid byte", "truncate", "trailing", "utf-16", "overlong", "bit flip")))
        from seed in Gen.Choose(0, int.MaxValue)
        select Damage(boms, spaced ? Spaced(document, seed) : document, damage, new Random(seed));

    // Whitespace after structural characters (outside strings).
    private static string Spaced(string document, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder();
        var inString = false;
        for (var i = 0; i < document.Length; i++)
        {
            var c = document[i];
            text.Append(c);
            if (c == '"' && !IsEscaped(document, i))
            {
                inString = !inString;
            }

            if (!inString && c is '{' or '}' or '[' or ']' or ',' or ':')
            {
                text.Append(" \t\r\n"[random.Next(4)], random.Next(3));
            }
        }

        return text.ToString();
    }

    private static bool IsEscaped(string text, int index)
    {
        var backslashes = 0;
        for (var j = index - 1; j >= 0 && text[j] == '\\'; j--)
        {
            backslashes++;
        }

        return backslashes % 2 == 1;
    }

    private static byte[] Damage(int boms, string document, string damage, Random random)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < boms; i++)
        {
            bytes.AddRange("\uFEFF"u8.ToArray());
        }

        bytes.AddRange(damage == "utf-16" ? Encoding.Unicode.GetBytes(document) : Encoding.UTF8.GetBytes(document));
        var at = random.Next(bytes.Count + 1);
        switch (damage)
        {
            case "invalid byte": bytes.Insert(at, (byte)random.Next(0x80, 0x100)); break;
            case "overlong": bytes.InsertRange(at, random.Next(2) == 0 ? [0xC0, 0xAF] : [0xED, 0xA0, 0x80]); break;
            case "truncate": bytes.RemoveRange(at, bytes.Count - at); break;
            case "trailing": bytes.AddRange(Encoding.UTF8.GetBytes(random.Next(2) == 0 ? " {}" : "\0")); break;
            case "bit flip" when bytes.Count > 0: bytes[random.Next(bytes.Count)] ^= (byte)(1 << random.Next(8)); break;
        }

        return [.. bytes];
    }
}
