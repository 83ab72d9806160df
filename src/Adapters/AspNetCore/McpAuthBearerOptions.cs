using Microsoft.AspNetCore.Authentication;

namespace McpAuth.AspNetCore;

/// <summary>
/// The HTTP settings of the McpAuth scheme (bound from the <c>McpAuth</c> configuration section, like every McpAuth
/// setting). What the pipeline checks is in <see cref="McpAuthOptions"/>.
/// </summary>
public sealed class McpAuthBearerOptions : AuthenticationSchemeOptions
{
    /// <summary>
    /// This server's public base URL, e.g. <c>https://mcp.example.com</c>. The resource URL is this plus
    /// <see cref="McpPath"/>; it is the default expected audience and what the RFC 9728 document publishes. Unset: the
    /// resource is derived from each request's Host (logged at start).
    /// </summary>
    public string? ServerUrl { get; set; }

    /// <summary>The path of the MCP endpoint. Default <c>/mcp</c>.</summary>
    public string McpPath { get; set; } = McpAuthBearerDefaults.McpPath;

    /// <summary>The realm of the <c>WWW-Authenticate</c> challenge. Default <c>mcp</c>.</summary>
    public string Realm { get; set; } = McpAuthBearerDefaults.Realm;

    /// <summary>
    /// Browser origins allowed to call the MCP endpoint (<c>*</c> for any). Default: <see cref="ServerUrl"/>'s origin, and
    /// any loopback origin on a loopback connection. Requests without <c>Origin</c> (non-browser clients) are not affected.
    /// </summary>
    public IList<string> AllowedOrigins { get; set; } = new List<string>();

    /// <summary>The largest MCP request body read (larger: 413). Default 16 MiB.</summary>
    public long MaxBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Seconds a client should wait after a 503. Default 5.</summary>
    public int RetryAfterSeconds { get; set; } = 5;

    /// <summary>The claim type of <c>ClaimsIdentity.Name</c>. Default <c>sub</c>.</summary>
    public string NameClaimType { get; set; } = "sub";

    /// <summary>The claim type of roles (<c>IsInRole</c>, role policies). Default <c>roles</c>.</summary>
    public string RoleClaimType { get; set; } = "roles";

    /// <summary>The <c>resource_name</c> of the RFC 9728 document. Default: <see cref="Realm"/>.</summary>
    public string? ResourceName { get; set; }

    /// <summary>
    /// The absolute URL of the protected-resource metadata that challenges point to. Unset: this app's own
    /// <c>/.well-known/oauth-protected-resource{McpPath}</c> (see <c>MapMcpAuthMetadata</c>). Set it when another
    /// component (for example the MCP SDK's <c>AddMcp()</c> scheme) serves the document.
    /// </summary>
    public string? ResourceMetadataUrl { get; set; }

    /// <summary>The resource URL (<see cref="ServerUrl"/> + <see cref="McpPath"/>), when <see cref="ServerUrl"/> is set.</summary>
    public string? ResourceUrl => string.IsNullOrEmpty(ServerUrl) ? null : ServerUrl.TrimEnd('/') + McpPath;
}
