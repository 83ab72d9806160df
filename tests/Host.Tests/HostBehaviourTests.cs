using System.Net;
using System.Text;
using System.Text.Json;
using McpAuth.Ports;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace McpAuth.Host.Tests;

public class HostBehaviourTests
{
    private const string Resource = "https://mcp.example.com/mcp";
    private static readonly string[] Base = ["--require-oauth", "--authorization-url", "https://issuer.test", "--server-url", "https://mcp.example.com"];

    [Fact]
    public async Task ValidToken_CallsWhoAmI_WithClaimsFromThePipeline()
    {
        await using var host = await HostHarness.StartAsync(Base);
        using var response = await host.Client.SendAsync(HostHarness.Mcp(HostHarness.Token("read write", Resource), HostHarness.ToolCall("whoami")));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var result = await ReadToolResult(response);
        result.GetProperty("subject").GetString().Should().Be("alice");
        result.GetProperty("issuer").GetString().Should().Be("https://issuer.test");
        result.GetProperty("scopes").EnumerateArray().Select(e => e.GetString()).Should().Equal("read", "write");
        result.GetProperty("exchanged").GetBoolean().Should().BeFalse();
        result.GetProperty("cluster").ValueKind.Should().Be(JsonValueKind.Null, "no kubeconfig");
        host.Oidc.Calls.Should().Be(1);
    }

    [Fact]
    public async Task Downstream_SeesTheEffectiveTokenInAuthorizationAndTheFeature_AndClaims()
    {
        await using var host = await HostHarness.StartAsync([.. Base, "--sts-client-id", "c", "--sts-audience", "k8s"], true, app =>
            app.MapPost("/probe", (HttpContext c) => Results.Json(new
            {
                authorization = c.Request.Headers.Authorization.ToString(),
                effective = c.Features.Get<McpAuthenticationFeature>()!.EffectiveToken,
                sub = c.User.FindFirst("sub")!.Value,
                iss = c.User.FindFirst("iss")!.Value,
                scopes = c.User.FindAll("scope").Select(s => s.Value).ToArray(),
                name = c.User.Identity!.Name,
            })).RequireAuthorization());
        var request = new HttpRequestMessage(HttpMethod.Post, "/probe") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + HostHarness.Token("read admin", Resource));
        using var response = await host.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        json.GetProperty("authorization").GetString().Should().Be("Bearer exchanged-token");
        json.GetProperty("effective").GetString().Should().Be("exchanged-token");
        json.GetProperty("sub").GetString().Should().Be("alice");
        json.GetProperty("name").GetString().Should().Be("alice");
        json.GetProperty("iss").GetString().Should().Be("https://issuer.test");
        json.GetProperty("scopes").EnumerateArray().Select(e => e.GetString()).Should().Equal("read", "admin");
        host.Exchange.Calls.Should().Be(1);
    }

    [Fact]
    public async Task Batch_IsReviewedAgainstEveryDistinctTarget()
    {
        await using var host = await HostHarness.StartAsync([.. Base, "--validate-token"]);
        var batch = $"[{HostHarness.ToolCall("whoami", "alpha", 1)},{HostHarness.ToolCall("whoami", "beta", 2)},{HostHarness.ToolCall("whoami", "alpha", 3)}]";
        using var response = await host.Client.SendAsync(HostHarness.Mcp(HostHarness.Token(audience: Resource), batch));
        host.Review.Requests.Select(r => r.Target).Should().Equal("alpha", "beta");
        host.Review.Requests.Should().OnlyContain(r => r.Audiences.SequenceEqual(new[] { Resource }));
    }

    [Theory]
    [InlineData("NotJson", "this is not json")]
    [InlineData("NoArguments", """{"jsonrpc":"2.0","id":1,"method":"tools/list"}""")]
    [InlineData("ContextNotAString", """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{"context":42}}}""")]
    public async Task Body_WithoutAStringContext_MeansTheDefaultTarget(string name, string body)
    {
        await using var host = await HostHarness.StartAsync([.. Base, "--validate-token"]);
        using var _ = await host.Client.SendAsync(HostHarness.Mcp(HostHarness.Token(audience: Resource), body));
        host.Review.Requests.Select(r => r.Target).Should().Equal([""], name);
    }

    [Theory]
    [InlineData("BodyParsed", "--validate-token")]
    [InlineData("BodyNotNeeded", "--realm")]
    public async Task Body_OverTheLimit_Is413BeforeAnyParsingOrAuthentication(string name, string flag)
    {
        string[] extra = flag == "--realm" ? ["--realm", "r"] : [flag];
        await using var host = await HostHarness.StartAsync([.. Base, .. extra, "--max-body-bytes", "1024"]);
        var big = HostHarness.ToolCall("whoami", new string('a', 2000));
        using var response = await host.Client.SendAsync(HostHarness.Mcp(HostHarness.Token(audience: Resource), big));
        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge, name);
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString().Should().Be("request_too_large");
        host.Oidc.Calls.Should().Be(0);
        host.Review.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Body_OverTheLimitWithoutContentLength_Is413WhenTheBodyIsParsed()
    {
        await using var host = await HostHarness.StartAsync([.. Base, "--tool-scopes", "admin-action=mcp:admin", "--max-body-bytes", "1024"]);
        var request = HostHarness.Mcp(HostHarness.Token(audience: Resource));
        request.Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(HostHarness.ToolCall("whoami", new string('a', 5000)))));
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;
        using var response = await host.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        host.Oidc.Calls.Should().Be(0);
    }

    [Fact]
    public async Task Healthz_And_WellKnown_NeedNoToken()
    {
        await using var host = await HostHarness.StartAsync(Base);
        (await host.Client.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await host.Client.GetAsync("/.well-known/oauth-protected-resource")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await host.Client.GetAsync("/.well-known/oauth-protected-resource/mcp")).StatusCode.Should().Be(HttpStatusCode.OK);
        host.Oidc.Calls.Should().Be(0);
    }

    [Fact]
    public async Task UnprotectedPaths_NeverRunThePipeline_EvenWithAToken()
    {
        await using var host = await HostHarness.StartAsync(Base);
        var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + HostHarness.Token(audience: Resource));
        (await host.Client.SendAsync(request)).StatusCode.Should().Be(HttpStatusCode.OK);
        var wellKnown = new HttpRequestMessage(HttpMethod.Get, "/.well-known/oauth-protected-resource");
        wellKnown.Headers.TryAddWithoutValidation("Authorization", "Bearer " + HostHarness.Token(audience: Resource));
        (await host.Client.SendAsync(wellKnown)).StatusCode.Should().Be(HttpStatusCode.OK);
        host.Oidc.Calls.Should().Be(0);
    }

    [Theory]
    [InlineData("/.well-known/oauth-protected-resource")]
    [InlineData("/.well-known/oauth-protected-resource/mcp")]
    public async Task ProtectedResourceMetadata_IsTheRfc9728Document(string path)
    {
        await using var host = await HostHarness.StartAsync([.. Base, "--required-scopes", "read", "--tool-scopes", "admin-action=mcp:admin"]);
        using var response = await host.Client.GetAsync(path);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.GetValues("Access-Control-Allow-Origin").Should().Equal("*");
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var resource = json.GetProperty("resource").GetString()!;
        resource.Should().Be(Resource);
        new Uri(resource).IsAbsoluteUri.Should().BeTrue();
        resource.Should().NotContain("#");
        json.GetProperty("authorization_servers").EnumerateArray().Select(e => e.GetString()).Should().Equal("https://issuer.test");
        json.GetProperty("scopes_supported").EnumerateArray().Select(e => e.GetString()).Should().Equal("read", "mcp:admin");
        json.GetProperty("bearer_methods_supported").EnumerateArray().Select(e => e.GetString()).Should().Equal("header");
    }

    [Fact]
    public async Task ProtectedResourceMetadata_WithoutServerUrl_IsDerivedFromTheRequest()
    {
        await using var host = await HostHarness.StartAsync("--require-oauth", "--authorization-url", "https://issuer.test");
        var json = JsonDocument.Parse(await host.Client.GetStringAsync("/.well-known/oauth-protected-resource/mcp")).RootElement;
        json.GetProperty("resource").GetString().Should().Be("http://localhost/mcp");
    }

    [Theory]
    [InlineData("/.well-known/oauth-protected-resource")]
    [InlineData("/.well-known/oauth-protected-resource/mcp")]
    [InlineData("/.well-known/oauth-authorization-server")]
    [InlineData("/.well-known/openid-configuration")]
    public async Task WellKnown_WithoutIssuer_Is404(string path)
    {
        await using var host = await HostHarness.StartAsync("--require-oauth", "--validate-token");
        (await host.Client.GetAsync(path)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("/.well-known/anything-else")]
    [InlineData("/.well-known/jwks.json")]
    public async Task WellKnown_OtherPaths_AreNotProxied(string path)
    {
        await using var host = await HostHarness.StartAsync(Base);
        (await host.Client.GetAsync(path)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("/.well-known/oauth-protected-resource/mcp")]
    [InlineData("/.well-known/oauth-authorization-server")]
    public async Task WellKnown_CorsPreflight(string path)
    {
        await using var host = await HostHarness.StartAsync(Base);
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.TryAddWithoutValidation("Origin", "https://app.example.com");
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Method", "GET");
        using var response = await host.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        response.Headers.GetValues("Access-Control-Allow-Origin").Should().Equal("*");
        response.Headers.GetValues("Access-Control-Allow-Methods").Should().Equal("GET, OPTIONS");
    }

    [Fact]
    public async Task RequireOAuthOff_NothingIsChecked()
    {
        await using var host = await HostHarness.StartAsync();
        using var response = await host.Client.SendAsync(HostHarness.Mcp(null, HostHarness.ToolCall("whoami")));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await ReadToolResult(response)).GetProperty("subject").ValueKind.Should().Be(JsonValueKind.Null);
        host.Oidc.Calls.Should().Be(0);
    }

    [Theory]
    [InlineData(new string[0], "RequireOAuth is off: /mcp is NOT protected")]
    [InlineData(new[] { "--require-oauth", "--authorization-url", "https://issuer.test" }, "ServerUrl is not set")]
    public void StartupLog_SaysWhenNothingIsCheckedOrTheResourceIsDerived(string[] args, string expected)
    {
        var provider = new CapturingLoggerProvider();
        var result = McpAuthHost.Build(args, b => b.Logging.AddProvider(provider));
        result.App.Should().NotBeNull();
        provider.Messages.Should().Contain(m => m.Contains(expected));
    }

    [Fact]
    public async Task Logs_NeverContainTheTokenOrTheAuthorizationHeader()
    {
        var provider = new CapturingLoggerProvider();
        var result = McpAuthHost.Build([.. Base, "--sts-client-id", "c", "--sts-client-secret", "very-secret-value", "--sts-audience", "k8s"], b =>
        {
            b.Logging.SetMinimumLevel(LogLevel.Trace);
            b.Logging.AddProvider(provider);
            b.WebHost.UseTestServer();
            // Fake peers: no lookup of the (unreachable) issuer name leaves this machine.
            b.Services.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(new FakeOidc()));
            b.Services.Replace(ServiceDescriptor.Singleton<ITokenExchangeClient>(new FakeExchange()));
        });
        await using var app = result.App!;
        await app.StartAsync();
        var client = app.GetTestClient();
        var good = HostHarness.Token(audience: Resource);
        var expired = HostHarness.Token(audience: Resource, expiresIn: -600);
        foreach (var token in new[] { good, expired, "garbage.token.value" })
        {
            using var _ = await client.SendAsync(HostHarness.Mcp(token, HostHarness.ToolCall("whoami")));
        }

        provider.Messages.Should().NotBeEmpty();
        foreach (var token in new[] { good, expired })
        {
            var signature = token.Split('.')[2];
            var payload = token.Split('.')[1];
            provider.Messages.Should().NotContain(m => m.Contains(signature) || m.Contains(payload));
        }

        provider.Messages.Should().NotContain(m => m.Contains("garbage.token.value") || m.Contains("very-secret-value"));
    }

    private sealed class CapturingLoggerProvider : Microsoft.Extensions.Logging.ILoggerProvider
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Messages { get; } = new();

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new Logger(Messages);

        public void Dispose()
        {
        }

        private sealed class Logger(System.Collections.Concurrent.ConcurrentQueue<string> messages) : Microsoft.Extensions.Logging.ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

            public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                messages.Enqueue(formatter(state, exception));
        }
    }

    [Theory]
    [InlineData("ForeignOrigin", "https://evil.example.com", HttpStatusCode.Forbidden)]
    [InlineData("OwnOrigin", "https://mcp.example.com", HttpStatusCode.OK)]
    [InlineData("LoopbackOnLoopbackBind", "http://localhost:3000", HttpStatusCode.OK)]
    [InlineData("NullOrigin", "null", HttpStatusCode.Forbidden)]
    public async Task Origin_IsValidatedBeforeAnythingElse(string name, string origin, HttpStatusCode expected)
    {
        await using var host = await HostHarness.StartAsync(Base);
        using var response = await host.Client.SendAsync(HostHarness.Mcp(HostHarness.Token(audience: Resource), origin: origin));
        response.StatusCode.Should().Be(expected, name);
        if (expected == HttpStatusCode.Forbidden)
        {
            host.Oidc.Calls.Should().Be(0, "refused before authentication");
        }
    }

    [Theory]
    [InlineData("ForeignHost", "evil.example.com", null, HttpStatusCode.Forbidden)]
    [InlineData("RebindingHostAndOrigin", "evil.example.com", "http://evil.example.com", HttpStatusCode.Forbidden)]
    [InlineData("ServerUrlHost", "mcp.example.com", null, HttpStatusCode.OK)]
    [InlineData("LoopbackIp", "127.0.0.1:8080", "http://127.0.0.1:8080", HttpStatusCode.OK)]
    public async Task Host_OnALoopbackBind_OnlyLoopbackOrServerUrlHostsAreServed(string name, string hostHeader, string? origin, HttpStatusCode expected)
    {
        await using var host = await HostHarness.StartAsync(Base);
        var request = HostHarness.Mcp(HostHarness.Token(audience: Resource), origin: origin);
        request.Headers.Host = hostHeader;
        using var response = await host.Client.SendAsync(request);
        response.StatusCode.Should().Be(expected, name);
    }

    [Fact]
    public async Task Origin_ConfiguredList_ReplacesTheDefault()
    {
        await using var host = await HostHarness.StartAsync([.. Base, "--allowed-origins", "https://app.example.com"]);
        (await host.Client.SendAsync(HostHarness.Mcp(HostHarness.Token(audience: Resource), origin: "https://app.example.com"))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await host.Client.SendAsync(HostHarness.Mcp(HostHarness.Token(audience: Resource), origin: "http://localhost:3000"))).StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task StepUp_OtherToolsAndMethodsNeedNoExtraScope()
    {
        await using var host = await HostHarness.StartAsync([.. Base, "--tool-scopes", "admin-action=mcp:admin"]);
        var token = HostHarness.Token("read", Resource);
        (await host.Client.SendAsync(HostHarness.Mcp(token))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await host.Client.SendAsync(HostHarness.Mcp(token, HostHarness.ToolCall("whoami")))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await host.Client.SendAsync(HostHarness.Mcp(token, HostHarness.ToolCall("admin-action")))).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await host.Client.SendAsync(HostHarness.Mcp(HostHarness.Token("read mcp:admin", Resource), HostHarness.ToolCall("admin-action")))).StatusCode.Should().NotBe(HttpStatusCode.Forbidden);
    }

    public static TheoryData<string, string[], string> Refusals => new()
    {
        { "AudienceWithoutRequireOAuth", ["--oauth-audience", "x"], "OAuthAudience only take effect with RequireOAuth" },
        { "NothingVerifies", ["--require-oauth"], "RequireOAuth is on but nothing verifies tokens" },
        { "StsWithoutIssuer", ["--require-oauth", "--validate-token", "--sts-client-id", "c", "--sts-audience", "a"], "need an issuer" },
        { "DemoOnPublicBind", ["--demo", "--bind-address", "0.0.0.0"], "--demo runs a development issuer and is refused on a non-loopback --bind-address." },
        { "UnknownFlag", ["--no-such-flag"], "unknown flag --no-such-flag" },
        { "BadNumber", ["--port", "eighty"], "--port takes a whole number" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Build_RefusedConfiguration_ExitsNonZeroWithItsReason(string name, string[] args, string message)
    {
        var result = McpAuthHost.Build(args);
        result.App.Should().BeNull(name);
        result.ExitCode.Should().Be(2);
        result.Message.Should().Contain(message);
        result.Message.Should().NotContain("\n");
    }

    [Fact]
    public async Task Process_RefusedConfiguration_ExitsNonZeroBeforeListening()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "McpAuth.Host.dll");
        var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add("--require-oauth");
        using var process = System.Diagnostics.Process.Start(info)!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        process.ExitCode.Should().Be(2);
        stderr.Trim().Should().StartWith("mcpauth: RequireOAuth is on but nothing verifies tokens");
        stderr.Trim().Split('\n').Should().ContainSingle();
    }

    [Fact]
    public void Help_ListsEveryFlagWithItsDefault()
    {
        var result = McpAuthHost.Build(["--help"]);
        result.ExitCode.Should().Be(0);
        foreach (var flag in new[] { "--port", "--bind-address", "--require-oauth", "--oauth-audience", "--validate-token", "--authorization-url", "--certificate-authority", "--server-url", "--kubeconfig", "--sts-client-id", "--sts-client-secret", "--sts-audience", "--sts-scopes", "--sts-token-url", "--required-scopes", "--realm", "--max-body-bytes", "--skip-jwt-verification", "--demo" })
        {
            result.Message.Should().Contain(flag);
        }

        result.Message.Should().Contain("(default 8080)").And.Contain("(default 127.0.0.1)").And.Contain("(default Kubernetes MCP Server)");
    }

    internal static async Task<JsonElement> ReadToolResult(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        var data = text.Split('\n').First(l => l.StartsWith("data:", StringComparison.Ordinal))["data:".Length..].Trim();
        var message = JsonDocument.Parse(data).RootElement;
        var content = message.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString()!;
        return JsonDocument.Parse(content).RootElement;
    }
}
