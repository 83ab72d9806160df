using System.Net;
using McpAuth.Host.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Host;

/// <summary>Builds the reference host: an MCP server (tool <c>whoami</c>) at <c>/mcp</c> protected by McpAuth.</summary>
public static class McpAuthHost
{
    /// <summary>The result of reading the command line and configuration.</summary>
    public sealed record BuildResult(WebApplication? App, int ExitCode, string? Message, DemoIssuer? Demo = null);

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
        builder.Configuration.AddInMemoryCollection(settings);

        var host = builder.Configuration.GetSection(McpAuthOptions.SectionName).Get<McpHostOptions>() ?? new McpHostOptions();
        var auth = builder.Configuration.GetSection(McpAuthOptions.SectionName).Get<McpAuthOptions>() ?? new McpAuthOptions();
        DemoIssuer? demo = null;
        if (host.Demo)
        {
            if (!IPAddress.TryParse(host.BindAddress, out var bind) || !IPAddress.IsLoopback(bind))
            {
                return new BuildResult(null, 2, "--demo runs a development issuer and is refused on a non-loopback --bind-address.");
            }

            var baseUrl = $"http://{host.BindAddress}:{host.Port}";
            demo = new DemoIssuer(baseUrl);
            var demoSettings = new Dictionary<string, string?>
            {
                ["McpAuth:RequireOAuth"] = "true",
                ["McpAuth:AuthorizationUrl"] = demo.Issuer,
            };
            if (string.IsNullOrEmpty(auth.ServerUrl))
            {
                demoSettings["McpAuth:ServerUrl"] = baseUrl;
            }

            builder.Configuration.AddInMemoryCollection(demoSettings);
            auth = builder.Configuration.GetSection(McpAuthOptions.SectionName).Get<McpAuthOptions>() ?? auth;
        }

        var refusals = McpAuthOptionsValidator.Check(auth).ToList();
        if (refusals.Count > 0)
        {
            return new BuildResult(null, 2, string.Join(" ", refusals));
        }

        if (host.MaxBodyBytes <= 0)
        {
            return new BuildResult(null, 2, "--max-body-bytes must be positive.");
        }

        builder.WebHost.UseKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = host.MaxBodyBytes;
            k.AddServerHeader = false;
        });
        builder.WebHost.UseUrls($"http://{(host.BindAddress.Contains(':', StringComparison.Ordinal) ? $"[{host.BindAddress.Trim('[', ']')}]" : host.BindAddress)}:{host.Port}");

        builder.Services.AddHttpContextAccessor();
        // No default authenticate scheme: only endpoints that require authorization run the pipeline (never /healthz
        // or the well-known documents, even when a client sends a token there). ASP.NET Core makes a sole scheme the
        // default unless this switch is set.
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        builder.Services.AddAuthentication().AddMcpAuth();
        builder.Services.AddAuthorization(o => o.DefaultPolicy = new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder(McpAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser().Build());
        builder.Services.AddMcpServer(o => o.ServerInfo = new() { Name = "mcpauth-host", Version = "1.0.0" })
            .WithHttpTransport(o => o.Stateless = true)
            .WithTools([typeof(WhoAmITool)]);

        configure?.Invoke(builder); // last, so tests can swap the server (TestServer) and ports (fakes)
        var app = builder.Build();
        var endpoints = app.Services.GetRequiredService<HostEndpoints>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("McpAuth.Host");
        if (!auth.RequireOAuth)
        {
            HostLog.AuthenticationOff(logger);
        }
        else if (string.IsNullOrEmpty(auth.ServerUrl))
        {
            HostLog.ResourceDerived(logger);
        }

        // Origin first (403 before anything else), then the bounded body read (413 before any parsing), then auth.
        app.UseWhen(c => c.Request.Path.StartsWithSegments(HostEndpoints.McpPath), branch =>
        {
            branch.Use(async (context, next) =>
            {
                if (endpoints.RefusalFor(context.Request) is { } refusal)
                {
                    await new Challenge(StatusCodes.Status403Forbidden, null, "forbidden_origin", refusal).WriteAsync(context.Response);
                    return;
                }

                await next(context);
            });
            if (auth.RequireOAuth)
            {
                branch.UseMiddleware<McpBodyReaderMiddleware>(host.MaxBodyBytes, auth.ValidateToken || auth.ToolScopes.Count > 0);
            }
        });
        app.UseAuthentication(); // no default scheme (see above): authenticates nothing by itself
        app.UseAuthorization();  // authenticates the policy's scheme (McpAuth) on protected endpoints only

        HostEndpoints.Map(app);
        demo?.Map(app);
        var mcp = app.MapMcp(HostEndpoints.McpPath);
        if (auth.RequireOAuth)
        {
            mcp.RequireAuthorization();
        }

        // Validate every options class now (ValidateOnStart runs only when the host starts).
        _ = app.Services.GetRequiredService<IOptions<McpAuthOptions>>().Value;
        return new BuildResult(app, 0, null, demo);
    }
}
