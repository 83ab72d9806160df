using System.Net;
using McpAuth.AspNetCore;
using McpAuth.Host.Demo;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Host;

/// <summary>
/// Builds the reference host: an MCP server (tool <c>whoami</c>) protected by McpAuth. It uses only the public API the
/// README shows; everything it adds is the command line, the demo authorization server and the tools.
/// </summary>
public static class McpAuthHost
{
    /// <summary>The result of reading the command line and configuration.</summary>
    /// <param name="App">The built application, or null when it will not start.</param>
    /// <param name="ExitCode">0, or 2 for a refused configuration.</param>
    /// <param name="Message">Help text, or why the configuration is refused.</param>
    /// <param name="Demo">The demo authorization server, with <c>--demo</c>.</param>
    public sealed record BuildResult(WebApplication? App, int ExitCode, string? Message, DemoAuthorizationServer? Demo = null);

    // Settings that only take effect when the MCP endpoint is protected (the original's start-up rule).
    private static readonly string[] NeedRequireOAuth =
    [
        "Audience", "ValidateToken", "AuthorizationUrl", "ServerUrl", "CertificateAuthority",
        "StsClientId", "StsClientSecret", "StsAudience", "StsScopes", "StsTokenUrl", "AcceptAnyAudience", "SharedCache",
        "IntrospectionClientId", "IntrospectionClientSecret", "IntrospectionClientSecretFile", "IntrospectionEndpoint",
        "StsStrategy", "StsClientAuth", "StsClientSecretFile", "StsClientKeyFile", "StsClientKeyId", "StsClientSigningAlgorithm",
        "StsClientAssertionFile", "StsActorTokenFile", "StsActorTokenType", "Issuers",
    ];

    /// <summary>
    /// Builds the host, or says why it will not start (exit code 2 and a one-line reason; 0 with help text).
    /// <paramref name="configure"/> runs last, just before the app is built (tests swap the server and ports there).
    /// </summary>
    public static BuildResult Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var parseError = CommandLine.Parse(args, settings, out var help);
        if (help)
        {
            return new BuildResult(null, 0, CommandLine.Help());
        }

        if (parseError is not null)
        {
            return new BuildResult(null, 2, parseError);
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        // The host's defaults come first, so appsettings.json, the environment and the flags all override them.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = HostDefaults.Settings });
        builder.Configuration.AddInMemoryCollection(settings);
        var section = builder.Configuration.GetSection(McpAuthOptions.SectionName);
        var host = section.Get<McpHostOptions>() ?? new McpHostOptions();

        DemoAuthorizationServer? demo = null;
        if (host.Demo)
        {
            if (!IPAddress.TryParse(host.BindAddress, out var bind) || !IPAddress.IsLoopback(bind))
            {
                return new BuildResult(null, 2, "--demo runs a development issuer and is refused on a non-loopback --bind-address.");
            }

            demo = CreateDemo(section, host);
            builder.Configuration.Sources.Insert(1, new MemoryConfigurationSource { InitialData = DemoAuthorizationServer.LoggingDefaults() });
            builder.Configuration.AddInMemoryCollection(DemoSettings(section, demo));
            host.RequireOAuth = true;
        }
        else if (DemoFlags.FirstOrDefault(k => section[k] is { } v && v != "false") is { } demoFlag)
        {
            return new BuildResult(null, 2, CommandLine.NameFlags($"{McpAuthOptions.Key(demoFlag)} only takes effect with --demo."));
        }

        if (!host.RequireOAuth)
        {
            var set = NeedRequireOAuth.Where(k => section.GetSection(k).Exists() && section[k] is not ("" or "false")).ToList();
            if (set.Count > 0)
            {
                return new BuildResult(null, 2, CommandLine.NameFlags(
                    $"{string.Join(", ", set.Select(McpAuthOptions.Key))} only take effect with --require-oauth: set it or remove them."));
            }
        }

        var address = host.BindAddress.Contains(':', StringComparison.Ordinal) ? $"[{host.BindAddress.Trim('[', ']')}]" : host.BindAddress;
        builder.WebHost.UseUrls($"http://{address}:{host.Port}");
        builder.WebHost.UseKestrel(k => k.AddServerHeader = false);

        builder.Services.AddHttpContextAccessor();
        builder.Services.AddMcpServer(o => o.ServerInfo = new() { Name = "mcpauth-host", Version = "1.0.0" })
            .WithHttpTransport(o => o.Stateless = true)
            .WithTools(demo is null ? [typeof(WhoAmITool)] : [typeof(WhoAmITool), typeof(AdminActionTool)]); // the step-up tool: demo only
        var health = builder.Services.AddHealthChecks();
        if (host.RequireOAuth)
        {
            builder.Services.AddAuthentication().AddMcpAuth();
            builder.Services.AddMcpAuth().AddKubernetesTokenReview().AddRedisSharedCache(); // the shared cache is on only with McpAuth:SharedCache
            builder.Services.AddAuthorization();
            health.AddMcpAuthChecks();
        }

        demo?.AddServices(builder.Services);

        configure?.Invoke(builder); // last, so tests can swap the server (TestServer) and ports (fakes)
        var app = builder.Build();
        if (Validate(app) is { } refusal)
        {
            ((IDisposable)app).Dispose();
            return new BuildResult(null, 2, refusal);
        }

        var mcpPath = section["McpPath"] is { Length: > 0 } path ? path : McpAuthBearerDefaults.McpPath;
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = c => c.Tags.Contains(McpAuthHealthChecksBuilderExtensions.LiveTag) || c.Tags.Count == 0 });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => !c.Tags.Contains(McpAuthHealthChecksBuilderExtensions.LiveTag) });
        if (host.RequireOAuth)
        {
            demo?.UseHostCheck(app); // before OpenIddict, which answers its endpoints inside UseAuthentication
            app.UseAuthentication();
            app.UseAuthorization();
            app.MapMcpAuthMetadata();
            app.MapMcp(mcpPath).RequireMcpAuth();
        }
        else
        {
            HostLog.AuthenticationOff(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("McpAuth.Host"));
            app.MapMcp(mcpPath).WithMcpOriginCheck();
        }

        demo?.Map(app);
        return new BuildResult(app, 0, null, demo);
    }

    // The demo's own flags: refused without --demo.
    private static readonly string[] DemoFlags = ["DemoAutoApprove", "DemoExchange", "DemoOpaque", "DemoDpop"];

    private static DemoAuthorizationServer CreateDemo(IConfigurationSection section, McpHostOptions host)
    {
        var address = host.BindAddress.Contains(':', StringComparison.Ordinal) ? $"[{host.BindAddress.Trim('[', ']')}]" : host.BindAddress;
        var baseUrl = $"http://{address}:{host.Port}";
        var serverUrl = section["ServerUrl"] is { Length: > 0 } url ? url.TrimEnd('/') : baseUrl;
        var mcpPath = section["McpPath"] is { Length: > 0 } path ? path : McpAuthBearerDefaults.McpPath;
        return new DemoAuthorizationServer(baseUrl, serverUrl + mcpPath, section.GetValue<bool>("DemoAutoApprove"), section.GetValue<bool>("DemoExchange"),
            section.GetValue<bool>("DemoOpaque"), section.GetValue<bool>("DemoDpop"));
    }

    // The McpAuth settings --demo implies: its issuer; the server URL and the step-up scopes unless set otherwise; with
    // --demo-exchange, the exchange client.
    private static Dictionary<string, string?> DemoSettings(IConfigurationSection section, DemoAuthorizationServer demo)
    {
        var settings = new Dictionary<string, string?> { [McpAuthOptions.Key("RequireOAuth")] = "true" };
        if (string.IsNullOrEmpty(section["ServerUrl"]))
        {
            settings[McpAuthOptions.Key("ServerUrl")] = demo.BaseUrl;
        }

        foreach (var (key, value) in demo.McpAuthSettings().Where(s => s.Value is not null))
        {
            var name = key["McpAuth:".Length..];
            var setting = name.Split(':')[0] == "ToolScopes" ? name[..name.LastIndexOf(':')] : name.Split(':')[0];
            var always = setting == "AuthorizationUrl" || (demo.Exchange && setting.StartsWith("Sts", StringComparison.Ordinal));
            if (always || !section.GetSection(setting).Exists())
            {
                settings[key] = value;
            }
        }

        return settings;
    }

    // Every options class registered with ValidateOnStart, validated now, so a bad configuration exits with a reason
    // instead of failing at the first request.
    private static string? Validate(WebApplication app)
    {
        try
        {
            app.Services.GetService<IStartupValidator>()?.Validate();
            return null;
        }
        catch (OptionsValidationException ex)
        {
            return CommandLine.NameFlags(string.Join(" ", ex.Failures));
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OptionsValidationException))
        {
            return CommandLine.NameFlags(string.Join(" ", ex.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures)));
        }
    }
}
