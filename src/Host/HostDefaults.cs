namespace McpAuth.Host;

/// <summary>Defaults of the host that differ from the library's or from ASP.NET Core's.</summary>
internal static class HostDefaults
{
    /// <summary>The host keeps the original's realm; the library's default is neutral.</summary>
    public const string Realm = "Kubernetes MCP Server";

    /// <summary>
    /// Configuration defaults, overridden by appsettings.json, the environment and flags. A refused request costs no log
    /// line: ASP.NET Core's authentication and authorization categories log refusals at Information, one line each, so
    /// they start at Warning (McpAuth summarizes refusals itself); so does request logging, which would write a token
    /// sent in a query string; and so do the MCP SDK's and HttpClient's per-request lines.
    /// </summary>
    public static readonly Dictionary<string, string?> Settings = new()
    {
        ["McpAuth:Realm"] = Realm,
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        ["Logging:LogLevel:Microsoft.AspNetCore.Authentication"] = "Warning",
        ["Logging:LogLevel:Microsoft.AspNetCore.Authorization"] = "Warning",
        ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Warning",
        ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
        // Both write lines for every request or outbound call at Information (the soak measured 99.8 % of the log there).
        ["Logging:LogLevel:ModelContextProtocol"] = "Warning",
        ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Warning",
    };
}
