using System.Net;
using Xunit.Abstractions;

namespace McpAuth.AspNetCore.Tests.FaultMatrix;

/// <summary>What the issuer adapter promises while the issuer hangs, through the embedding app and the real adapters.</summary>
public sealed class IssuerPromiseTests(FaultPeerFixture fixture, ITestOutputHelper output) : IClassFixture<FaultPeerFixture>
{
    private FaultPeer Peer => fixture.Peer;

    [Fact]
    public async Task KeysCached_IssuerHangsPastMetadataMaxAge_ConcurrentRequestsAnsweredAtOnce_OneFetch()
    {
        Peer.Reset();
        var maxAge = TimeSpan.FromSeconds(1);
        await using var app = await MatrixApp.StartAsync(new MatrixConfig { Issuer = Peer.Issuer, MetadataMaxAge = maxAge });
        (await app.SendAsync(app.Token(Peer))).Status.Should().Be(HttpStatusCode.OK);
        var cached = app.Store.Current!;
        var fetches = app.Store.Fetches;
        Peer.ResetCounters();
        Peer.Set(PeerRole.Discovery, Fault.Hang); // the issuer hangs: both of its endpoints
        Peer.Set(PeerRole.Jwks, Fault.Hang);
        await Task.Delay(maxAge + TimeSpan.FromMilliseconds(100));

        var tokens = Enumerable.Range(0, 8).Select(_ => app.Token(Peer)).ToList(); // distinct: none is in the validated-token cache
        var answers = await Task.WhenAll(tokens.Select(app.SendAsync));
        output.WriteLine(string.Join("; ", answers.Select(a => a.ToString())));

        answers.Should().OnlyContain(a => a.Status == HttpStatusCode.OK, "the last-known-good keys answer");
        answers.Should().OnlyContain(a => a.Elapsed <= MatrixSettings.Instant, "nobody waits for the hanging refresh");
        app.Store.Fetches.Should().Be(fetches + 1, "the stale keys start exactly one refresh, shared by all");
        (await FaultMatrixRunner.WaitUntilAsync(() => app.Store.FailingSince is not null, MatrixSettings.Timeout + MatrixSettings.Margin))
            .Should().BeTrue("the refresh gives up after IssuerTimeout");
        (Peer.Hits(PeerRole.Discovery) + Peer.Hits(PeerRole.Jwks)).Should().Be(1, "one request to the issuer, the one that hung");
        app.Store.Current.Should().BeSameAs(cached);
        (await app.SendAsync(app.Token(Peer))).Status.Should().Be(HttpStatusCode.OK, "still the last-known-good keys after the failed refresh");
    }

    [Fact]
    public async Task UnknownKid_IssuerHangs_503WithinOneFetchTimeout_WhileKnownKidsPass()
    {
        Peer.Reset();
        await using var app = await MatrixApp.StartAsync(new MatrixConfig { Issuer = Peer.Issuer });
        (await app.SendAsync(app.Token(Peer))).Status.Should().Be(HttpStatusCode.OK);
        var fetches = app.Store.Fetches;
        Peer.ResetCounters();
        Peer.Set(PeerRole.Discovery, Fault.Hang); // the issuer hangs: both of its endpoints
        Peer.Set(PeerRole.Jwks, Fault.Hang);
        await Task.Delay(MatrixSettings.KeyRefreshInterval + TimeSpan.FromMilliseconds(50)); // a forced refresh may start now

        var tokens = Enumerable.Range(0, 4).Select(_ => app.Token(Peer, unknownKid: "rotated-1")).ToList(); // made first: all sent at once
        var knownToken = app.Token(Peer);
        var unknown = tokens.Select(app.SendAsync).ToList();
        var known = await app.SendAsync(knownToken);
        var answers = await Task.WhenAll(unknown);
        output.WriteLine($"known kid: {known}; unknown kids: {string.Join("; ", answers.Select(a => a.ToString()))}");

        known.Status.Should().Be(HttpStatusCode.OK);
        known.Elapsed.Should().BeLessThanOrEqualTo(MatrixSettings.Instant, "a token under a cached kid never waits for the refresh");
        foreach (var answer in answers)
        {
            answer.Status.Should().Be(HttpStatusCode.ServiceUnavailable);
            answer.RetryAfter.Should().Be(TimeSpan.FromSeconds(MatrixSettings.RetryAfterSeconds));
            answer.Elapsed.Should().BeGreaterThanOrEqualTo(MatrixSettings.Timeout * 0.9, "it waited for the one fetch")
                .And.BeLessThanOrEqualTo(MatrixSettings.Timeout + MatrixSettings.Margin, "one fetch timeout, plus a margin");
            answer.Body.Should().NotContain(FaultMatrixRunner.GuardDescription);
        }

        app.Store.Fetches.Should().Be(fetches + 1, "the four unknown kids share one fetch");
        (Peer.Hits(PeerRole.Discovery) + Peer.Hits(PeerRole.Jwks)).Should().Be(1, "one request to the issuer, the one that hung");
    }

    [Fact]
    public async Task IssuerTimeout_IsOneBudget_ForDiscoveryAndJwksTogether()
    {
        Peer.Reset();
        Peer.SlowDelay = MatrixSettings.Timeout * 0.6;
        Peer.Set(PeerRole.Discovery, Fault.Slow);
        Peer.Set(PeerRole.Jwks, Fault.Slow);
        await using var app = await MatrixApp.StartAsync(new MatrixConfig { Issuer = Peer.Issuer });
        var answer = await app.SendAsync(app.Token(Peer));
        output.WriteLine(answer.ToString());

        answer.Status.Should().Be(HttpStatusCode.ServiceUnavailable, "0.6 T + 0.6 T is over the one budget, though each is under T");
        answer.Elapsed.Should().BeGreaterThanOrEqualTo(MatrixSettings.Timeout * 0.9).And.BeLessThanOrEqualTo(MatrixSettings.Timeout + MatrixSettings.Margin);
        Peer.Hits(PeerRole.Jwks).Should().Be(1, "the JWKS was asked, and cut off by the budget");
    }
}
