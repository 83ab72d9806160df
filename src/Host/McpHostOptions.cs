namespace McpAuth.Host;

/// <summary>Settings of the host itself (bound from the <c>McpAuth</c> section, like every setting; each is also a flag).</summary>
public sealed class McpHostOptions
{
    /// <summary><c>--port</c>: the port to listen on. Default 8080.</summary>
    public int Port { get; set; } = 8080;

    /// <summary><c>--bind-address</c>: the address to listen on. Default 127.0.0.1.</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary><c>--realm</c>: the realm of the <c>WWW-Authenticate</c> challenge.</summary>
    public string Realm { get; set; } = "Kubernetes MCP Server";

    /// <summary><c>--max-body-bytes</c>: the largest MCP request body read (larger → 413). Default 16 MiB.</summary>
    public long MaxBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary><c>--allowed-origins</c>: browser origins allowed to call <c>/mcp</c>. Default: the server's own, and any loopback origin on a loopback bind.</summary>
    public IList<string> AllowedOrigins { get; set; } = new List<string>();

    /// <summary><c>--demo</c>: run an in-process development issuer on the same port and print a token.</summary>
    public bool Demo { get; set; }

    /// <summary>Seconds a client should wait after a 503. Default 5.</summary>
    public int RetryAfterSeconds { get; set; } = 5;
}
