using System.Net;
using System.Text.Json;
using McpAuth.Ports;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace McpAuth.Host.Tests;

/// <summary>
/// What the host adds to the library: its command line and start-up refusals, its defaults, its endpoints and the
/// whoami tool. The HTTP protections themselves are tested embedded, in McpAuth.AspNetCore.Tests.
/// </summary>
public class HostBehaviourTests
{
    private const string Resource = "https://mcp.example.com/mcp";
    private static readonly string[] Base = ["--require-oauth", "--authorization-url", "https://issuer.test", "--server-url", "https://mcp.example.com"];

    [Fact]
    public async Task ValidToken_CallsWhoAmI_WithThePrincipalFromThePipeline()
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
    public async Task Challenge_UsesTheHostsRealm()
    {
        await using var host = await HostHarness.StartAsync(Base);
        using var response = await host.Client.SendAsync(HostHarness.Mcp(null));
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.GetValues("WWW-Authenticate").Should().Equal(
            $"Bearer realm=\"Kubernetes MCP Server\", audience=\"{Resource}\", resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\"");
    }

    [Fact]
    public async Task McpPathFlag_MovesTheEndpointTheResourceAndTheMetadata()
    {
        await using var host = await HostHarness.StartAsync([.. Base, "--mcp-path", "/k8s/mcp"]);
        using var response = await host.Client.SendAsync(HostHarness.Mcp(HostHarness.Token(audience: "https://mcp.example.com/k8s/mcp"), path: "/k8s/mcp"));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var json = JsonDocument.Parse(await host.Client.GetStringAsync("/.well-known/oauth-protected-resource/k8s/mcp")).RootElement;
        json.GetProperty("resource").GetString().Should().Be("https://mcp.example.com/k8s/mcp");
        (await host.Client.SendAsync(HostHarness.Mcp(null))).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task StepUp_ToolScopesFlag_IsEnforcedBeforeTheToolRuns()
    {
        await using var host = await HostHarness.StartAsync([.. Base, "--tool-scopes", "whoami=mcp:admin"]);
        (await host.Client.SendAsync(HostHarness.Mcp(HostHarness.Token("read", Resource)))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await host.Client.SendAsync(HostHarness.Mcp(HostHarness.Token("read", Resource), HostHarness.ToolCall("whoami")))).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await host.Client.SendAsync(HostHarness.Mcp(HostHarness.Token("read mcp:admin", Resource), HostHarness.ToolCall("whoami")))).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task DpopRequired_IsPublished_AndABearerTokenGetsOnlyTheDpopChallenge()
    {
        await using var host = await HostHarness.StartAsync([.. Base, "--dpop", "required"]);
        var json = JsonDocument.Parse(await host.Client.GetStringAsync("/.well-known/oauth-protected-resource/mcp")).RootElement;
        json.GetProperty("dpop_bound_access_tokens_required").GetBoolean().Should().BeTrue();

        using var response = await host.Client.SendAsync(HostHarness.Mcp(HostHarness.Token("read", Resource)));
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.Select(h => h.Scheme).Should().Equal("DPoP");
    }

    [Fact]
    public async Task Healthz_Readyz_AndMetadata_NeedNoToken_AndNeverRunThePipeline()
    {
        await using var host = await HostHarness.StartAsync(Base);
        foreach (var path in new[] { "/healthz", "/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp" })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + HostHarness.Token(audience: Resource));
            (await host.Client.SendAsync(request)).StatusCode.Should().Be(HttpStatusCode.OK, path);
        }

        (await host.Client.GetAsync("/readyz")).StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "the issuer https://issuer.test is not reachable");
        host.Oidc.Calls.Should().Be(0);
    }

    [Fact]
    public async Task RequireOAuthOff_NothingIsChecked_ButTheOriginStillIs()
    {
        await using var host = await HostHarness.StartAsync();
        using var response = await host.Client.SendAsync(HostHarness.Mcp(null, HostHarness.ToolCall("whoami")));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await ReadToolResult(response)).GetProperty("subject").ValueKind.Should().Be(JsonValueKind.Null);
        (await host.Client.SendAsync(HostHarness.Mcp(null, origin: "https://evil.example"))).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await host.Client.GetAsync("/readyz")).StatusCode.Should().Be(HttpStatusCode.OK);
        host.Oidc.Calls.Should().Be(0);
    }

    [Theory]
    [InlineData(new string[0], "RequireOAuth is off: the MCP endpoint is NOT protected")]
    [InlineData(new[] { "--require-oauth", "--authorization-url", "https://issuer.test", "--oauth-audience", "api" }, "McpAuth:ServerUrl is not set")]
    public async Task StartupLog_SaysWhenNothingIsCheckedOrTheResourceIsDerived(string[] args, string expected)
    {
        var provider = new CapturingLoggerProvider();
        var result = McpAuthHost.Build(args, b =>
        {
            b.WebHost.UseTestServer();
            b.Logging.AddProvider(provider);
        });
        await using var app = result.App!;
        await app.StartAsync();
        provider.Messages.Should().Contain(m => m.Contains(expected));
    }

    [Fact]
    public async Task Logs_NeverContainTheTokenOrTheAuthorizationHeaderOrTheSecret()
    {
        var provider = new CapturingLoggerProvider();
        var result = McpAuthHost.Build([.. Base, "--sts-client-id", "c", "--sts-client-secret", "very-secret-value", "--sts-audience", "k8s"], b =>
        {
            b.Logging.SetMinimumLevel(LogLevel.Trace);
            b.Logging.AddProvider(provider);
            b.WebHost.UseTestServer();
            // Fake peers: no lookup of the (unreachable) issuer name leaves this machine.
            b.Services.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(new FakeOidcValidator()));
            b.Services.Replace(ServiceDescriptor.Singleton<ITokenExchangeClient>(new FakeExchangeClient()));
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

        provider.Messages.Should().NotContain(m => m.Contains("garbage.token.value") || m.Contains("very-secret-value") || m.Contains("exchanged-token"));
    }

    internal sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Messages { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(Messages);

        public void Dispose()
        {
        }

        private sealed class Logger(System.Collections.Concurrent.ConcurrentQueue<string> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                messages.Enqueue(formatter(state, exception) + (exception is null ? "" : " " + exception));
        }
    }

    public static TheoryData<string, string[], string> Refusals => new()
    {
        { "AudienceWithoutRequireOAuth", ["--oauth-audience", "x"], "--oauth-audience (McpAuth:Audience) only take effect with --require-oauth" },
        { "NothingVerifies", ["--require-oauth"], "Nothing verifies tokens: set --authorization-url (McpAuth:AuthorizationUrl)" },
        { "IssuerWithoutAudience", ["--require-oauth", "--authorization-url", "https://issuer.test"], "no audience is expected" },
        { "StsWithoutIssuer", ["--require-oauth", "--validate-token", "--sts-client-id", "c", "--sts-audience", "a"], "need an issuer" },
        { "StsSecretWithoutClient", [.. Base, "--sts-client-secret", "s"], "--sts-client-secret (McpAuth:StsClientSecret) only take effect with a token exchange" },
        { "BadServerUrl", ["--require-oauth", "--authorization-url", "https://issuer.test", "--server-url", "nope"], "--server-url (McpAuth:ServerUrl) must be an absolute http(s) URL" },
        { "BadMcpPath", [.. Base, "--mcp-path", "mcp"], "--mcp-path (McpAuth:McpPath) must be a path that starts with '/'" },
        { "MissingCaFile", [.. Base, "--certificate-authority", "/no/such/ca.pem"], "--certificate-authority (McpAuth:CertificateAuthority) names a file that does not exist" },
        { "DemoOnPublicBind", ["--demo", "--bind-address", "0.0.0.0"], "--demo runs a development issuer and is refused on a non-loopback --bind-address." },
        { "UnknownFlag", ["--no-such-flag"], "unknown flag --no-such-flag" },
        { "BadNumber", ["--port", "eighty"], "--port takes a whole number" },
        { "StsStrategyWithoutRequireOAuth", ["--sts-strategy", "keycloak"], "--sts-strategy (McpAuth:StsStrategy) only take effect with --require-oauth" },
        { "StsKeyFileWithoutRequireOAuth", ["--sts-client-key-file", "/k.pem"], "--sts-client-key-file (McpAuth:StsClientKeyFile) only take effect with --require-oauth" },
        { "IntrospectionWithoutRequireOAuth", ["--introspection-client-id", "c"], "--introspection-client-id (McpAuth:IntrospectionClientId) only take effect with --require-oauth" },
        { "IntrospectionWithoutIssuer", ["--require-oauth", "--validate-token", "--introspection-client-id", "c"], "--introspection-client-id (McpAuth:IntrospectionClientId) needs an issuer to introspect at" },
        { "IntrospectionWithoutSecret", [.. Base, "--introspection-client-id", "c"], "is set without --introspection-client-secret (McpAuth:IntrospectionClientSecret) or --introspection-client-secret-file" },
        { "BadDpopMode", [.. Base, "--dpop", "maybe"], "--dpop takes off, allowed or required, not 'maybe'" },
        { "NumericDpopMode", [.. Base, "--dpop", "2"], "--dpop takes off, allowed or required, not '2'" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Build_RefusedConfiguration_ExitsNonZeroWithItsReasonInFlags(string name, string[] args, string message)
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
        stderr.Trim().Should().StartWith("mcpauth: Nothing verifies tokens");
        stderr.Trim().Split('\n').Should().ContainSingle();
    }

    [Fact]
    public void Help_ListsEveryFlagWithItsDefault()
    {
        var result = McpAuthHost.Build(["--help"]);
        result.ExitCode.Should().Be(0);
        foreach (var flag in new[] { "--port", "--bind-address", "--require-oauth", "--oauth-audience", "--accept-any-audience", "--validate-token", "--authorization-url", "--certificate-authority", "--server-url", "--mcp-path", "--kubeconfig", "--sts-client-id", "--sts-client-secret", "--sts-audience", "--sts-scopes", "--sts-token-url", "--required-scopes", "--tool-scopes", "--allowed-origins", "--realm", "--max-body-bytes", "--skip-jwt-verification", "--demo", "--dpop", "--shared-cache" })
        {
            result.Message.Should().Contain(flag);
        }

        result.Message.Should().Contain("(default 8080)").And.Contain("(default 127.0.0.1)").And.Contain("(default Kubernetes MCP Server)").And.Contain("(default /mcp)");
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
