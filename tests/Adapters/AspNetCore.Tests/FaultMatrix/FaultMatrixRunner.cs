using System.Net;
using McpAuth.Kubernetes;
using McpAuth.OpenIdConnect;
using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace McpAuth.AspNetCore.Tests.FaultMatrix;

/// <summary>
/// Runs one <see cref="Cell"/>: sets the fault on the peer, sends a valid token through the embedding app (an opaque one
/// for <see cref="Peer.Introspection"/>), asserts the status (and <c>Retry-After</c> on 503), the time bound, that the
/// token appears neither in the answer nor in the app's log, that the faulted peer was really asked, and the recovery.
/// </summary>
public static class FaultMatrixRunner
{
    public static async Task RunAsync(Cell cell, FaultPeer peer, ITestOutputHelper output)
    {
        peer.Reset();
        var started = DateTime.UtcNow;
        var log = new List<string>();
        try
        {
            switch (cell.Peer)
            {
                case Peer.Discovery or Peer.Jwks:
                    await ColdIssuerAsync(cell, peer, log);
                    break;
                case Peer.DiscoveryCached or Peer.JwksCached:
                    await CachedKeysAsync(cell, peer, log);
                    break;
                default:
                    await DownstreamAsync(cell, peer, log);
                    break;
            }
        }
        finally
        {
            output.WriteLine($"{cell.Name} [{started:HH:mm:ss.fff}, {(DateTime.UtcNow - started).TotalMilliseconds:0} ms]: {string.Join("; ", log)}");
        }
    }

    // Nothing cached: the faulted request is the one that makes the first fetch.
    private static async Task ColdIssuerAsync(Cell cell, FaultPeer peer, List<string> log)
    {
        peer.Set(cell.Role, cell.Fault); // before the start: an https issuer URL is configuration
        await using var app = await MatrixApp.StartAsync(new MatrixConfig { Issuer = peer.Issuer });
        await WarmAsync(app);
        var token = app.Token(peer);

        var answer = await app.SendAsync(token);
        log.Add("faulted " + answer);
        AssertAnswer(cell, answer, app, token);
        app.Store.Fetches.Should().BeGreaterThan(0, "the request made the first fetch");
        AssertAsked(cell, peer);

        await RecoverAsync(cell, peer, app, token, log);
    }

    // Keys cached and past MetadataMaxAge: the faulted peer is only asked by the background refresh.
    private static async Task CachedKeysAsync(Cell cell, FaultPeer peer, List<string> log)
    {
        var tlsIssuer = cell is { Peer: Peer.DiscoveryCached, Fault: Fault.UntrustedTls };
        peer.PresentCaIssuedCertificate = tlsIssuer;
        await using var app = await MatrixApp.StartAsync(new MatrixConfig
        {
            Issuer = tlsIssuer ? peer.HttpsUrl : peer.Issuer,
            MetadataMaxAge = MatrixSettings.CachedMetadataMaxAge,
            CertificateAuthority = tlsIssuer ? peer.CaPemPath : null,
        });
        var warm = await WarmWithTokenAsync(app, () => app.Token(peer), log);
        warm.Status.Should().Be(HttpStatusCode.OK, "the keys are cached before the fault");
        var cached = app.Store.Current!;
        var fetches = app.Store.Fetches;
        peer.ResetCounters();

        if (tlsIssuer)
        {
            peer.PresentCaIssuedCertificate = false; // the issuer now presents a certificate the CA did not issue
            peer.DropHttpsConnections();
        }
        else
        {
            peer.Set(cell.Role, cell.Fault);
        }

        // Past MetadataMaxAge: the first request is answered from the stale keys at once and starts a background refresh.
        await Task.Delay(MatrixSettings.CachedMetadataMaxAge + TimeSpan.FromMilliseconds(50));
        var first = await app.SendAsync(app.Token(peer));
        log.Add("stale " + first);
        first.Status.Should().Be(HttpStatusCode.OK, "stale keys are used while the refresh runs");
        first.Elapsed.Should().BeLessThan(MatrixSettings.Instant, "no request waits for a background refresh");

        var ended = await WaitUntilAsync(() => app.Store.Fetches > fetches
                                               && (app.Store.FailingSince is not null || !ReferenceEquals(app.Store.Current, cached)),
            (MatrixSettings.Timeout * 2) + MatrixSettings.Margin); // a background task: no client waits on it, so a loaded machine gets slack

        log.Add($"background refresh: fetches {fetches}→{app.Store.Fetches}, failing since {app.Store.FailingSince?.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture) ?? "-"}, keys {app.Store.Current!.SigningKeys.Count}");
        AssertAsked(cell, peer);
        ended.Should().BeTrue("the background refresh ends (fails or succeeds) within IssuerTimeout");

        // What clients get once the refresh has run (or not), while the fault lasts.
        var token = app.Token(peer);
        var answer = await app.SendAsync(token);
        log.Add("faulted " + answer);
        AssertAnswer(cell, answer, app, token);

        switch (cell.Recovery)
        {
            case Recovery.Nothing:
                app.Store.FailingSince.Should().BeNull("a slow issuer is still within IssuerTimeout");
                app.Store.Current!.FetchedAt.Should().BeAfter(cached.FetchedAt);
                return;
        }

        if (cell.Status == 200)
        {
            app.Store.Current.Should().BeSameAs(cached, "a failed refresh keeps the last-known-good snapshot");
        }

        // Recovery: the fault clears; after FailureBackoff the next request's refresh replaces the keys.
        if (tlsIssuer)
        {
            peer.PresentCaIssuedCertificate = true;
            peer.DropHttpsConnections();
        }
        else
        {
            peer.Clear(cell.Role);
        }

        var cleared = DateTimeOffset.UtcNow;
        await Task.Delay(MatrixSettings.FailureBackoff + TimeSpan.FromMilliseconds(50));
        var after = await app.SendAsync(app.Token(peer));
        log.Add("after clearing " + after);
        after.Status.Should().Be(HttpStatusCode.OK);
        after.Elapsed.Should().BeLessThanOrEqualTo(MatrixSettings.Timeout + MatrixSettings.Margin, "within one fetch");
        var refreshed = await WaitUntilAsync(() => app.Store.FailingSince is null && app.Store.Current!.FetchedAt > cleared,
            MatrixSettings.Timeout + MatrixSettings.Margin);
        log.Add($"refreshed: {refreshed}");
        refreshed.Should().BeTrue("once the issuer answers again, the next refresh replaces the stale keys");
    }

    // The issuer is fine; the exchange, the review or the introspection fails.
    private static async Task DownstreamAsync(Cell cell, FaultPeer peer, List<string> log)
    {
        var tls = cell.Fault == Fault.UntrustedTls;
        if (tls)
        {
            peer.Set(cell.Role, cell.Fault); // https URL: the kubeconfig, or the token_endpoint of the first discovery
        }

        var kubeconfig = cell.Peer == Peer.TokenReview ? peer.WriteKubeconfig(Path.Combine(Path.GetTempPath(), $"mcpauth-fault-{Guid.NewGuid():N}.yaml")) : null;
        try
        {
            await using var app = await MatrixApp.StartAsync(new MatrixConfig
            {
                Issuer = peer.Issuer, Exchange = cell.Peer == Peer.Sts, Kubeconfig = kubeconfig, Introspection = cell.Peer == Peer.Introspection,
            });
            if (tls)
            {
                // The fault is there from the start: the first token meets it too (and warms the issuer fetch and the TLS client).
                var warm = await app.SendAsync(NewToken(cell, app, peer));
                log.Add("first " + warm);
                ((int)warm.Status).Should().Be(cell.Status);
                peer.ResetCounters();
            }
            else
            {
                var warm = await WarmWithTokenAsync(app, () => NewToken(cell, app, peer), log);
                warm.Status.Should().Be(HttpStatusCode.OK, "issuer, exchange, review and introspection work before the fault");
                peer.Set(cell.Role, cell.Fault);
                peer.ResetCounters();
            }

            var calls = PortCalls(app, cell.Peer);
            var token = NewToken(cell, app, peer); // another token: no cached exchange, review or introspection answers it
            var answer = await app.SendAsync(token);
            log.Add("faulted " + answer);
            AssertAnswer(cell, answer, app, token);
            PortCalls(app, cell.Peer).Should().BeGreaterThan(calls, "the adapter called the faulted peer");
            AssertAsked(cell, peer);
            if (cell.Peer == Peer.Introspection)
            {
                app.App.Services.GetRequiredService<TokenIntrospectionClient>().InFlight.Should().Be(0, "the faulted call gave its slot back");
            }

            await RecoverAsync(cell, peer, app, token, log);
        }
        finally
        {
            if (kubeconfig is not null)
            {
                File.Delete(kubeconfig);
            }
        }
    }

    private static async Task RecoverAsync(Cell cell, FaultPeer peer, MatrixApp app, string token, List<string> log)
    {
        switch (cell.Recovery)
        {
            case Recovery.NextRequest:
                peer.Clear(cell.Role);
                await Task.Delay(MatrixSettings.FailureBackoff + TimeSpan.FromMilliseconds(50));
                var after = await app.SendAsync(token);
                log.Add("after clearing " + after);
                after.Status.Should().Be(HttpStatusCode.OK, "the same token is accepted once the peer answers again");
                after.Elapsed.Should().BeLessThanOrEqualTo(MatrixSettings.Timeout + MatrixSettings.Margin, "within one fetch");
                break;
            case Recovery.Nothing:
                peer.Clear(cell.Role);
                var again = await app.SendAsync(NewToken(cell, app, peer));
                log.Add("again " + again);
                again.Status.Should().Be(HttpStatusCode.OK);
                break;
            case Recovery.ByConfiguration:
                break;
            default:
                throw new InvalidOperationException($"{cell.Recovery} is for cached keys");
        }
    }

    // A new token of the kind the row's peer is asked about: opaque for introspection, else a JWT the issuer signed.
    private static string NewToken(Cell cell, MatrixApp app, FaultPeer peer) =>
        cell.Peer == Peer.Introspection ? FaultPeer.OpaqueToken() : app.Token(peer);

    // Before the fault: a valid token through every peer. On a loaded machine a first fetch can outlast the 1 s timeouts;
    // that is not what a row tests, so the warm-up (only) is tried again after FailureBackoff.
    private static async Task<Answer> WarmWithTokenAsync(MatrixApp app, Func<string> newToken, List<string> log)
    {
        Answer warm = null!;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            warm = await app.SendAsync(newToken());
            log.Add("warm " + warm);
            if (warm.Status == HttpStatusCode.OK)
            {
                break;
            }

            await Task.Delay(MatrixSettings.FailureBackoff * 2);
        }

        return warm;
    }

    // A request without a token: 401 from the parse stage, no peer asked; it warms the handler and the pipeline.
    private static async Task WarmAsync(MatrixApp app)
    {
        var answer = await app.SendAsync(null);
        answer.Status.Should().Be(HttpStatusCode.Unauthorized);
    }

    private static void AssertAnswer(Cell cell, Answer answer, MatrixApp app, string token)
    {
        var (min, max, _) = MatrixSettings.Interval(cell.Bound);
        ((int)answer.Status).Should().Be(cell.Status, $"{cell.Name}: {answer}");
        answer.Body.Should().NotContain(token, "the answer never echoes the token");
        app.Logs.Contain(token).Should().BeFalse("no token is ever logged");
        answer.Elapsed.Should().BeGreaterThanOrEqualTo(min, $"{cell.Name}: {answer}").And.BeLessThanOrEqualTo(max, $"{cell.Name}: {answer}");
        if (cell.Status == 503)
        {
            answer.RetryAfter.Should().Be(TimeSpan.FromSeconds(MatrixSettings.RetryAfterSeconds), "a 503 tells the client when to retry");
            answer.Body.Should().Contain("temporarily_unavailable");
            answer.Body.Should().NotContain(GuardDescription, "the adapter reported the peer unavailable itself (no exception escaped it)");
        }
        else if (cell.Status == 200)
        {
            answer.Body.Should().Contain("\"tools\"", "the MCP endpoint ran");
        }
    }

    // The fault was really met: the peer saw the request (or the TLS connection), or, when its port refused, is closed.
    private static void AssertAsked(Cell cell, FaultPeer peer)
    {
        switch (cell.Fault)
        {
            case Fault.Refused:
                peer.Connections(cell.Role).Should().Be(0, "the port refused every connection");
                break;
            case Fault.UntrustedTls:
                peer.TlsHandshakes.Should().BeGreaterThan(0, "a TLS connection to the peer was attempted");
                break;
            default:
                peer.Hits(cell.Role).Should().BeGreaterThan(0, $"the {cell.Role} role was asked");
                break;
        }
    }

    /// <summary>The description of ExceptionGuardBehavior's 503 (the adapters' own say which peer is unavailable).</summary>
    public const string GuardDescription = "Authentication is temporarily unavailable";

    private static long PortCalls(MatrixApp app, Peer peer) => peer switch
    {
        Peer.Sts => ((CachingTokenExchangeClient)app.App.Services.GetRequiredService<ITokenExchangeClient>()).Exchanges,
        Peer.Introspection => ((CachingTokenIntrospector)app.App.Services.GetRequiredService<ITokenIntrospector>()).Introspections,
        _ => ((CachingTokenReviewClient)app.App.Services.GetRequiredService<ITokenReviewClient>()).Reviews,
    };

    public static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(20);
        }

        return condition();
    }
}
