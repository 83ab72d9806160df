namespace McpAuth.Host;

/// <summary>Settings of the host itself (bound from the <c>McpAuth</c> section, like every setting; each is also a flag).</summary>
public sealed class McpHostOptions
{
    /// <summary><c>--port</c>: the port to listen on. Default 8080.</summary>
    public int Port { get; set; } = 8080;

    /// <summary><c>--bind-address</c>: the address to listen on. Default 127.0.0.1.</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary><c>--require-oauth</c>: protect the MCP endpoint. Off (the original's default): nothing is checked.</summary>
    public bool RequireOAuth { get; set; }

    /// <summary><c>--demo</c>: run an in-process development issuer on the same port and print a token.</summary>
    public bool Demo { get; set; }
}
