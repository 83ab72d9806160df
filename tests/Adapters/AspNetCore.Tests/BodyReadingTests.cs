using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace McpAuth.AspNetCore.Tests;

/// <summary>
/// When and how the body is read: never before the token passed the stages that do not need it, once, within the size
/// limit (413), and a body that arrives too slowly gets 408 like the rest of ASP.NET Core.
/// </summary>
public sealed class BodyReadingTests
{
    private const string Admin = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin-action","arguments":{"context":"beta"}}}""";

    /// <summary>Counts the body bytes anyone reads, installed before authentication.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => Count(await inner.ReadAsync(buffer, cancellationToken));
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int n)
        {
            Interlocked.Add(ref BytesRead, n);
            return n;
        }
    }

    private static async Task<(EmbeddedApp App, List<CountingStream> Streams)> StartCounting(Action<McpAuthOptions> pipeline)
    {
        var streams = new List<CountingStream>();
        var app = await EmbeddedApp.StartAsync(pipeline, services: b => b.Services.AddSingleton<IStartupFilter>(new CountFirst(streams)));
        return (app, streams);
    }

    private sealed class CountFirst(List<CountingStream> streams) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                var counting = new CountingStream(context.Request.Body);
                lock (streams)
                {
                    streams.Add(counting);
                }

                context.Request.Body = counting;
                return nextMiddleware(context);
            });
            next(app);
        };
    }

    [Theory]
    [InlineData("NoToken", null, HttpStatusCode.Unauthorized)]
    [InlineData("Garbage", "not-a-jwt", HttpStatusCode.Unauthorized)]
    [InlineData("Expired", "expired", HttpStatusCode.Unauthorized)]
    [InlineData("ForgedAtTheIssuer", "forged", HttpStatusCode.Unauthorized)]
    [InlineData("IssuerDown", "down", HttpStatusCode.ServiceUnavailable)]
    public async Task RefusedToken_TheBodyIsNeverRead(string name, string? kind, HttpStatusCode expected)
    {
        var (app, streams) = await StartCounting(o => { o.ValidateToken = true; o.ToolScopes["admin-action"] = ["mcp:admin"]; });
        await using var _ = app;
        var token = kind switch
        {
            null => null,
            "not-a-jwt" => "not-a-jwt",
            "expired" => EmbeddedApp.Token(expiresIn: -600),
            _ => EmbeddedApp.Token(),
        };
        app.Oidc.Result = kind switch
        {
            "forged" => Ports.OidcValidationResult.Invalid("The token's signature is invalid."),
            "down" => Ports.OidcValidationResult.Unavailable("down"),
            _ => Ports.OidcValidationResult.Valid,
        };
        using var response = await app.Client.SendAsync(EmbeddedApp.Mcp(token, Admin));
        response.StatusCode.Should().Be(expected, name);
        streams.Should().ContainSingle().Which.BytesRead.Should().Be(0, name);
        app.Review.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task ValidToken_TheBodyIsReadOnce_ForBothStagesAndTheEndpoint()
    {
        var (app, streams) = await StartCounting(o => { o.ValidateToken = true; o.ToolScopes["admin-action"] = ["mcp:admin"]; });
        await using var _ = app;
        using var response = await app.Client.SendAsync(EmbeddedApp.Mcp(EmbeddedApp.Token("read mcp:admin"), Admin));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        streams.Single().BytesRead.Should().Be(Encoding.UTF8.GetByteCount(Admin), "read once by McpAuth; the endpoint reads the buffered copy");
        app.Review.Requests.Select(r => r.Target).Should().Equal("beta");
        app.Runs.Count("admin-action").Should().Be(1);
    }

    [Fact]
    public async Task NoStageNeedsTheBody_ItIsNotBuffered()
    {
        var (app, streams) = await StartCounting(_ => { });
        await using var __ = app;
        using var response = await app.Client.SendAsync(EmbeddedApp.Mcp(EmbeddedApp.Token(), EmbeddedApp.ToolCall("whoami")));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        app.Runs.Count("whoami").Should().Be(1);
    }

    [Theory]
    [InlineData("DeclaredTooLarge", true, false)]
    [InlineData("ChunkedTooLarge", false, false)]
    [InlineData("DeclaredTooLargeWithoutToken", true, true)]
    public async Task Body_OverTheLimit_Is413(string name, bool declared, bool anonymous)
    {
        await using var app = await EmbeddedApp.StartAsync(o => o.ToolScopes["admin-action"] = ["mcp:admin"], s => s.MaxBodyBytes = 1024);
        var body = Encoding.UTF8.GetBytes(EmbeddedApp.ToolCall("whoami", new string('a', 5000)));
        var request = EmbeddedApp.Mcp(anonymous ? null : EmbeddedApp.Token(), body, "application/json");
        if (!declared)
        {
            request.Content = new StreamContent(new MemoryStream(body));
            request.Content.Headers.ContentType = new("application/json");
            request.Headers.TransferEncodingChunked = true;
        }

        using var response = await app.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge, name);
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString().Should().Be("request_too_large");
        app.Runs.All.Should().BeEmpty();
    }

    [Fact]
    public async Task Body_ArrivingTooSlowly_Is408_NotA413()
    {
        await using var app = await EmbeddedApp.StartAsync(o => o.ToolScopes["admin-action"] = ["mcp:admin"], kestrel: true, services: b =>
            b.WebHost.ConfigureKestrel(k => k.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 1000, gracePeriod: TimeSpan.FromSeconds(1.5))));
        var uri = new Uri(app.Client.BaseAddress!, "/mcp");
        using var socket = new TcpClient();
        await socket.ConnectAsync(uri.Host, uri.Port);
        var stream = socket.GetStream();
        var body = Encoding.UTF8.GetBytes(Admin);
        var head = $"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{uri.Port}\r\nAuthorization: Bearer {EmbeddedApp.Token("read mcp:admin")}\r\n" +
                   $"Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {body.Length}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(body.AsMemory(0, 10));
        var reading = ReadResponseAsync(stream);
        for (var i = 10; i < body.Length && !reading.IsCompleted; i++)
        {
            await Task.Delay(400);
            try
            {
                await stream.WriteAsync(body.AsMemory(i, 1));
            }
            catch (IOException)
            {
                break;
            }
        }

        var response = await reading.WaitAsync(TimeSpan.FromSeconds(30));
        response.Should().StartWith("HTTP/1.1 408");
        app.Runs.All.Should().BeEmpty();
    }

    private static async Task<string> ReadResponseAsync(NetworkStream stream)
    {
        var buffer = new byte[4096];
        var text = new StringBuilder();
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
            if (text.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                break;
            }
        }

        return text.ToString();
    }
}
