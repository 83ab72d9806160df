using System.Net;
using Xunit.Abstractions;

namespace McpAuth.AspNetCore.Tests.FaultMatrix;

/// <summary>
/// One <see cref="FaultPeer"/> per test class (one class per peer: the classes run in parallel, the rows of a class one
/// after another), and
/// one request through a complete app (and one TLS handshake) first, so that the JIT does not count against the first
/// row's time bound.
/// </summary>
public sealed class FaultPeerFixture : IAsyncLifetime
{
    public FaultPeer Peer { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Peer = await FaultPeer.StartAsync();

        // The first TLS handshake of the process loads OpenSSL and the system trust store: not a row's time.
        using (var tls = new HttpClient())
        {
            try
            {
                await tls.GetAsync(Peer.HttpsUrl + "/jwks");
            }
            catch (HttpRequestException)
            {
                // untrusted, as it should be
            }
        }

        var kubeconfig = Peer.WriteKubeconfig(Path.Combine(Path.GetTempPath(), $"mcpauth-fault-warm-{Guid.NewGuid():N}.yaml"));
        try
        {
            // The first fetch of a cold process can outlast the 1 s IssuerTimeout (JIT): try again after the backoff.
            Answer? answer = null;
            for (var attempt = 0; attempt < 5 && answer?.Status != HttpStatusCode.OK; attempt++)
            {
                await using var app = await MatrixApp.StartAsync(new MatrixConfig { Issuer = Peer.Issuer, Exchange = true, Kubeconfig = kubeconfig });
                answer = await app.SendAsync(app.Token(Peer));
            }

            if (answer?.Status != HttpStatusCode.OK)
            {
                throw new InvalidOperationException("The fault peer does not work without a fault: " + answer);
            }
        }
        finally
        {
            File.Delete(kubeconfig);
        }
    }

    public async Task DisposeAsync() => await Peer.DisposeAsync();
}

/// <summary>The issuer's discovery document fails before anything is cached.</summary>
public sealed class DiscoveryFaultMatrixTests(FaultPeerFixture fixture, ITestOutputHelper output) : IClassFixture<FaultPeerFixture>
{
    public static TheoryData<string> Rows => FaultMatrixTable.Rows(Peer.Discovery);

    [Theory]
    [MemberData(nameof(Rows))]
    public Task Row(string cell) => FaultMatrixRunner.RunAsync(FaultMatrixTable.Get(cell), fixture.Peer, output);
}

/// <summary>The issuer's JWKS fails before anything is cached.</summary>
public sealed class JwksFaultMatrixTests(FaultPeerFixture fixture, ITestOutputHelper output) : IClassFixture<FaultPeerFixture>
{
    public static TheoryData<string> Rows => FaultMatrixTable.Rows(Peer.Jwks);

    [Theory]
    [MemberData(nameof(Rows))]
    public Task Row(string cell) => FaultMatrixRunner.RunAsync(FaultMatrixTable.Get(cell), fixture.Peer, output);
}

/// <summary>The issuer's discovery document fails while keys are cached and past MetadataMaxAge.</summary>
public sealed class DiscoveryCachedFaultMatrixTests(FaultPeerFixture fixture, ITestOutputHelper output) : IClassFixture<FaultPeerFixture>
{
    public static TheoryData<string> Rows => FaultMatrixTable.Rows(Peer.DiscoveryCached);

    [Theory]
    [MemberData(nameof(Rows))]
    public Task Row(string cell) => FaultMatrixRunner.RunAsync(FaultMatrixTable.Get(cell), fixture.Peer, output);
}

/// <summary>The issuer's JWKS fails while keys are cached and past MetadataMaxAge.</summary>
public sealed class JwksCachedFaultMatrixTests(FaultPeerFixture fixture, ITestOutputHelper output) : IClassFixture<FaultPeerFixture>
{
    public static TheoryData<string> Rows => FaultMatrixTable.Rows(Peer.JwksCached);

    [Theory]
    [MemberData(nameof(Rows))]
    public Task Row(string cell) => FaultMatrixRunner.RunAsync(FaultMatrixTable.Get(cell), fixture.Peer, output);
}

/// <summary>The RFC 8693 token endpoint fails; the issuer is fine.</summary>
public sealed class StsFaultMatrixTests(FaultPeerFixture fixture, ITestOutputHelper output) : IClassFixture<FaultPeerFixture>
{
    public static TheoryData<string> Rows => FaultMatrixTable.Rows(Peer.Sts);

    [Theory]
    [MemberData(nameof(Rows))]
    public Task Row(string cell) => FaultMatrixRunner.RunAsync(FaultMatrixTable.Get(cell), fixture.Peer, output);
}

/// <summary>The API server's TokenReview fails; the issuer is fine.</summary>
public sealed class TokenReviewFaultMatrixTests(FaultPeerFixture fixture, ITestOutputHelper output) : IClassFixture<FaultPeerFixture>
{
    public static TheoryData<string> Rows => FaultMatrixTable.Rows(Peer.TokenReview);

    [Theory]
    [MemberData(nameof(Rows))]
    public Task Row(string cell) => FaultMatrixRunner.RunAsync(FaultMatrixTable.Get(cell), fixture.Peer, output);
}

/// <summary>The RFC 7662 introspection endpoint fails for an opaque token; the issuer is fine.</summary>
public sealed class IntrospectionFaultMatrixTests(FaultPeerFixture fixture, ITestOutputHelper output) : IClassFixture<FaultPeerFixture>
{
    public static TheoryData<string> Rows => FaultMatrixTable.Rows(Peer.Introspection);

    [Theory]
    [MemberData(nameof(Rows))]
    public Task Row(string cell) => FaultMatrixRunner.RunAsync(FaultMatrixTable.Get(cell), fixture.Peer, output);
}
