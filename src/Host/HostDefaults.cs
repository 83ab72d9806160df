namespace McpAuth.Host;

/// <summary>Defaults of the host that differ from the library's.</summary>
internal static class HostDefaults
{
    /// <summary>The host keeps the original's realm; the library's default is neutral.</summary>
    public const string Realm = "Kubernetes MCP Server";
}
