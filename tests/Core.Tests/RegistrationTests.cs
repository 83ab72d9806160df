using McpAuth.Caching;
using McpAuth.Diagnostics;
using McpAuth.Ports;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Core.Tests;

/// <summary>What <c>AddMcpAuth</c> registers, beyond the stages: start-up validation, defaults a host may override.</summary>
public class RegistrationTests
{
    [Fact]
    public void InvalidOptions_AreRefusedWhenTheHostStarts_NotOnlyOnFirstUse()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddMcpAuth(o => o.AuthorizationUrl = "https://issuer.test");
        using var provider = services.BuildServiceProvider();
        var validator = provider.GetService<IStartupValidator>();
        validator.Should().NotBeNull("AddMcpAuth validates its options on start (ValidateOnStart)");
        var act = () => validator!.Validate();
        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().ContainSingle()
            .Which.Should().StartWith("McpAuth:AuthorizationUrl is set but no audience is expected");
    }

    [Fact]
    public void Defaults_SystemClock_OneCacheKeySecret_OneValidatedTokenCache_OneRefusalSummary()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddMcpAuth(o => o.SkipJwtVerification = true);
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<TimeProvider>().Should().BeSameAs(TimeProvider.System);
        provider.GetRequiredService<CacheKeys>().Should().BeSameAs(provider.GetRequiredService<CacheKeys>());
        provider.GetRequiredService<ValidatedTokenCache>().Should().BeSameAs(provider.GetRequiredService<ValidatedTokenCache>());
        provider.GetRequiredService<RefusalSummary>().Should().BeSameAs(provider.GetRequiredService<RefusalSummary>());
        provider.GetRequiredService<IMediator>().Should().BeOfType<Mediator>();
        provider.GetServices<IValidateOptions<McpAuthOptions>>().OfType<McpAuthOptionsValidator>().Should().ContainSingle();
    }

    [Fact]
    public void HostRegistrations_MadeBefore_AreKept()
    {
        var clock = Opt.Clock();
        var keys = new CacheKeys();
        var oidc = new FakeOidcValidator();
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<TimeProvider>(clock);
        services.AddSingleton(keys);
        services.AddSingleton<IOidcTokenValidator>(oidc);
        services.AddMcpAuth(o => o.SkipJwtVerification = true);
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<TimeProvider>().Should().BeSameAs(clock);
        provider.GetRequiredService<CacheKeys>().Should().BeSameAs(keys);
        provider.GetRequiredService<IOidcTokenValidator>().Should().BeSameAs(oidc);
        provider.GetRequiredService<ITokenExchangeClient>().GetType().Name.Should().Be("NotConfiguredTokenExchangeClient");
        provider.GetRequiredService<ITokenReviewClient>().GetType().Name.Should().Be("NotConfiguredTokenReviewClient");
    }

    [Fact]
    public async Task Pipeline_CountsRefusals_InTheRegisteredRefusalSummary()
    {
        var logs = new LogCapture();
        var clock = Opt.Clock();
        var services = new ServiceCollection().AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        services.AddSingleton<TimeProvider>(clock);
        services.AddMcpAuth(o => { o.SkipJwtVerification = true; o.RefusalLogInterval = TimeSpan.FromSeconds(1); });
        using var provider = services.BuildServiceProvider();
        var mediator = provider.GetRequiredService<IMediator>();
        (await mediator.Send(new AuthenticateRequest("Bearer not-a-jwt", []))).Error!.Stage.Should().Be("ParseBearerToken");
        (await mediator.Send(new AuthenticateRequest("Bearer not-a-jwt", []))).Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        (await mediator.Send(new AuthenticateRequest(null, []))).Kind.Should().Be(AuthenticationOutcomeKind.NoCredentials);
        clock.Advance(TimeSpan.FromSeconds(1));
        logs.Entries.Where(e => e.Id.Id == 1020).Select(e => e.Message)
            .Should().Equal("Refused 3 request(s) in the last 1 s: ParseBearerToken/InvalidToken=2, NoCredentials=1.");
    }
}
