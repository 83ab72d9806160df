using System.Globalization;
using McpAuth.Host.Demo;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Builder;

namespace McpAuth.Host.Tests.Demo;

/// <summary>The reference host with <c>--demo</c>, on Kestrel at a free loopback port, as a user starts it.</summary>
public sealed class DemoHost : IAsyncDisposable
{
    private DemoHost(WebApplication app, DemoAuthorizationServer server, int port)
    {
        App = app;
        Server = server;
        Port = port;
    }

    public WebApplication App { get; }

    public DemoAuthorizationServer Server { get; }

    public int Port { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}";

    public string Resource => BaseUrl + "/mcp";

    public string Issuer => BaseUrl + "/demo-issuer";

    public static async Task<DemoHost> StartAsync(string[] flags, Action<WebApplicationBuilder>? configure = null)
    {
        var port = Repo.FreePort();
        var result = McpAuthHost.Build(["--demo", "--port", port.ToString(CultureInfo.InvariantCulture), .. flags], configure);
        result.App.Should().NotBeNull(result.Message);
        result.Demo.Should().NotBeNull();
        await result.App!.StartAsync();
        return new DemoHost(result.App, result.Demo!, port);
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
