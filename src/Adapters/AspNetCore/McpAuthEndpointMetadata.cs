namespace McpAuth.AspNetCore;

/// <summary>
/// Marks an endpoint that the McpAuth scheme protects, and says whether its request bodies are MCP JSON-RPC messages
/// that stages may read (tool names for step-up scopes, target clusters for TokenReview). <c>RequireMcpAuth()</c> adds
/// it. An endpoint without it has its calls "not supplied": a stage that needs them refuses the request.
/// </summary>
public sealed class McpAuthEndpointMetadata
{
    private McpAuthEndpointMetadata(bool mcpBody) => McpBody = mcpBody;

    /// <summary>An MCP endpoint: its POST bodies are JSON-RPC messages.</summary>
    public static McpAuthEndpointMetadata Mcp { get; } = new(true);

    /// <summary>
    /// An endpoint that is not MCP (for example a REST API protected by the same scheme): it has no JSON-RPC calls, and
    /// TokenReview uses the default cluster.
    /// </summary>
    public static McpAuthEndpointMetadata NotMcp { get; } = new(false);

    /// <summary>True when the endpoint's POST bodies are MCP JSON-RPC messages.</summary>
    public bool McpBody { get; }
}
