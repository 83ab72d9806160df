namespace McpAuth.Ports;

/// <summary>The state of a peer.</summary>
public enum PeerHealthStatus
{
    /// <summary>Usable.</summary>
    Healthy,

    /// <summary>Down, but requests still succeed without it.</summary>
    Degraded,

    /// <summary>Down, and requests that need it fail.</summary>
    Unhealthy,
}
