using McpAuth.Behaviors;
using McpAuth.Caching;
using McpAuth.Ports;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace McpAuth.Core.Tests;

public class ValidatedTokenCacheTests
{
    private static int _offlineRuns;

    private sealed class SpyOfflineStage(IOptions<McpAuthOptions> options, TimeProvider time) : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
    {
        private readonly OfflineValidationBehavior _inner = new(options, time);

        public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
        {
            Interlocked.Increment(ref _offlineRuns);
            return _inner.Handle(request, cancellationToken, next);
        }
    }

    private static (IMediator Mediator, FakeOidcValidator Port, FakeTimeProvider Clock, ValidatedTokenCache Cache) Build(Action<McpAuthOptions>? configure = null, bool spy = false)
    {
        var clock = new FakeTimeProvider(Tokens.Now);
        var port = new FakeOidcValidator();
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<TimeProvider>(clock);
        var builder = services.AddMcpAuth(o =>
        {
            o.RequireOAuth = true;
            o.AuthorizationUrl = "https://issuer.test";
            configure?.Invoke(o);
        });
        if (spy)
        {
            builder.ReplaceStage<OfflineValidationBehavior, SpyOfflineStage>();
        }

        services.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(port));
        var provider = services.BuildServiceProvider();
        return (provider.GetRequiredService<IMediator>(), port, clock, provider.GetRequiredService<ValidatedTokenCache>());
    }

    [Fact]
    public async Task RepeatedToken_IsVerifiedOnce_AndGivesTheSamePrincipal()
    {
        var (mediator, port, _, cache) = Build();
        var token = "Bearer " + Tokens.Create();
        var first = await mediator.Send(new AuthenticateRequest(token));
        var second = await mediator.Send(new AuthenticateRequest(token));
        first.Succeeded.Should().BeTrue();
        second.Succeeded.Should().BeTrue();
        second.Principal.Should().BeEquivalentTo(first.Principal);
        port.Calls.Should().Be(1);
        cache.Count.Should().Be(1);
    }

    [Fact]
    public async Task CacheHit_StillRunsOfflineChecks()
    {
        _offlineRuns = 0;
        var (mediator, port, _, _) = Build(spy: true);
        var token = "Bearer " + Tokens.Create();
        await mediator.Send(new AuthenticateRequest(token));
        await mediator.Send(new AuthenticateRequest(token));
        port.Calls.Should().Be(1);
        _offlineRuns.Should().Be(2);
    }

    [Fact]
    public async Task RejectedToken_IsNotCached()
    {
        var (mediator, port, _, cache) = Build();
        port.Result = OidcValidationResult.Invalid("bad signature");
        var token = "Bearer " + Tokens.Create();
        (await mediator.Send(new AuthenticateRequest(token))).Succeeded.Should().BeFalse();
        (await mediator.Send(new AuthenticateRequest(token))).Succeeded.Should().BeFalse();
        port.Calls.Should().Be(2);
        cache.Count.Should().Be(0);
    }

    [Fact]
    public async Task Entry_LivesUntilMaxAge_ThenTheTokenIsVerifiedAgain()
    {
        var (mediator, port, clock, _) = Build(o => o.TokenCacheMaxAge = TimeSpan.FromMinutes(5));
        var token = "Bearer " + Tokens.Create(Tokens.Valid(("exp", Tokens.Now.AddHours(1).ToUnixTimeSeconds())));
        await mediator.Send(new AuthenticateRequest(token));
        clock.Advance(TimeSpan.FromMinutes(4));
        await mediator.Send(new AuthenticateRequest(token));
        port.Calls.Should().Be(1);
        clock.Advance(TimeSpan.FromMinutes(2));
        await mediator.Send(new AuthenticateRequest(token));
        port.Calls.Should().Be(2);
    }

    [Fact]
    public async Task Entry_NeverOutlivesTheTokensExp()
    {
        var (mediator, port, clock, _) = Build(o => o.ClockSkew = TimeSpan.Zero);
        var token = "Bearer " + Tokens.Create(Tokens.Valid(("exp", Tokens.Now.AddSeconds(30).ToUnixTimeSeconds())));
        (await mediator.Send(new AuthenticateRequest(token))).Succeeded.Should().BeTrue();
        clock.Advance(TimeSpan.FromSeconds(31));
        var outcome = await mediator.Send(new AuthenticateRequest(token));
        outcome.Error!.Stage.Should().Be(Stage.OfflineValidation);
        port.Calls.Should().Be(1);
    }

    [Fact]
    public async Task Bounded_EvictsBeyondMaxEntries()
    {
        var (mediator, port, _, cache) = Build(o => o.TokenCacheMaxEntries = 10);
        for (var i = 0; i < 25; i++)
        {
            (await mediator.Send(new AuthenticateRequest("Bearer " + Tokens.Create(Tokens.Valid(("jti", "t" + i)))))).Succeeded.Should().BeTrue();
        }

        cache.Count.Should().BeLessThanOrEqualTo(10);
        cache.Count.Should().BeGreaterThan(0);
        port.Calls.Should().Be(25);
    }

    [Fact]
    public async Task KeyRemoval_InvalidatesWhatItVerified()
    {
        var (mediator, port, _, cache) = Build();
        var token = "Bearer " + Tokens.Create(); // kid k1
        await mediator.Send(new AuthenticateRequest(token));
        cache.InvalidateKeys(kid => kid == "other").Should().Be(0);
        await mediator.Send(new AuthenticateRequest(token));
        port.Calls.Should().Be(1);
        cache.InvalidateKeys(kid => kid == "k1").Should().Be(1);
        await mediator.Send(new AuthenticateRequest(token));
        port.Calls.Should().Be(2);
    }

    [Fact]
    public async Task Disabled_WithZeroEntries()
    {
        var (mediator, port, _, cache) = Build(o => o.TokenCacheMaxEntries = 0);
        var token = "Bearer " + Tokens.Create();
        await mediator.Send(new AuthenticateRequest(token));
        await mediator.Send(new AuthenticateRequest(token));
        port.Calls.Should().Be(2);
        cache.Count.Should().Be(0);
    }

    [Fact]
    public void NoRawTokenIsAKey()
    {
        var field = typeof(ValidatedTokenCache).GetField("_entries", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        var keyType = field.FieldType.GetGenericArguments()[0];
        keyType.Should().NotBe(typeof(string));
        keyType.GetFields(System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance).Should().OnlyContain(f => f.FieldType == typeof(ulong));
    }
}
