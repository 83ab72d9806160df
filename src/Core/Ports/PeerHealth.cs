namespace McpAuth.Ports;

/// <summary>The state of a peer, as an <see cref="IPeerHealthProbe"/> reports it.</summary>
/// <param name="Status">Healthy, degraded (requests still succeed, e.g. a shared cache is down) or unhealthy.</param>
/// <param name="Description">What was seen; no secret.</param>
public readonly record struct PeerHealth(PeerHealthStatus Status, string Description)
{
    /// <summary>A healthy peer.</summary>
    public static PeerHealth Healthy(string description) => new(PeerHealthStatus.Healthy, description);

    /// <summary>A peer that is down while requests still succeed without it.</summary>
    public static PeerHealth Degraded(string description) => new(PeerHealthStatus.Degraded, description);

    /// <summary>A peer whose failure makes requests fail.</summary>
    public static PeerHealth Unhealthy(string description) => new(PeerHealthStatus.Unhealthy, description);
}
