using System.Net;

namespace McpAuth.AspNetCore.Tests;

/// <summary>The MCP Origin and DNS-rebinding rules, enforced by the library in an embedded app, before any token check.</summary>
public sealed class OriginTests
{
    [Theory]
    [InlineData("ForeignOrigin", "https://evil.example", HttpStatusCode.Forbidden)]
    [InlineData("OwnOrigin", "https://mcp.example.com", HttpStatusCode.OK)]
    [InlineData("LoopbackOnALocalConnection", "http://localhost:3000", HttpStatusCode.OK)]
    [InlineData("NullOrigin", "null", HttpStatusCode.Forbidden)]
    [InlineData("OwnOriginOtherPort", "https://mcp.example.com:8443", HttpStatusCode.Forbidden)]
    public async Task Origin_IsCheckedBeforeTheToken(string name, string origin, HttpStatusCode expected)
    {
        await using var app = await EmbeddedApp.StartAsync();
        using var withToken = await app.Client.SendAsync(EmbeddedApp.Mcp(EmbeddedApp.Token(), origin: origin));
        withToken.StatusCode.Should().Be(expected, name);
        if (expected == HttpStatusCode.Forbidden)
        {
            (await withToken.Content.ReadAsStringAsync()).Should().Contain("\"error\":\"forbidden_origin\"");
            using var withoutToken = await app.Client.SendAsync(EmbeddedApp.Mcp(null, origin: origin));
            withoutToken.StatusCode.Should().Be(HttpStatusCode.Forbidden, "403, not 401: the Origin is refused before the token is looked at");
            app.Oidc.Calls.Should().Be(0);
            app.Runs.All.Should().BeEmpty();
        }
    }

    [Theory]
    [InlineData("ForeignHost", "evil.example", null, HttpStatusCode.Forbidden)]
    [InlineData("RebindingHostAndOrigin", "evil.example", "http://evil.example", HttpStatusCode.Forbidden)]
    [InlineData("ServerUrlHost", "mcp.example.com", null, HttpStatusCode.OK)]
    [InlineData("LoopbackIp", "127.0.0.1:8080", "http://127.0.0.1:8080", HttpStatusCode.OK)]
    public async Task Host_OnALocalConnection_OnlyLoopbackOrServerUrlHosts(string name, string hostHeader, string? origin, HttpStatusCode expected)
    {
        await using var app = await EmbeddedApp.StartAsync();
        var request = EmbeddedApp.Mcp(EmbeddedApp.Token(), origin: origin);
        request.Headers.Host = hostHeader;
        using var response = await app.Client.SendAsync(request);
        response.StatusCode.Should().Be(expected, name);
    }

    [Fact]
    public async Task Origin_ConfiguredList_ReplacesTheDefault()
    {
        await using var app = await EmbeddedApp.StartAsync(http: s => s.AllowedOrigins = ["https://app.example.com"]);
        (await app.Client.SendAsync(EmbeddedApp.Mcp(EmbeddedApp.Token(), origin: "https://app.example.com"))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await app.Client.SendAsync(EmbeddedApp.Mcp(EmbeddedApp.Token(), origin: "http://localhost:3000"))).StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Kestrel_RealLoopbackConnection_RefusesARebindingHost()
    {
        await using var app = await EmbeddedApp.StartAsync(kestrel: true);
        var request = EmbeddedApp.Mcp(EmbeddedApp.Token());
        request.RequestUri = new Uri(app.Client.BaseAddress!, "/mcp");
        request.Headers.Host = "evil.example";
        using var response = await app.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        app.Oidc.Calls.Should().Be(0);
    }
}
