using System.Net;
using McpAuth.Ports;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.AspNetCore.Authentication;

namespace McpAuth.AspNetCore.Tests;

/// <summary>Registration the ASP.NET Core way, secure defaults, and protections that cannot be skipped.</summary>
public sealed class RegistrationTests
{
    private static WebApplicationBuilder Builder(Dictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(settings ?? []);
        return builder;
    }

    private static string StartupRefusal(WebApplication app)
    {
        var act = () => app.Services.GetRequiredService<IStartupValidator>().Validate();
        return act.Should().Throw<OptionsValidationException>().Which.Message;
    }

    [Fact]
    public void JwtBearerHabit_LambdaGetsTheOptions_AndTheyAreUsed()
    {
        var builder = Builder();
        builder.Services.AddAuthentication().AddMcpAuth(o =>
        {
            o.AuthorizationUrl = "https://idp.example.com";
            o.Audience = "api://mcp";
        });
        using var app = builder.Build();
        app.Services.GetRequiredService<IOptions<McpAuthOptions>>().Value.Audience.Should().Be("api://mcp");
        app.Services.GetRequiredService<IStartupValidator>().Validate();
    }

    [Fact]
    public void IssuerWithoutAudience_IsRefusedAtStart_NamingTheKeys()
    {
        var builder = Builder();
        builder.Services.AddAuthentication().AddMcpAuth(o => o.AuthorizationUrl = "https://idp.example.com");
        using var app = builder.Build();
        StartupRefusal(app).Should().Contain("McpAuth:AuthorizationUrl is set but no audience is expected")
            .And.Contain("McpAuth:Audience").And.Contain("McpAuth:ServerUrl").And.Contain("McpAuth:AcceptAnyAudience");
    }

    [Fact]
    public void AudienceIsDerivedFromServerUrlAndMcpPath()
    {
        var builder = Builder(new() { ["McpAuth:AuthorizationUrl"] = "https://idp.example.com", ["McpAuth:ServerUrl"] = "https://mcp.example.com/", ["McpAuth:McpPath"] = "/tools/mcp" });
        builder.Services.AddAuthentication().AddMcpAuth();
        using var app = builder.Build();
        app.Services.GetRequiredService<IStartupValidator>().Validate();
        app.Services.GetRequiredService<IOptions<McpAuthOptions>>().Value.Audience.Should().Be("https://mcp.example.com/tools/mcp");
    }

    [Fact]
    public async Task AcceptAnyAudience_StartsAndIsLoggedAsInsecure()
    {
        var logs = new List<string>();
        var builder = Builder();
        builder.Logging.AddProvider(new ListLoggerProvider(logs));
        builder.Services.AddAuthentication().AddMcpAuth(o => { o.AuthorizationUrl = "https://idp.example.com"; o.AcceptAnyAudience = true; });
        builder.Services.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(new FakeOidcValidator()));
        await using var app = builder.Build();
        await app.StartAsync();
        logs.Should().Contain(l => l.Contains("INSECURE: McpAuth:AcceptAnyAudience is on", StringComparison.Ordinal));
        await app.StopAsync();
    }

    [Theory]
    [InlineData("McpAuth:ServerUrl", "not a url", "McpAuth:ServerUrl must be an absolute http(s) URL")]
    [InlineData("McpAuth:McpPath", "mcp", "McpAuth:McpPath must be a path that starts with '/'")]
    [InlineData("McpAuth:MaxBodyBytes", "0", "McpAuth:MaxBodyBytes must be positive")]
    [InlineData("McpAuth:AllowedOrigins:0", "https://app.example.com/path", "McpAuth:AllowedOrigins holds 'https://app.example.com/path'")]
    public void SchemeSettings_AreValidatedAtStart_NamingTheKey(string key, string value, string message)
    {
        var builder = Builder(new() { [key] = value, ["McpAuth:AuthorizationUrl"] = "https://idp.example.com", ["McpAuth:Audience"] = "a" });
        builder.Services.AddAuthentication().AddMcpAuth();
        using var app = builder.Build();
        StartupRefusal(app).Should().Contain(message);
    }

    [Fact]
    public async Task ValidateTokenWithoutAnAdapter_RefusesToStart_SayingWhatToAdd()
    {
        var builder = Builder();
        builder.Services.AddAuthentication().AddMcpAuth(o => o.ValidateToken = true);
        await using var app = builder.Build();
        var act = () => app.StartAsync();
        (await act.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("AddKubernetesTokenReview()");
    }

    [Fact]
    public void ASecondSchemeName_IsRefused()
    {
        var builder = Builder();
        var authentication = builder.Services.AddAuthentication().AddMcpAuth(o => o.ValidateToken = true);
        var act = () => authentication.AddMcpAuth("Other", null, null);
        act.Should().Throw<InvalidOperationException>().WithMessage("*already registered as scheme 'McpAuthBearer'*");
    }

    [Fact]
    public async Task CustomSchemeName_Works()
    {
        var builder = Builder();
        builder.Services.AddAuthentication().AddMcpAuth("Mcp2", o => { o.AuthorizationUrl = "https://issuer.test"; o.Audience = "a"; }, null);
        builder.Services.AddAuthorization();
        builder.Services.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(new FakeOidcValidator()));
        await using var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/x", () => "ok").RequireMcpAuth("Mcp2").WithMetadata(McpAuthEndpointMetadata.NotMcp);
        await app.StartAsync();
        using var response = await app.GetTestClient().GetAsync("/x");
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().StartWith("Bearer realm=\"mcp\"");
    }

    [Fact]
    public async Task AllowAnonymous_CannotSkipRequireMcpAuth()
    {
        await using var app = await EmbeddedApp.StartAsync(endpoints: a =>
            a.MapGet("/open", () => "ran").RequireMcpAuth().AllowAnonymous().WithMetadata(McpAuthEndpointMetadata.NotMcp));
        (await app.Client.GetAsync("/open")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var request = new HttpRequestMessage(HttpMethod.Get, "/open");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + EmbeddedApp.Token(expiresIn: -600));
        (await app.Client.SendAsync(request)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task PlainRequireAuthorizationOnMcp_StepUpFailsClosed_InsteadOfSilentlyPassing()
    {
        await using var app = await EmbeddedApp.StartAsync(o => o.ToolScopes["admin-action"] = ["mcp:admin"], endpoints: a =>
            a.MapMcp("/plain").RequireAuthorization(new AuthorizationPolicyBuilder(McpAuthBearerDefaults.AuthenticationScheme).RequireAuthenticatedUser().Build()));
        var request = EmbeddedApp.Mcp(EmbeddedApp.Token("read"), EmbeddedApp.ToolCall("admin-action"));
        request.RequestUri = new Uri("/plain", UriKind.Relative);
        using var response = await app.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "the stage cannot see the calls, so it refuses");
        app.Runs.All.Should().BeEmpty();
    }

    [Fact]
    public async Task TheMcpSdksOwnAuthScheme_AndMcpAuth_InOneApp()
    {
        // Both namespaces are imported in this file: no type or scheme name clashes (CS0104 would fail the build).
        var builder = Builder();
        builder.Services.AddAuthentication()
            .AddMcp(o => o.ResourceMetadata = new ModelContextProtocol.Authentication.ProtectedResourceMetadata
            {
                Resource = EmbeddedApp.Resource,
                AuthorizationServers = ["https://issuer.test"],
            })
            .AddMcpAuth(o => o.AuthorizationUrl = "https://issuer.test", s =>
            {
                s.ServerUrl = EmbeddedApp.ServerUrl;
                s.ResourceMetadataUrl = EmbeddedApp.ServerUrl + "/.well-known/oauth-protected-resource/mcp";
            });
        builder.Services.AddAuthorization();
        builder.Services.AddSingleton<ToolRuns>();
        builder.Services.AddMcpServer().WithHttpTransport(o => o.Stateless = true).WithTools([typeof(TestTools)]);
        builder.Services.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(new FakeOidcValidator()));
        await using var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapMcp("/mcp").RequireMcpAuth();
        await app.StartAsync();
        var client = app.GetTestClient();

        McpAuthenticationDefaults.AuthenticationScheme.Should().NotBe(McpAuthBearerDefaults.AuthenticationScheme);
        using var challenge = await client.SendAsync(EmbeddedApp.Mcp(null));
        challenge.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var url = challenge.Headers.WwwAuthenticate.ToString().Split("resource_metadata=\"")[1].Split('"')[0];
        var document = await client.GetStringAsync(new Uri(url).PathAndQuery);
        document.Should().Contain(EmbeddedApp.Resource, "the SDK's handler serves the document our challenge names");
        (await client.SendAsync(EmbeddedApp.Mcp(EmbeddedApp.Token()))).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    private sealed class ListLoggerProvider(List<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(lines);

        public void Dispose()
        {
        }

        private sealed class Logger(List<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (lines)
                {
                    lines.Add(formatter(state, exception));
                }
            }
        }
    }
}
