namespace McpAuth.AspNetCore;

/// <summary>
/// Default names of the McpAuth authentication scheme. Distinct from the MCP C# SDK's own <c>McpAuth</c> scheme (its
/// <c>McpAuthenticationHandler</c> only serves protected-resource metadata), so both can live in one app.
/// </summary>
public static class McpAuthBearerDefaults
{
    /// <summary>The scheme name, and the name of the authorization policy that requires it.</summary>
    public const string AuthenticationScheme = "McpAuthBearer";

    /// <summary>The default MCP endpoint path.</summary>
    public const string McpPath = "/mcp";

    /// <summary>The library's default challenge realm.</summary>
    public const string Realm = "mcp";

    /// <summary>The RFC 9728 well-known path prefix.</summary>
    public const string ProtectedResourcePath = "/.well-known/oauth-protected-resource";
}
