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

    /// <summary>The normal answer after 0.7 s: just under T.</summary>
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

    /// <summary>No timeout is waited for, but the answer costs work (an 8 MiB body parsed): within T plus the margin.</summary>
    UnderTimeout,

    /// <summary>An unknown <c>kid</c> waits for the next key fetch: at most one <c>KeyRefreshInterval</c> plus one fetch.</summary>
    KeyFetch,

    /// <summary>No timeout applies: the answer comes when the peer closes the connection.</summary>
    PeerCloses,
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

    /// <summary>The same token stays refused for <c>ReviewCacheRejectedTtl</c> (10 s); another token is accepted at once.</summary>
    RejectionCached,

    /// <summary>
    /// Never: the issuer adapter is stuck. Nothing cached: every request gets 503. Keys cached: they are never refreshed
    /// again, and a token under a <c>kid</c> they lack gets 503.
    /// </summary>
    Never,
}

/// <summary>A cell where McpAuth's behaviour looks wrong: the row asserts today's behaviour; this says what it should be and why it is not.</summary>
public sealed record Finding(string Expected, string Why);

/// <summary>One cell of the matrix: what the client gets when <see cref="Peer"/> shows <see cref="Fault"/>.</summary>
/// <param name="Status">
/// The status of the faulted request; with cached keys, of a request after the background refresh ran (the one that
/// started it always gets 200 at once). 503 always carries <c>Retry-After</c>.
/// </param>
/// <param name="Bound">How long the faulted request may take.</param>
/// <param name="Recovery">What happens after the fault is cleared.</param>
/// <param name="Note">Why, in a few words.</param>
/// <param name="Finding">Set when this is today's behaviour but not the right one.</param>
/// <param name="ViaGuard">The 503 comes from <c>ExceptionGuardBehavior</c>: an exception escaped the adapter.</param>
public sealed record Cell(Peer Peer, Fault Fault, int Status, Bound Bound, Recovery Recovery, string Note, Finding? Finding = null, bool ViaGuard = false)
{
    public string Name => $"{Peer}_{Fault}";

    public PeerRole Role => Peer switch
    {
        Peer.Discovery or Peer.DiscoveryCached => PeerRole.Discovery,
        Peer.Jwks or Peer.JwksCached => PeerRole.Jwks,
        Peer.Sts => PeerRole.Sts,
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

    private static readonly Finding IssuerStuck = new(
        "503 from the adapter, then 200 after FailureBackoff (cached: last-known-good, then refreshed)",
        "IssuerMetadataStore.GetDocumentAsync catches HttpRequestException, OperationCanceledException and InvalidDataException; a body cut " +
        "short raises HttpIOException (an IOException) from BoundedContent.ReadStringAsync, which escapes FetchAsync. FetchAndStoreAsync " +
        "catches only OperationCanceledException, so it never reaches the block that clears _inflight and sets the backoff: _inflight " +
        "keeps the faulted task forever. FirstFetchAsync and RefreshKeysAsync join it and rethrow (ExceptionGuard: 503); " +
        "RefreshInBackground never starts another fetch (_inflight is not null).");

    private static readonly Finding EmptyJwksAccepted = new(
        "503 (nothing cached) / 200 from the last-known-good keys (cached): a JWKS without usable keys is a failed fetch",
        "IssuerMetadataStore.FetchAsync takes new JsonWebKeySet(jwks).GetSigningKeys() as it is: for {} (no \"keys\" member, RFC 7517 " +
        "requires one) that is an empty list, and the snapshot is stored as a success. Every token's kid is then unknown: 401 " +
        "invalid_token (\"signed with a key the issuer does not publish\"); with keys cached, the last-known-good keys are replaced " +
        "by none and the validated-token cache is emptied for them.");

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
        new(Peer.Discovery, Fault.Truncated, 503, Bound.Instant, Recovery.Never, "the issuer adapter is stuck: 503 forever", IssuerStuck, ViaGuard: true),
        new(Peer.Discovery, Fault.StalledBody, 503, Bound.OneTimeout, Recovery.NextRequest, "IssuerTimeout covers the body"),

        new(Peer.Jwks, Fault.Refused, 503, Bound.Instant, Recovery.NextRequest, "jwks_uri refused"),
        new(Peer.Jwks, Fault.Http500, 503, Bound.Instant, Recovery.NextRequest, "JWKS 500"),
        new(Peer.Jwks, Fault.Hang, 503, Bound.OneTimeout, Recovery.NextRequest, "IssuerTimeout bounds discovery + JWKS"),
        new(Peer.Jwks, Fault.Slow, 200, Bound.Slow, Recovery.Nothing, "within IssuerTimeout"),
        new(Peer.Jwks, Fault.GarbageJson, 503, Bound.Instant, Recovery.NextRequest, "JWKS not JSON"),
        new(Peer.Jwks, Fault.EmptyJson, 401, Bound.Instant, Recovery.NextRequest, "{} taken as a key set with no keys: valid tokens refused as invalid", EmptyJwksAccepted),
        new(Peer.Jwks, Fault.Oversized, 503, Bound.Instant, Recovery.NextRequest, "over MaxDocumentBytes (1 MiB)"),
        new(Peer.Jwks, Fault.UntrustedTls, 503, Bound.Instant, Recovery.NextRequest, "jwks_uri on https (self-signed); recovers when a reachable jwks_uri is published"),
        new(Peer.Jwks, Fault.Truncated, 503, Bound.Instant, Recovery.Never, "the issuer adapter is stuck: 503 forever", IssuerStuck, ViaGuard: true),
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
        new(Peer.DiscoveryCached, Fault.Truncated, 200, Bound.Instant, Recovery.Never,
            "last-known-good forever: never refreshed again; a new kid gets 503", IssuerStuck),
        new(Peer.DiscoveryCached, Fault.StalledBody, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood + " after IssuerTimeout"),

        new(Peer.JwksCached, Fault.Refused, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood),
        new(Peer.JwksCached, Fault.Http500, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood),
        new(Peer.JwksCached, Fault.Hang, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood + " after IssuerTimeout"),
        new(Peer.JwksCached, Fault.Slow, 200, Bound.Instant, Recovery.Nothing, "answered at once; the background refresh succeeds"),
        new(Peer.JwksCached, Fault.GarbageJson, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood),
        new(Peer.JwksCached, Fault.EmptyJson, 401, Bound.KeyFetch, Recovery.KeysRefreshed,
            "the refresh replaces the last-known-good keys with none: valid tokens refused as invalid", EmptyJwksAccepted),
        new(Peer.JwksCached, Fault.Oversized, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood),
        new(Peer.JwksCached, Fault.UntrustedTls, 200, Bound.Instant, Recovery.KeysRefreshed, "jwks_uri switched to https (self-signed); " + LastKnownGood),
        new(Peer.JwksCached, Fault.Truncated, 200, Bound.Instant, Recovery.Never,
            "last-known-good forever: never refreshed again; a new kid gets 503", IssuerStuck),
        new(Peer.JwksCached, Fault.StalledBody, 200, Bound.Instant, Recovery.KeysRefreshed, LastKnownGood + " after IssuerTimeout"),

        new(Peer.Sts, Fault.Refused, 503, Bound.Instant, Recovery.NextRequest, "failures are not cached"),
        new(Peer.Sts, Fault.Http500, 503, Bound.Instant, Recovery.NextRequest, "5xx: unavailable"),
        new(Peer.Sts, Fault.Hang, 503, Bound.OneTimeout, Recovery.NextRequest, "StsTimeout"),
        new(Peer.Sts, Fault.Slow, 200, Bound.Slow, Recovery.Nothing, "within StsTimeout"),
        new(Peer.Sts, Fault.GarbageJson, 503, Bound.Instant, Recovery.NextRequest, "not JSON: unavailable"),
        new(Peer.Sts, Fault.EmptyJson, 503, Bound.Instant, Recovery.NextRequest, "no access_token: unavailable"),
        new(Peer.Sts, Fault.Oversized, 503, Bound.Instant, Recovery.NextRequest, "over the 64 KiB STS limit"),
        new(Peer.Sts, Fault.UntrustedTls, 503, Bound.Instant, Recovery.ByConfiguration, "token_endpoint on https (self-signed); CertificateAuthority would trust it"),
        new(Peer.Sts, Fault.Truncated, 503, Bound.Instant, Recovery.NextRequest, "503 from ExceptionGuard: HttpIOException escapes the adapter",
            new Finding("503 from the adapter (Unavailable, a warning), not an unexpected fault",
                "StsTokenExchangeClient.ExchangeAsync catches HttpRequestException, OperationCanceledException and InvalidDataException; the " +
                "HttpIOException that BoundedContent.ReadStringAsync throws for a body cut short is none of them, so it reaches " +
                "ExceptionGuardBehavior (error log with stack trace, generic description). The status is right."),
            ViaGuard: true),
        new(Peer.Sts, Fault.StalledBody, 503, Bound.OneTimeout, Recovery.NextRequest, "StsTimeout covers the body"),

        new(Peer.TokenReview, Fault.Refused, 503, Bound.Instant, Recovery.NextRequest, "errors are not cached"),
        new(Peer.TokenReview, Fault.Http500, 503, Bound.Instant, Recovery.NextRequest, "HTTP 500: unavailable"),
        new(Peer.TokenReview, Fault.Hang, 503, Bound.OneTimeout, Recovery.NextRequest, "TokenReviewTimeout"),
        new(Peer.TokenReview, Fault.Slow, 200, Bound.Slow, Recovery.Nothing, "within TokenReviewTimeout"),
        new(Peer.TokenReview, Fault.GarbageJson, 503, Bound.Instant, Recovery.NextRequest, "not JSON: unavailable"),
        new(Peer.TokenReview, Fault.EmptyJson, 401, Bound.Instant, Recovery.RejectionCached, "no status taken as \"not authenticated\", and cached 10 s",
            new Finding("503 (a TokenReview without status is malformed), not cached",
                "KubernetesTokenReviewClient maps status?.Authenticated != true to NotAuthenticated, so a 200 without status ({} or null) is a " +
                "rejection: 401 invalid_token, which tells the client its token is bad. CachingTokenReviewClient keeps rejections for " +
                "ReviewCacheRejectedTtl (10 s), so the same token stays refused after the API server recovers.")),
        new(Peer.TokenReview, Fault.Oversized, 200, Bound.UnderTimeout, Recovery.Nothing, "no size limit: the whole 8 MiB answer is read and parsed",
            new Finding("a bounded read, like the issuer (1 MiB) and STS (64 KiB) adapters: 503 past it",
                "KubernetesTokenReviewClient sets no limit and KubernetesClient has none: Kubernetes.CreateResultAsync deserializes the whole " +
                "response stream (KubernetesJson.Deserialize<T>(stream)); HttpClient.MaxResponseContentBufferSize does not apply to a " +
                "ResponseHeadersRead stream.")),
        new(Peer.TokenReview, Fault.UntrustedTls, 503, Bound.Instant, Recovery.ByConfiguration, "kubeconfig server on https, no certificate-authority"),
        new(Peer.TokenReview, Fault.Truncated, 503, Bound.Instant, Recovery.NextRequest, "503 from ExceptionGuard: IOException escapes the adapter",
            new Finding("503 from the adapter (Unavailable, a warning), not an unexpected fault",
                "KubernetesTokenReviewClient.ReviewAsync catches HttpOperationException, HttpRequestException, OperationCanceledException and " +
                "JsonException; KubernetesClient reads the body after SendAsync(ResponseHeadersRead), so a body cut short throws an " +
                "IOException (HttpIOException) that reaches ExceptionGuardBehavior. The status is right."),
            ViaGuard: true),
        new(Peer.TokenReview, Fault.StalledBody, 503, Bound.PeerCloses, Recovery.NextRequest, "TokenReviewTimeout does not cover the body: waits for the peer",
            new Finding("503 within TokenReviewTimeout (+ margin)",
                "KubernetesClient sends with HttpCompletionOption.ResponseHeadersRead, so HttpClient.Timeout (HttpClientTimeout = " +
                "TokenReviewTimeout) ends at the headers; Kubernetes.CreateResultAsync then deserializes synchronously from the response " +
                "stream (KubernetesJson.Deserialize<T>(stream)), which no CancellationToken reaches, so the adapter's " +
                "CancelAfter(TokenReviewTimeout) does nothing. The request waits until the API server closes the connection (here 3 s; " +
                "forever if it never does), blocking a thread-pool thread, and the IOException then reaches ExceptionGuardBehavior."),
            ViaGuard: true),
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
