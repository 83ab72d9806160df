namespace McpAuth.Ports;

/// <summary>
/// Tells whether a peer an adapter depends on (the issuer, an API server, a shared cache) is usable now. Adapters
/// register one per peer; the ASP.NET Core adapter turns them into a readiness health check.
/// </summary>
public interface IPeerHealthProbe
{
    /// <summary>A short name for the peer, e.g. <c>issuer</c>.</summary>
    string Name { get; }

    /// <summary>Checks the peer. Bounded in time by the adapter's own timeouts; never throws for a failing peer.</summary>
    ValueTask<PeerHealth> CheckAsync(CancellationToken cancellationToken);
}
