using System.Net;
using Microsoft.AspNetCore.Http;

namespace McpAuth.AspNetCore;

/// <summary>
/// MCP Streamable HTTP requires servers to validate <c>Origin</c> and to defend local servers against DNS rebinding.
/// Runs before any token check on every protected MCP request:
/// <list type="bullet">
/// <item>on a connection to a loopback address, the <c>Host</c> must name a loopback host or <c>ServerUrl</c>'s host;</item>
/// <item><c>Origin</c>, when present, must be one of <c>AllowedOrigins</c> when configured; otherwise <c>ServerUrl</c>'s
/// origin, or any loopback origin on a loopback connection. The request's own <c>Host</c> is never trusted as an allowed
/// origin, since a rebinding attacker controls both.</item>
/// </list>
/// </summary>
internal sealed class McpRequestGuard
{
    private readonly string[] _allowedOrigins;
    private readonly string? _serverOrigin;
    private readonly string? _serverHost;

    public McpRequestGuard(McpAuthBearerOptions options)
    {
        _allowedOrigins = options.AllowedOrigins.Where(o => !string.IsNullOrWhiteSpace(o)).Select(o => o.Trim().TrimEnd('/')).ToArray();
        if (Uri.TryCreate(options.ServerUrl, UriKind.Absolute, out var server))
        {
            _serverOrigin = server.GetLeftPart(UriPartial.Authority);
            _serverHost = server.Host;
        }
    }

    /// <summary>Null when the request may go on, else the reason for a 403.</summary>
    public string? RefusalFor(HttpContext context)
    {
        var request = context.Request;
        // No local address: an in-memory or Unix-socket server, which only local clients reach.
        var local = context.Connection.LocalIpAddress is not { } address || IPAddress.IsLoopback(address);
        if (local && !IsLoopbackName(request.Host.Host) && !string.Equals(request.Host.Host, _serverHost, StringComparison.OrdinalIgnoreCase))
        {
            return "This Host is not allowed to call the MCP endpoint.";
        }

        var origin = request.Headers.Origin;
        if (origin.Count == 0)
        {
            return null;
        }

        var value = origin.Count == 1 ? origin[0] ?? string.Empty : string.Empty; // several Origin headers: refused
        bool allowed;
        if (_allowedOrigins.Length > 0)
        {
            allowed = Array.Exists(_allowedOrigins, o => o == "*" || string.Equals(o, value, StringComparison.OrdinalIgnoreCase));
        }
        else
        {
            allowed = (_serverOrigin is not null && string.Equals(value, _serverOrigin, StringComparison.OrdinalIgnoreCase))
                      || (local && Uri.TryCreate(value, UriKind.Absolute, out var uri) && IsLoopbackName(uri.Host));
        }

        return allowed ? null : "This Origin is not allowed to call the MCP endpoint.";
    }

    private static bool IsLoopbackName(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
