using System.Net;
using System.Text;
using System.Text.Json;

namespace McpAuth.AspNetCore.Tests;

/// <summary>
/// The body the pipeline authorizes is the body the MCP endpoint executes. Every row sends a call of a tool that needs
/// <c>mcp:admin</c> with a token that lacks it, in a different encoding or shape, and checks that the request is refused
/// (403 when it decodes to that call, 400 when it cannot be decoded as the endpoint would) and that the tool never ran.
/// </summary>
public sealed class BodyConsistencyTests
{
    private const string Admin = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin-action","arguments":{}}}""";

    public sealed record Row(string Name, Func<byte[]> Body, string ContentType, HttpStatusCode Status, Dictionary<string, string>? Headers = null)
    {
        public override string ToString() => Name;
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] WithBom(Encoding encoding, string s) => [.. encoding.GetPreamble(), .. encoding.GetBytes(s)];

    public static TheoryData<Row> Refused => new()
    {
        new Row("PlainUtf8", () => Utf8(Admin), "application/json", HttpStatusCode.Forbidden),
        new Row("Utf8Bom", () => WithBom(new UTF8Encoding(true), Admin), "application/json", HttpStatusCode.Forbidden),
        new Row("Utf8BomWithCharset", () => WithBom(new UTF8Encoding(true), Admin), "application/json; charset=utf-8", HttpStatusCode.Forbidden),
        new Row("Utf16LeWithBom", () => WithBom(Encoding.Unicode, Admin), "application/json; charset=utf-16", HttpStatusCode.Forbidden),
        new Row("Utf16LeNoBom", () => Encoding.Unicode.GetBytes(Admin), "application/json; charset=utf-16", HttpStatusCode.Forbidden),
        new Row("Utf16Be", () => Encoding.BigEndianUnicode.GetBytes(Admin), "application/json; charset=utf-16BE", HttpStatusCode.Forbidden),
        new Row("Utf32", () => Encoding.UTF32.GetBytes(Admin), "application/json; charset=utf-32", HttpStatusCode.Forbidden),
        new Row("Latin1", () => Encoding.Latin1.GetBytes(Admin), "application/json; charset=iso-8859-1", HttpStatusCode.Forbidden),
        new Row("QuotedCharset", () => Encoding.Unicode.GetBytes(Admin), "application/json; charset=\"utf-16\"", HttpStatusCode.Forbidden),
        new Row("JsonSuffixType", () => Utf8(Admin), "application/vnd.mcp+json", HttpStatusCode.Forbidden),
        new Row("UnknownCharset", () => Utf8(Admin), "application/json; charset=klingon", HttpStatusCode.BadRequest),
        new Row("NotJsonContentType", () => Utf8(Admin), "text/plain", HttpStatusCode.UnsupportedMediaType), // refused by routing (the SDK's Accepts metadata)
        new Row("DuplicateName", () => Utf8("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","name":"admin-action"}}"""), "application/json", HttpStatusCode.BadRequest),
        new Row("CaseVariantName", () => Utf8("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","Name":"admin-action"}}"""), "application/json", HttpStatusCode.BadRequest),
        new Row("DuplicateMethod", () => Utf8("""{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"admin-action"}}"""), "application/json", HttpStatusCode.BadRequest),
        new Row("DuplicateParams", () => Utf8("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"},"params":{"name":"admin-action"}}"""), "application/json", HttpStatusCode.BadRequest),
        new Row("EscapedMemberName", () => Utf8("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"n\u0061me":"admin-action"}}"""), "application/json", HttpStatusCode.Forbidden),
        new Row("EscapedToolName", () => Utf8("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin\u002daction"}}"""), "application/json", HttpStatusCode.Forbidden),
        new Row("UpperCaseMethod", () => Utf8("""{"jsonrpc":"2.0","id":1,"method":"TOOLS/CALL","params":{"name":"admin-action"}}"""), "application/json", HttpStatusCode.Forbidden),
        new Row("UpperCaseToolName", () => Utf8("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ADMIN-ACTION"}}"""), "application/json", HttpStatusCode.Forbidden),
        new Row("InvalidUtf8InString", () => [.. Utf8("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"admin-action\",\"arguments\":{\"x\":\""), 0xC3, 0x28, .. Utf8("\"}}}")], "application/json", HttpStatusCode.BadRequest),
        new Row("LoneSurrogateInArguments", () => Utf8("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin-action","arguments":{"x":"\udc00"}}}"""), "application/json", HttpStatusCode.BadRequest),
        new Row("LoneSurrogateInToolName", () => Utf8("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin-action\ud800"}}"""), "application/json", HttpStatusCode.BadRequest),
        new Row("NameNotAString", () => Utf8("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":42}}"""), "application/json", HttpStatusCode.BadRequest),
        new Row("MethodNotAString", () => Utf8("""{"jsonrpc":"2.0","id":1,"method":["tools/call"],"params":{"name":"admin-action"}}"""), "application/json", HttpStatusCode.BadRequest),
        new Row("TrailingGarbage", () => Utf8(Admin + "{}"), "application/json", HttpStatusCode.BadRequest),
        new Row("Comments", () => Utf8("/* x */" + Admin), "application/json", HttpStatusCode.BadRequest),
        new Row("Empty", () => [], "application/json", HttpStatusCode.BadRequest),
        new Row("TooDeep", () => Utf8(new string('[', 100) + new string(']', 100)), "application/json", HttpStatusCode.BadRequest),
        new Row("BatchSecondIsAdmin", () => Utf8($"[{EmbeddedApp.ToolsList},{Admin}]"), "application/json", HttpStatusCode.Forbidden),
        new Row("BatchWithNonObject", () => Utf8($"[{Admin},42]"), "application/json", HttpStatusCode.BadRequest),
        new Row("McpMethodHeaderDisagrees", () => Utf8(Admin), "application/json", HttpStatusCode.BadRequest, new() { ["Mcp-Method"] = "tools/list" }),
        new Row("McpNameHeaderDisagrees", () => Utf8(Admin), "application/json", HttpStatusCode.BadRequest, new() { ["Mcp-Method"] = "tools/call", ["Mcp-Name"] = "whoami" }),
        new Row("McpNameHeaderBase64Agrees", () => Utf8(Admin), "application/json", HttpStatusCode.Forbidden,
            new() { ["Mcp-Method"] = "tools/call", ["Mcp-Name"] = "=?base64?" + Convert.ToBase64String(Utf8("admin-action")) + "?=" }),
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task AdminCall_WithoutTheScope_IsRefusedInEveryEncoding_AndTheToolNeverRuns(Row row)
    {
        await using var app = await EmbeddedApp.StartAsync(o => o.ToolScopes["admin-action"] = ["mcp:admin"]);
        var request = EmbeddedApp.Mcp(EmbeddedApp.Token("read"), row.Body(), row.ContentType);
        foreach (var (name, value) in row.Headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await app.Client.SendAsync(request);

        response.StatusCode.Should().Be(row.Status, row.Name);
        if (row.Status != HttpStatusCode.UnsupportedMediaType)
        {
            var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            json.GetProperty("error").GetString().Should().Be(row.Status == HttpStatusCode.Forbidden ? "insufficient_scope" : "invalid_request");
        }

        app.Runs.Count("admin-action").Should().Be(0, row.Name);
    }

    public static TheoryData<string, string, byte[]> Executed => new()
    {
        { "Utf8Bom", "application/json", WithBom(new UTF8Encoding(true), Admin) },
        { "Utf16LeWithBom", "application/json; charset=utf-16", WithBom(Encoding.Unicode, Admin) },
        { "Utf16Be", "application/json; charset=utf-16BE", Encoding.BigEndianUnicode.GetBytes(Admin) },
        { "Latin1", "application/json; charset=iso-8859-1", Encoding.Latin1.GetBytes(Admin) },
    };

    [Theory]
    [MemberData(nameof(Executed))]
    public async Task AdminCall_WithTheScope_RunsOnce_WhateverTheEncoding(string name, string contentType, byte[] body)
    {
        await using var app = await EmbeddedApp.StartAsync(o => o.ToolScopes["admin-action"] = ["mcp:admin"]);
        using var response = await app.Client.SendAsync(EmbeddedApp.Mcp(EmbeddedApp.Token("read mcp:admin"), body, contentType));
        response.StatusCode.Should().Be(HttpStatusCode.OK, name);
        app.Runs.Count("admin-action").Should().Be(1, name);
    }

    public static TheoryData<string, string, byte[]> Targets => new()
    {
        { "PlainUtf8", "application/json", Encoding.UTF8.GetBytes(EmbeddedApp.ToolCall("whoami", "beta")) },
        { "Utf8Bom", "application/json", WithBom(new UTF8Encoding(true), EmbeddedApp.ToolCall("whoami", "beta")) },
        { "Utf16", "application/json; charset=utf-16", WithBom(Encoding.Unicode, EmbeddedApp.ToolCall("whoami", "beta")) },
        { "EscapedContext", "application/json", Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{"cont\u0065xt":"b\u0065ta"}}}""") },
    };

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task TokenReview_AsksTheClusterTheBodyNames_WhateverTheEncoding(string name, string contentType, byte[] body)
    {
        await using var app = await EmbeddedApp.StartAsync(o => o.ValidateToken = true);
        app.Review.Answer = r => r.Target == "beta"
            ? Ports.TokenReviewResult.NotAuthenticated("no")
            : Ports.TokenReviewResult.Authenticated(new ClusterUser("alice", null, [], new Dictionary<string, IReadOnlyList<string>>()), r.Audiences);
        using var response = await app.Client.SendAsync(EmbeddedApp.Mcp(EmbeddedApp.Token(), body, contentType));
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized, name);
        app.Review.Requests.Select(r => r.Target).Should().Equal(["beta"], name);
        app.Runs.All.Should().BeEmpty();
    }

    [Theory]
    [InlineData("ContextNotAString", """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{"context":42}}}""")]
    [InlineData("NotJson", "this is not json")]
    public async Task TokenReview_BodyThatCannotBeDecoded_Is400_NeverTheDefaultCluster(string name, string body)
    {
        await using var app = await EmbeddedApp.StartAsync(o => o.ValidateToken = true);
        using var response = await app.Client.SendAsync(EmbeddedApp.Mcp(EmbeddedApp.Token(), body));
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest, name);
        app.Review.Requests.Should().BeEmpty(name);
    }

    [Fact]
    public async Task ChunkedBody_IsDecodedTheSameWay()
    {
        await using var app = await EmbeddedApp.StartAsync(o => o.ToolScopes["admin-action"] = ["mcp:admin"]);
        var request = EmbeddedApp.Mcp(EmbeddedApp.Token("read"));
        request.Content = new StreamContent(new TrickleStream(Encoding.UTF8.GetBytes(Admin), 7));
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;
        using var response = await app.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        app.Runs.All.Should().BeEmpty();
    }

    [Fact]
    public async Task Batch_IsReviewedAgainstEveryDistinctTarget()
    {
        await using var app = await EmbeddedApp.StartAsync(o => o.ValidateToken = true);
        var batch = $"[{EmbeddedApp.ToolCall("whoami", "alpha", 1)},{EmbeddedApp.ToolCall("whoami", "beta", 2)},{EmbeddedApp.ToolCall("whoami", "alpha", 3)}]";
        using var _ = await app.Client.SendAsync(EmbeddedApp.Mcp(EmbeddedApp.Token(), batch));
        app.Review.Requests.Select(r => r.Target).Should().Equal("alpha", "beta");
    }

    /// <summary>Hands out a body a few bytes at a time.</summary>
    internal sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
    }
}
