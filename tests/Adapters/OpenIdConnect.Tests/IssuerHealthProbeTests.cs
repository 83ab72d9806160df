using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace McpAuth.OpenIdConnect.Tests;

/// <summary>
/// The issuer's readiness probe (<c>issuer</c>, registered by <c>AddOidcProvider</c>) on a fake clock: healthy while keys
/// are fresh, unhealthy while none were ever fetched or they are older than <c>MetadataMaxAge</c> and cannot be refreshed.
/// </summary>
public sealed class IssuerHealthProbeTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private FakeIssuer _issuer = null!;

    public async Task InitializeAsync() => _issuer = await FakeIssuer.StartAsync();

    public async Task DisposeAsync() => await _issuer.DisposeAsync();

    private Harness Pipeline(string? issuer) => new(
        o =>
        {
            o.AuthorizationUrl = issuer;
            o.Audience = Harness.Resource;
            o.SkipJwtVerification = issuer is null;
        },
        services: s => s.AddSingleton<TimeProvider>(_time));

    [Fact]
    public async Task Probe_AfterAFetch_IsHealthy_WithoutFetchingAgain()
    {
        using var pipeline = Pipeline(_issuer.Issuer);
        (await pipeline.SendAsync(_issuer.Token())).Succeeded.Should().BeTrue("the request fetches the keys");
        _time.Advance(TimeSpan.FromSeconds(30));

        var probe = pipeline.Probe("issuer");
        var health = await probe.CheckAsync(CancellationToken.None);

        health.Should().Be(PeerHealth.Healthy("1 signing key(s), fetched 30 s ago."));
        _issuer.Count("/jwks").Should().Be(1, "fresh keys are not fetched again");
        pipeline.Store.KeyFetches.Should().Be(1);
    }

    [Fact]
    public async Task Probe_IssuerDownAndNothingFetched_IsUnhealthy()
    {
        await _issuer.StopAsync();
        using var pipeline = Pipeline(_issuer.Issuer);

        var health = await pipeline.Probe("issuer").CheckAsync(CancellationToken.None);

        health.Should().Be(PeerHealth.Unhealthy("The issuer's metadata and keys could not be fetched."));
        pipeline.Store.DocumentFetches.Should().BeGreaterThan(0, "the probe tried the issuer");
        pipeline.Store.Current.Should().BeNull();
    }

    [Fact]
    public async Task Probe_KeysOlderThanMetadataMaxAgeAndIssuerDown_IsUnhealthy()
    {
        using var pipeline = Pipeline(_issuer.Issuer);
        var probe = pipeline.Probe("issuer");
        (await probe.CheckAsync(CancellationToken.None)).Status.Should().Be(PeerHealthStatus.Healthy, "the probe itself fetches the keys");
        await _issuer.StopAsync();

        _time.Advance(TimeSpan.FromMinutes(59));
        (await probe.CheckAsync(CancellationToken.None)).Should().Be(PeerHealth.Healthy("1 signing key(s), fetched 3540 s ago."),
            "keys younger than MetadataMaxAge (1 h) are fine while the issuer is down");
        pipeline.Store.DocumentFetches.Should().Be(1);

        _time.Advance(TimeSpan.FromMinutes(2));
        var health = await probe.CheckAsync(CancellationToken.None);

        health.Should().Be(PeerHealth.Unhealthy("The issuer's keys are 61 minutes old and cannot be refreshed."));
        pipeline.Store.DocumentFetches.Should().Be(3, "stale keys are refreshed: both discovery URLs were tried, and both failed");
        pipeline.Store.Current.Should().NotBeNull("the last-known-good keys stay in use");
    }

    [Fact]
    public async Task Probe_KeysOlderThanMetadataMaxAgeAndIssuerUp_RefreshesAndIsHealthy()
    {
        using var pipeline = Pipeline(_issuer.Issuer);
        var probe = pipeline.Probe("issuer");
        (await probe.CheckAsync(CancellationToken.None)).Status.Should().Be(PeerHealthStatus.Healthy);
        _time.Advance(TimeSpan.FromMinutes(61));

        var health = await probe.CheckAsync(CancellationToken.None);

        health.Should().Be(PeerHealth.Healthy("1 signing key(s), fetched 0 s ago."));
        _issuer.Count("/jwks").Should().Be(2);
    }

    [Fact]
    public async Task Probe_NoIssuerConfigured_IsHealthy_AndFetchesNothing()
    {
        using var pipeline = Pipeline(issuer: null);

        var health = await pipeline.Probe("issuer").CheckAsync(CancellationToken.None);

        health.Should().Be(PeerHealth.Healthy("No issuer is configured."));
        pipeline.Store.DocumentFetches.Should().Be(0);
        _issuer.Hits.Should().BeEmpty();
    }
}
