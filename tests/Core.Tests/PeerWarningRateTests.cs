using McpAuth.Behaviors;
using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace McpAuth.Core.Tests;

/// <summary>
/// An issuer outage under load: every request is refused with 503, but the "could not reach its peer" warning is
/// written once per stage per interval, not once per request.
/// </summary>
public sealed class PeerWarningRateTests
{
    [Fact]
    public async Task ThousandUnavailableRequests_OneWarning_AllRefused()
    {
        var logs = new LogCapture();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        var stage = new OidcProviderValidationBehavior(Opt.Of(), new FakeOidcValidator { Result = OidcValidationResult.Unavailable("connect refused") }, factory.CreateLogger<OidcProviderValidationBehavior>());
        var refused = 0;

        for (var i = 0; i < 1000; i++)
        {
            var request = new AuthenticateRequest("Bearer " + Tokens.Create(), []);
            request.State.Token = McpAuth.Tokens.ParsedToken.TryParse(Tokens.Create(), 16384, out _);
            var outcome = await stage.Handle(request, CancellationToken.None, () => Task.FromResult(AuthenticationOutcome.NoCredentials));
            if (outcome.Error?.Code == AuthenticationErrorCode.Unavailable)
            {
                refused++;
            }
        }

        refused.Should().Be(1000);
        logs.Entries.Should().ContainSingle(e => e.Level == LogLevel.Warning && e.Id.Id == 1002);
    }

    [Fact]
    public async Task TwoStages_EachGetsItsOwnWarning()
    {
        var logs = new LogCapture();
        var pipeline = TestPipeline.Build(TestPipeline.Everything, services: s => s.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace)));
        pipeline.Exchange.Result = TokenExchangeResult.Unavailable("HTTP 503");

        for (var i = 0; i < 5; i++)
        {
            (await pipeline.Send(Tokens.Create())).Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        }

        logs.Entries.Where(e => e.Id.Id == 1002).Should().ContainSingle()
            .Which.Message.Should().Be("Stage TokenExchange could not reach its peer: HTTP 503.");
    }

    [Fact]
    public void LogRate_OncePerIntervalPerLoggerAndKey()
    {
        using var factory = LoggerFactory.Create(_ => { });
        var one = factory.CreateLogger("one");
        var two = factory.CreateLogger("two");

        McpAuth.Diagnostics.LogRate.Allow(one, "k", TimeSpan.FromHours(1)).Should().BeTrue();
        McpAuth.Diagnostics.LogRate.Allow(one, "k", TimeSpan.FromHours(1)).Should().BeFalse("within the interval");
        McpAuth.Diagnostics.LogRate.Allow(one, "other", TimeSpan.FromHours(1)).Should().BeTrue("another key");
        McpAuth.Diagnostics.LogRate.Allow(two, "k", TimeSpan.FromHours(1)).Should().BeTrue("another logger");
        McpAuth.Diagnostics.LogRate.Allow(one, "z", TimeSpan.Zero).Should().BeTrue();
        McpAuth.Diagnostics.LogRate.Allow(one, "z", TimeSpan.Zero).Should().BeTrue("a zero interval lets every line through");
    }
}
