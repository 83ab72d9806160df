namespace McpAuth.AspNetCore.Tests.FaultMatrix;

/// <summary>Which peer misbehaves, and what McpAuth already holds from it.</summary>
public enum Peer
{
    /// <summary>Issuer discovery document; nothing cached yet (first request after start).</summary>
    Discovery,

    /// <summary>Issuer JWKS; nothing cached yet.</summary>
    Jwks,

    /// <summary>Issuer discovery document; keys cached and past <c>MetadataMaxAge</c> (a background refresh runs).</summary>
    DiscoveryCached,

    /// <summary>Issuer JWKS; keys cached and past <c>MetadataMaxAge</c>.</summary>
    JwksCached,

    /// <summary>STS token endpoint (RFC 8693 exchange on, discovered <c>token_endpoint</c>).</summary>
    Sts,

    /// <summary>API server TokenReview (<c>ValidateToken</c> on, kubeconfig pointing at the peer).</summary>
    TokenReview,

    /// <summary>
    /// RFC 7662 introspection endpoint (<c>IntrospectionClientId</c> set, discovered <c>introspection_endpoint</c>) asked
    /// about an opaque token; issuer fine.
    /// </summary>
    Introspection,
}

/// <summary>How the peer misbehaves.</summary>
public enum Fault
{
    /// <summary>Connection refused: the role's port is bound but not listening.</summary>
    Refused,

    /// <summary>HTTP 500.</summary>
    Http500,

    /// <summary>No response headers until the client gives up (or 3 × T).</summary>
    Hang,

    /// <summary>The normal answer after T / 2: slow, but within T.</summary>
    Slow,

    /// <summary>200, <c>application/json</c>, a body that is not JSON.</summary>
    GarbageJson,

    /// <summary>Beyond the brief: 200 with <c>{}</c>: valid JSON, every required member missing.</summary>
    EmptyJson,

    /// <summary>200, valid JSON past the adapter's size limit, streamed without Content-Length.</summary>
    Oversized,

    /// <summary>https with a self-signed certificate, no <c>CertificateAuthority</c>.</summary>
    UntrustedTls,

    /// <summary>Beyond the brief: 200 with a Content-Length, half the body, then the connection is closed.</summary>
    Truncated,

    /// <summary>Beyond the brief: 200 with a Content-Length, half the body, then nothing until the peer gives up (3 × T) and closes.</summary>
    StalledBody,
}

/// <summary>How long the client may wait for the answer to the faulted request (see <see cref="MatrixSettings.Interval"/>).</summary>
public enum Bound
{
    /// <summary>No timeout is waited for.</summary>
    Instant,

    /// <summary>The peer's delay, under the timeout.</summary>
    Slow,

    /// <summary>One adapter timeout.</summary>
    OneTimeout,
}

/// <summary>What happens once the fault is cleared.</summary>
public enum Recovery
{
    /// <summary>After the issuer's <c>FailureBackoff</c>, the same token is accepted (200).</summary>
    NextRequest,

    /// <summary>Requests get 200, and the next background refresh replaces the stale keys.</summary>
    KeysRefreshed,

    /// <summary>Nothing to recover from (the fault never failed a request).</summary>
    Nothing,

    /// <summary>Only a configuration change can clear this fault (see the note).</summary>
    ByConfiguration,
}

/// <summary>One cell of the matrix: what the client gets when <see cref="Peer"/> shows <see cref="Fault"/>.</summary>
/// <param name="Status">
/// The status of the faulted request; with cached keys, of a request after the background refresh ran (the one that
/// started it always gets 200 at once). 503 always carries <c>Retry-After</c>.
/// </param>
/// <param name="Bound">How long the faulted request may take.</param>
/// <param name="Recovery">What happens after the fault is cleared.</param>
/// <param name="Note">Why, in a few words.</param>
public sealed record Cell(Peer Peer, Fault Fault, int Status, Bound Bound, Recovery Recovery, string Note)
{
    public string Name => $"{Peer}_{Fault}";

    public PeerRole Role => Peer switch
    {
        Peer.Discovery or Peer.DiscoveryCached => PeerRole.Discovery,
        Peer.Jwks or Peer.JwksCached => PeerRole.Jwks,
        Peer.Sts => PeerRole.Sts,
        Peer.Introspection => PeerRole.Introspection,
        _ => PeerRole.ApiServer,
    };
}

/// <summary>
/// The fault matrix: every expected status, time bound and recovery, in one table. The <c>*FaultMatrixTests</c> classes
/// run each row against <see cref="FaultPeer"/>; <see cref="FaultMatrixDocument"/> writes docs/fault-matrix.md from it.
/// </summary>
public static class FaultMatrixTable
{
    private const string LastKnownGood = "last-known-good keys; the background refresh fails and backs off";

    public static readonly IReadOnlyList<Cell> Cells =
    [
        new(Peer.Discovery, Fault.Refused, 503, Bound.Instant, Recovery.NextRequest, "both discovery URLs (OIDC, RFC 8414) refused"),
        new(Peer.Discovery, Fault.Http500, 503, Bound.Instant, Recovery.NextRequest, "both discovery URLs answer 500"),
        new(Peer.Discovery, Fault.Hang, 503, Bound.OneTimeout, Recovery.NextRequest, "IssuerTimeout bounds the whole fetch; no fallback URL after it"),
        new(Peer.Discovery, Fault.Slow, 200, Bound.Slow, Recovery.Nothing, "within IssuerTimeout (discovery and JWKS share it)"),
        new(Peer.Discovery, Fault.GarbageJson, 503, Bound.Instant, Recovery.NextRequest, "not JSON: next discovery URL, then 503"),
        new(Peer.Discovery, Fault.EmptyJson, 503, Bound.Instant, Recovery.NextRequest, "no issuer member: refused as another issuer's document"),
        new(Peer.Discovery, Fault.Oversized, 503, Bound.Instant, Recovery.NextRequest, "over MaxDocumentBytes (1 MiB): the read stops at the limit"),
        new(Peer.Discovery, Fault.UntrustedTls, 503, Bound.Instant, Recovery.ByConfiguration, "system trust store refuses the handshake; CertificateAuthority would trust it"),
        new(Peer.Discovery, Fault.Truncated, 503, Bound.Instant, Recovery.NextRequest, "a body cut short is a failed fetch (backoff), never a stuck one"),
        new(Peer.Discovery, Fault.StalledBody, 503, Bound.OneTimeout, Recovery.NextRequest, "IssuerTimeout covers the body"),

        new(Peer.Jwks, Fault.Refused, 503, Bound.Instant, Recovery.NextRequest, "jwks_uri refused"),
        new(Peer.Jwks, Fault.Http500, 503, Bound.Instant, Recovery.NextRequest, "JWKS 500"),
        new(Peer.Jwks, Fault.Hang, 503, Bound.OneTimeout, Recovery.NextRequest, "IssuerTimeout bounds discovery + JWKS"),
        new(Peer.Jwks, Fault.Slow, 200, Bound.Slow, Recovery.Nothing, "within IssuerTimeout"),
        new(Peer.Jwks, Fault.GarbageJson, 503, Bound.Instant, Recovery.NextRequest, "JWKS not JSON"),
        new(Peer.Jwks, Fault.EmptyJson, 503, Bound.Instant, Recovery.NextRequest, "a JWKS without signing keys is a failed fetch"),
        new(Peer.Jwks, Fault.Oversized, 503, Bound.Instant, Recovery.NextRequest, "over MaxDocumentBytes (1 MiB)"),
        new(Peer.Jwks, Fault.UntrustedTls, 503, Bound.Instant, Recovery.NextRequest, "jwks_uri on https (self-signed); recovers when a reachable jwks_uri is published"),
        new(Peer.Jwks, Fault.Truncated, 503, Bound.Instant, Recovery.NextRequest, "a body cut short is a failed fetch (backoff)"),
        new(Peer.Jwks, Fault.StalledBody, 503, Bound.OneTimeout, Recovery.NextRequest, "IssuerTimeout covers the body"),

        new(Peer.DiscoveryCached, Fault.Refused, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood),
        new(Peer.DiscoveryCached, Fault.Http500, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood),
        new(Peer.DiscoveryCached, Fault.Hang, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood + " after IssuerTimeout"),
        new(Peer.DiscoveryCached, Fault.Slow, 200, Bound.Instant, Recovery.Nothing, "answered at once; the background refresh succeeds"),
        new(Peer.DiscoveryCached, Fault.GarbageJson, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood),
        new(Peer.DiscoveryCached, Fault.EmptyJson, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood),
        new(Peer.DiscoveryCached, Fault.Oversized, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood),
        new(Peer.DiscoveryCached, Fault.UntrustedTls, 200, Bound.Instant, Recovery.KeysRefreshed,
            "issuer trusted through CertificateAuthority, then presents a self-signed certificate; " + LastKnownGood),
        new(Peer.DiscoveryCached, Fault.Truncated, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood),
        new(Peer.DiscoveryCached, Fault.StalledBody, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood + " after IssuerTimeout"),

        new(Peer.JwksCached, Fault.Refused, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood),
        new(Peer.JwksCached, Fault.Http500, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood),
        new(Peer.JwksCached, Fault.Hang, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood + " after IssuerTimeout"),
        new(Peer.JwksCached, Fault.Slow, 200, Bound.Instant, Recovery.Nothing, "answered at once; the background refresh succeeds"),
        new(Peer.JwksCached, Fault.GarbageJson, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood),
        new(Peer.JwksCached, Fault.EmptyJson, 200, Bound.Instant, Recovery.KeysRefreshed, "a JWKS without signing keys never replaces keys held; " + LastKnownGood),
        new(Peer.JwksCached, Fault.Oversized, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood),
        new(Peer.JwksCached, Fault.UntrustedTls, 200, Bound.Instant, Recovery.KeysRefreshed, "jwks_uri switched to https (self-signed); " + LastKnownGood),
        new(Peer.JwksCached, Fault.Truncated, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood),
        new(Peer.JwksCached, Fault.StalledBody, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood + " after IssuerTimeout"),

        new(Peer.Sts, Fault.Refused, 503, Bound.Instant, Recovery.NextRequest, "failures are not cached"),
        new(Peer.Sts, Fault.Http500, 503, Bound.Instant, Recovery.NextRequest, "5xx: unavailable"),
        new(Peer.Sts, Fault.Hang, 503, Bound.OneTimeout, Recovery.NextRequest, "StsTimeout"),
        new(Peer.Sts, Fault.Slow, 200, Bound.Slow, Recovery.Nothing, "within StsTimeout"),
        new(Peer.Sts, Fault.GarbageJson, 503, Bound.Instant, Recovery.NextRequest, "not JSON: unavailable"),
        new(Peer.Sts, Fault.EmptyJson, 503, Bound.Instant, Recovery.NextRequest, "no access_token: unavailable"),
        new(Peer.Sts, Fault.Oversized, 503, Bound.Instant, Recovery.NextRequest, "over the 64 KiB STS limit"),
        new(Peer.Sts, Fault.UntrustedTls, 503, Bound.Instant, Recovery.ByConfiguration, "token_endpoint on https (self-signed); CertificateAuthority would trust it"),
        new(Peer.Sts, Fault.Truncated, 503, Bound.Instant, Recovery.NextRequest, "a body cut short: unavailable"),
        new(Peer.Sts, Fault.StalledBody, 503, Bound.OneTimeout, Recovery.NextRequest, "StsTimeout covers the body"),

        new(Peer.TokenReview, Fault.Refused, 503, Bound.Instant, Recovery.NextRequest, "errors are not cached"),
        new(Peer.TokenReview, Fault.Http500, 503, Bound.Instant, Recovery.NextRequest, "HTTP 500: unavailable"),
        new(Peer.TokenReview, Fault.Hang, 503, Bound.OneTimeout, Recovery.NextRequest, "TokenReviewTimeout"),
        new(Peer.TokenReview, Fault.Slow, 200, Bound.Slow, Recovery.Nothing, "within TokenReviewTimeout"),
        new(Peer.TokenReview, Fault.GarbageJson, 503, Bound.Instant, Recovery.NextRequest, "not JSON: unavailable"),
        new(Peer.TokenReview, Fault.EmptyJson, 503, Bound.Instant, Recovery.NextRequest, "no status.authenticated: no verdict, unavailable and not cached"),
        new(Peer.TokenReview, Fault.Oversized, 503, Bound.Instant, Recovery.NextRequest, "over the 1 MiB API-server response limit: the read stops at it"),
        new(Peer.TokenReview, Fault.UntrustedTls, 503, Bound.Instant, Recovery.ByConfiguration, "kubeconfig server on https, no certificate-authority"),
        new(Peer.TokenReview, Fault.Truncated, 503, Bound.Instant, Recovery.NextRequest, "a body cut short: unavailable"),
        new(Peer.TokenReview, Fault.StalledBody, 503, Bound.OneTimeout, Recovery.NextRequest, "TokenReviewTimeout covers the body (read inside the send)"),

        new(Peer.Introspection, Fault.Refused, 503, Bound.Instant, Recovery.NextRequest, "unavailable answers are not cached: the same opaque token is asked about again"),
        new(Peer.Introspection, Fault.Http500, 503, Bound.Instant, Recovery.NextRequest, "any status but 200: unavailable"),
        new(Peer.Introspection, Fault.Hang, 503, Bound.OneTimeout, Recovery.NextRequest, "IntrospectionTimeout"),
        new(Peer.Introspection, Fault.Slow, 200, Bound.Slow, Recovery.Nothing, "within IntrospectionTimeout"),
        new(Peer.Introspection, Fault.GarbageJson, 503, Bound.Instant, Recovery.NextRequest, "not JSON: unavailable"),
        new(Peer.Introspection, Fault.EmptyJson, 503, Bound.Instant, Recovery.NextRequest, "no boolean active: unavailable, never read as not active (401)"),
        new(Peer.Introspection, Fault.Oversized, 503, Bound.Instant, Recovery.NextRequest, "over the 64 KiB introspection limit: the read stops at it"),
        new(Peer.Introspection, Fault.UntrustedTls, 503, Bound.Instant, Recovery.ByConfiguration, "introspection_endpoint on https (self-signed); CertificateAuthority would trust it"),
        new(Peer.Introspection, Fault.Truncated, 503, Bound.Instant, Recovery.NextRequest, "a body cut short: unavailable"),
        new(Peer.Introspection, Fault.StalledBody, 503, Bound.OneTimeout, Recovery.NextRequest, "IntrospectionTimeout covers the body"),
    ];

    public static Cell Get(string name) => Cells.Single(c => c.Name == name);

    /// <summary>Theory rows (the cell's name) of the cells of <paramref name="peers"/>.</summary>
    public static TheoryData<string> Rows(params Peer[] peers)
    {
        var rows = new TheoryData<string>();
        foreach (var cell in Cells.Where(c => peers.Contains(c.Peer)))
        {
            rows.Add(cell.Name);
        }

        return rows;
    }
}
