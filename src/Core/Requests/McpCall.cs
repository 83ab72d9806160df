namespace McpAuth;

/// <summary>One JSON-RPC call of an MCP request body.</summary>
/// <param name="Method">The JSON-RPC method, e.g. <c>tools/call</c> (empty when the message has none).</param>
/// <param name="ToolName">For <c>tools/call</c>, <c>params.name</c>; otherwise null.</param>
/// <param name="Target">The call's target cluster (<c>params.arguments.context</c>), empty for the default.</param>
public sealed record McpCall(string Method, string? ToolName, string Target)
{
    /// <summary>The JSON-RPC method that calls a tool.</summary>
    public const string ToolsCall = "tools/call";

    /// <summary>True for a call of a tool (method compared case-insensitively, stricter than the MCP SDK's ordinal match).</summary>
    public bool IsToolCall => string.Equals(Method, ToolsCall, StringComparison.OrdinalIgnoreCase);
}
