using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using TenantNotes.Host;

namespace TenantNotes.Tests;

/// <summary>
/// The sample as its Program runs it (<see cref="TenantNotesApp.Build"/>), on Kestrel at 127.0.0.1 in this test process,
/// configured by command-line arguments against a real issuer (<see cref="TenantIssuer"/>). Spans of the "McpAuth"
/// activity source are recorded.
/// </summary>
public sealed class TenantNotesFixture : IAsyncLifetime
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _spans = new();

    public TenantNotesFixture()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "McpAuth",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public TenantIssuer Issuer { get; private set; } = null!;

    public WebApplication App { get; private set; } = null!;

    public string BaseUrl { get; private set; } = string.Empty;

    public string Resource => BaseUrl + "/mcp";

    /// <summary>The McpAuth spans stopped since the last <see cref="ClearSpans"/>, in start order.</summary>
    public IReadOnlyList<Activity> Spans => _spans.OrderBy(a => a.StartTimeUtc).ToList();

    public void ClearSpans() => _spans.Clear();

    public async Task InitializeAsync()
    {
        Issuer = await TenantIssuer.StartAsync();
        BaseUrl = $"http://127.0.0.1:{TenantIssuer.FreePort()}";
        App = TenantNotesApp.Build(
            ["--urls", BaseUrl, "--McpAuth:AuthorizationUrl", Issuer.Issuer, "--McpAuth:ServerUrl", BaseUrl],
            builder => builder.Logging.SetMinimumLevel(LogLevel.Warning));
        await App.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        await Issuer.DisposeAsync();
        _listener.Dispose();
    }

    public Task<string> TokenAsync(string clientId, string scope = "notes:read notes:write") => Issuer.IssueTokenAsync(clientId, Resource, scope);

    /// <summary>The official C# MCP client over Streamable HTTP, with the token as its bearer.</summary>
    public async Task<McpClient> ConnectAsync(string token)
    {
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(Resource),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + token },
        });
        return await McpClient.CreateAsync(transport);
    }

    /// <summary>One raw MCP POST (a tools/call), for the status code and challenge an MCP client does not expose.</summary>
    public HttpRequestMessage ToolCall(string? token, string tool, IDictionary<string, string>? arguments = null)
    {
        var body = System.Text.Json.JsonSerializer.Serialize(new
        {
            jsonrpc = "2.0", id = 1, method = "tools/call",
            @params = new { name = tool, arguments = arguments ?? new Dictionary<string, string>() },
        });
        var request = new HttpRequestMessage(HttpMethod.Post, Resource) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        return request;
    }
}
