namespace McpAuth.Ports;

/// <summary>How a peer answered. Adapters translate their transport errors into these; no exception type leaks.</summary>
public enum PortStatus
{
    /// <summary>The peer accepted the token.</summary>
    Accepted,

    /// <summary>The peer (or the adapter, on the peer's data) refused the token: the caller's fault.</summary>
    Rejected,

    /// <summary>The request named something the adapter does not know, e.g. an unknown cluster.</summary>
    InvalidRequest,

    /// <summary>The peer failed, timed out or could not be reached: not the caller's fault.</summary>
    Unavailable,
}
