using McpAuth.Host;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.Benchmarks;

/// <summary>
/// <c>jwtbearer-host PORT AUTHORITY AUDIENCE</c>: the same MCP endpoint and whoami tool behind ASP.NET Core's JwtBearer
/// (what a .NET user would pick instead of McpAuth), for the load comparison.
/// </summary>
public static class JwtBearerHost
{
    public static async Task<int> RunAsync(int port, string authority, string audience)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.WebHost.UseKestrel(k => k.AddServerHeader = false); // as the McpAuth host: same response bytes
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(o =>
        {
            o.Authority = authority;
            o.Audience = audience;
            o.RequireHttpsMetadata = false;
            o.MapInboundClaims = false;
            o.TokenValidationParameters = new TokenValidationParameters { ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256] };
        });
        builder.Services.AddAuthorization();
        builder.Services.AddMcpServer(o => o.ServerInfo = new() { Name = "mcpauth-host", Version = "1.0.0" }).WithHttpTransport(o => o.Stateless = true).WithTools([typeof(WhoAmITool)]);
        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapMcp("/mcp").RequireAuthorization();
        await app.RunAsync();
        return 0;
    }
}
