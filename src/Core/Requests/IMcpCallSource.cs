namespace McpAuth;

/// <summary>
/// Reads the JSON-RPC calls of a request (for ASP.NET Core: the MCP request body). Implemented by the host adapter; read
/// at most once per request, and only when a stage needs the calls.
/// </summary>
public interface IMcpCallSource
{
    /// <summary>Reads and decodes the calls. Never throws for bad input: an undecodable body is a refused set.</summary>
    ValueTask<McpCallSet> ReadCallsAsync(CancellationToken cancellationToken);
}
