using System.Net;
using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace McpAuth.AspNetCore.Tests;

/// <summary>AddHealthChecks().AddMcpAuthChecks(): readiness is the worst state of every peer probe the adapters registered.</summary>
public sealed class HealthTests
{
    private sealed class Probe(string name) : IPeerHealthProbe
    {
        public PeerHealth Health { get; set; } = PeerHealth.Healthy("fine");

        public string Name => name;

        public ValueTask<PeerHealth> CheckAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Health);
    }

    [Theory]
    [InlineData(PeerHealthStatus.Healthy, PeerHealthStatus.Healthy, HttpStatusCode.OK, "Healthy")]
    [InlineData(PeerHealthStatus.Degraded, PeerHealthStatus.Healthy, HttpStatusCode.OK, "Degraded")]
    [InlineData(PeerHealthStatus.Healthy, PeerHealthStatus.Unhealthy, HttpStatusCode.ServiceUnavailable, "Unhealthy")]
    public async Task Readiness_IsTheWorstProbe(PeerHealthStatus first, PeerHealthStatus second, HttpStatusCode status, string body)
    {
        var a = new Probe("a") { Health = new PeerHealth(first, "a is " + first) };
        var b = new Probe("b") { Health = new PeerHealth(second, "b is " + second) };
        await using var app = await EmbeddedApp.StartAsync(services: builder =>
        {
            builder.Services.RemoveAll<IPeerHealthProbe>(); // only these two (the issuer of this app is not reachable)
            builder.Services.AddSingleton<IPeerHealthProbe>(a);
            builder.Services.AddSingleton<IPeerHealthProbe>(b);
        });
        using var response = await app.Client.GetAsync("/readyz");
        response.StatusCode.Should().Be(status);
        (await response.Content.ReadAsStringAsync()).Should().Be(body);
    }

    [Fact]
    public async Task Readiness_IssuerUnreachable_IsUnhealthy()
    {
        await using var app = await EmbeddedApp.StartAsync(o => o.AuthorizationUrl = "http://127.0.0.1:9", services: b =>
            b.Services.Configure<McpAuth.OpenIdConnect.OidcProviderOptions>(p => p.IssuerTimeout = TimeSpan.FromSeconds(1)));
        (await app.Client.GetAsync("/readyz")).StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
    }
}
