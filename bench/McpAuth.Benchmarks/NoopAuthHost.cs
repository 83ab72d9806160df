using System.Security.Claims;
using System.Text.Encodings.Web;
using McpAuth.Host;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Benchmarks;

/// <summary>
/// <c>noop-auth-host PORT</c>: the same MCP endpoint (stateless) and whoami tool behind an ASP.NET Core authentication
/// handler that checks nothing and returns one fixed principal for every request, with the endpoint protected by
/// <c>RequireAuthorization()</c>. It is the floor of any ASP.NET Core authentication scheme on this endpoint: the
/// authentication and authorization middleware, the handler instance per request, the ticket and the policy
/// evaluation, with no token work at all.
/// </summary>
public static class NoopAuthHost
{
    public const string SchemeName = "Noop";

    public static async Task<int> RunAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.WebHost.UseKestrel(k => k.AddServerHeader = false); // as the McpAuth host: same response bytes
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddAuthentication(SchemeName).AddScheme<AuthenticationSchemeOptions, NoopAuthenticationHandler>(SchemeName, null);
        builder.Services.AddAuthorization();
        builder.Services.AddMcpServer(o => o.ServerInfo = new() { Name = "mcpauth-host", Version = "1.0.0" })
            .WithHttpTransport(o => o.Stateless = true)
            .WithTools([typeof(WhoAmITool)]);
        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapMcp("/mcp").RequireAuthorization();
        await app.RunAsync();
        return 0;
    }

    /// <summary>Authenticates every request as the same principal; never challenges.</summary>
    public sealed class NoopAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        private static readonly ClaimsPrincipal Principal = new(new ClaimsIdentity(
            [new Claim("sub", "alice"), new Claim("scope", "read"), new Claim("scope", "write")], SchemeName, "sub", "roles"));

        protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
            Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(Principal, SchemeName)));
    }
}
