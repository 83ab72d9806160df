using System.Reflection;
using McpAuth.Behaviors;
using McpAuth.Caching;
using McpAuth.Ports;
using McpAuth.Tokens;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace McpAuth.Core.Tests;

/// <summary>The validated-token cache through the real pipeline.</summary>
public class ValidatedTokenCacheTests
{
    private static int _offlineRuns;

    private sealed class SpyOfflineBehavior(IOptions<McpAuthOptions> options, TimeProvider time) : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
    {
        private readonly OfflineValidationBehavior _inner = new(options, time);

        public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
        {
            Interlocked.Increment(ref _offlineRuns);
            return _inner.Handle(request, cancellationToken, next);
        }
    }

    /// <summary>An issuer port that, while it verifies, sees the issuer drop key <c>k1</c> (a key rotation racing a request).</summary>
    private sealed class RotatingValidator(IServiceProvider services) : IOidcTokenValidator
    {
        public int Calls { get; private set; }

        public int Dropped { get; private set; }

        public ValueTask<OidcValidationResult> ValidateAsync(ParsedToken token, CancellationToken cancellationToken)
        {
            Calls++;
            Dropped += services.GetRequiredService<ValidatedTokenCache>().InvalidateKeys(kid => kid == "k1");
            return ValueTask.FromResult(OidcValidationResult.Valid);
        }
    }

    [Fact]
    public async Task RepeatedToken_IsVerifiedOnce_AndGivesTheSamePrincipal()
    {
        var pipeline = TestPipeline.Build();
        var token = Tokens.Create();
        var first = await pipeline.Send(token);
        var second = await pipeline.Send(token);
        first.Succeeded.Should().BeTrue();
        second.Succeeded.Should().BeTrue();
        second.Principal.Should().BeEquivalentTo(first.Principal);
        pipeline.Oidc.Calls.Should().Be(1);
        pipeline.Cache.Count.Should().Be(1);
    }

    [Fact]
    public async Task Hit_SkipsParsingAndTheIssuer_TheStateGetsTheCachedToken()
    {
        var pipeline = TestPipeline.Build();
        var header = "Bearer " + Tokens.Create();
        var first = new AuthenticateRequest(header, []);
        var second = new AuthenticateRequest(header, []);
        (await pipeline.Send(first)).Succeeded.Should().BeTrue();
        pipeline.Oidc.Calls.Should().Be(1);
        (await pipeline.Send(second)).Succeeded.Should().BeTrue();
        pipeline.Oidc.Calls.Should().Be(1, "a hit is not verified again");
        second.State.Token.Should().BeSameAs(first.State.Token, "a hit is not parsed again: the state holds the token parsed the first time");
        second.State.VerifiedByIssuer.Should().BeTrue();
        second.State.EffectiveToken.Should().Be(first.State.RawToken);
    }

    [Fact]
    public async Task CacheHit_StillRunsOfflineChecks()
    {
        _offlineRuns = 0;
        var pipeline = TestPipeline.Build(stages: b => b.ReplaceStage<OfflineValidationBehavior, SpyOfflineBehavior>());
        var token = Tokens.Create();
        await pipeline.Send(token);
        await pipeline.Send(token);
        pipeline.Oidc.Calls.Should().Be(1);
        _offlineRuns.Should().Be(2);
    }

    [Fact]
    public async Task RejectedToken_IsNotCached()
    {
        var pipeline = TestPipeline.Build();
        pipeline.Oidc.Result = OidcValidationResult.Invalid("bad signature");
        var token = Tokens.Create();
        (await pipeline.Send(token)).Error!.Stage.Should().Be("OidcProviderValidation");
        (await pipeline.Send(token)).Error!.Stage.Should().Be("OidcProviderValidation");
        pipeline.Oidc.Calls.Should().Be(2);
        pipeline.Cache.Count.Should().Be(0);
    }

    [Fact]
    public async Task IssuerUnavailable_IsNotCached()
    {
        var pipeline = TestPipeline.Build();
        pipeline.Oidc.Result = OidcValidationResult.Unavailable("down");
        await pipeline.Send(Tokens.Create());
        pipeline.Cache.Count.Should().Be(0);
    }

    [Fact]
    public async Task OfflineRefusal_IsNotCached()
    {
        var pipeline = TestPipeline.Build();
        var wrongAudience = Tokens.Create(Tokens.Valid(("aud", "another-api")));
        (await pipeline.Send(wrongAudience)).Error!.Stage.Should().Be("OfflineValidation");
        pipeline.Cache.Count.Should().Be(0);
    }

    [Fact]
    public async Task VerifiedToken_RefusedLaterForScopes_IsCached_AndScopesAreCheckedOnEveryRequest()
    {
        var pipeline = TestPipeline.Build(o => o.RequiredScopes = ["admin"]);
        var token = Tokens.Create();
        (await pipeline.Send(token)).Error!.Code.Should().Be(AuthenticationErrorCode.InsufficientScope);
        (await pipeline.Send(token)).Error!.Code.Should().Be(AuthenticationErrorCode.InsufficientScope);
        pipeline.Oidc.Calls.Should().Be(1, "the verification is reusable; the authorization is not skipped");
    }

    [Fact]
    public async Task Entry_LivesUntilMaxAge_ThenTheTokenIsVerifiedAgain()
    {
        var pipeline = TestPipeline.Build(o => o.TokenCacheMaxAge = TimeSpan.FromMinutes(5));
        var token = Tokens.Create(Tokens.Valid(("exp", Tokens.Now.AddHours(1).ToUnixTimeSeconds())));
        await pipeline.Send(token);
        pipeline.Clock.Advance(TimeSpan.FromMinutes(4));
        await pipeline.Send(token);
        pipeline.Oidc.Calls.Should().Be(1);
        pipeline.Clock.Advance(TimeSpan.FromMinutes(2));
        await pipeline.Send(token);
        pipeline.Oidc.Calls.Should().Be(2);
    }

    [Fact]
    public async Task Entry_NeverOutlivesTheTokensExp()
    {
        var pipeline = TestPipeline.Build(o => o.ClockSkew = TimeSpan.Zero);
        var token = Tokens.Create(Tokens.Valid(("exp", Tokens.Now.AddSeconds(30).ToUnixTimeSeconds())));
        (await pipeline.Send(token)).Succeeded.Should().BeTrue();
        pipeline.Clock.Advance(TimeSpan.FromSeconds(31));
        var outcome = await pipeline.Send(token);
        outcome.Error!.Stage.Should().Be("OfflineValidation");
        pipeline.Oidc.Calls.Should().Be(1);
        pipeline.Cache.Count.Should().Be(0, "the expired entry was dropped on lookup");
    }

    [Fact]
    public async Task TokenWithoutExp_IsNotCached()
    {
        var pipeline = TestPipeline.Build();
        var token = Tokens.Create(Tokens.Without(Tokens.Valid(), "exp"));
        await pipeline.Send(token);
        await pipeline.Send(token);
        pipeline.Oidc.Calls.Should().Be(2);
        pipeline.Cache.Count.Should().Be(0);
    }

    [Fact]
    public async Task Bounded_EvictsBeyondMaxEntries()
    {
        var pipeline = TestPipeline.Build(o => o.TokenCacheMaxEntries = 10);
        for (var i = 0; i < 25; i++)
        {
            (await pipeline.Send(Tokens.Create(Tokens.Valid(("jti", "t" + i))))).Succeeded.Should().BeTrue();
            pipeline.Cache.Count.Should().BeLessThanOrEqualTo(10);
        }

        pipeline.Cache.Count.Should().BeGreaterThan(0);
        pipeline.Oidc.Calls.Should().Be(25);
    }

    [Fact]
    public async Task KeyRemoval_InvalidatesWhatItVerified()
    {
        var pipeline = TestPipeline.Build();
        var token = Tokens.Create(); // kid k1
        var other = Tokens.Create(Tokens.Valid(("jti", "2")), kid: "k2");
        await pipeline.Send(token);
        await pipeline.Send(other);
        pipeline.Cache.InvalidateKeys(kid => kid == "nope").Should().Be(0);
        await pipeline.Send(token);
        pipeline.Oidc.Calls.Should().Be(2);
        pipeline.Cache.InvalidateKeys(kid => kid == "k1").Should().Be(1);
        pipeline.Cache.Count.Should().Be(1);
        await pipeline.Send(token);
        await pipeline.Send(other);
        pipeline.Oidc.Calls.Should().Be(3, "only the token k1 verified is verified again");
    }

    [Fact]
    public async Task EpochRace_KeyDroppedWhileTheTokenWasBeingVerified_IsNotCached()
    {
        RotatingValidator? validator = null;
        var pipeline = TestPipeline.Build(services: s => s.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(sp => validator = new RotatingValidator(sp))));
        var token = Tokens.Create();
        (await pipeline.Send(token)).Succeeded.Should().BeTrue("the request itself was verified");
        pipeline.Cache.Count.Should().Be(0, "the insert started before the key was dropped, so it must not bring the entry back");
        validator!.Dropped.Should().Be(0, "nothing was cached yet when the key was dropped");
        await pipeline.Send(token);
        validator.Calls.Should().Be(2);
    }

    [Theory]
    [InlineData("NoEntries", 0, 5)]
    [InlineData("NoMaxAge", 10, 0)]
    public async Task Disabled_VerifiesEveryTime(string name, int entries, int minutes)
    {
        var pipeline = TestPipeline.Build(o => { o.TokenCacheMaxEntries = entries; o.TokenCacheMaxAge = TimeSpan.FromMinutes(minutes); });
        pipeline.Cache.Enabled.Should().BeFalse(name);
        var token = Tokens.Create();
        await pipeline.Send(token);
        await pipeline.Send(token);
        pipeline.Oidc.Calls.Should().Be(2, name);
        pipeline.Cache.Count.Should().Be(0, name);
    }

    [Fact]
    public async Task NoIssuer_NothingIsCached()
    {
        var pipeline = TestPipeline.Build(o => { o.AuthorizationUrl = null; o.ValidateToken = true; });
        await pipeline.Send(Tokens.Create());
        pipeline.Cache.Count.Should().Be(0, "only the issuer stage marks a token verified");
        pipeline.Review.Requests.Should().ContainSingle();
    }

    [Fact]
    public void NoRawTokenIsAKey()
    {
        var inner = typeof(ValidatedTokenCache).GetField("_cache", BindingFlags.NonPublic | BindingFlags.Instance)!;
        inner.FieldType.Should().Be(typeof(SecretKeyedCache<ParsedToken>));
        var entries = typeof(SecretKeyedCache<ParsedToken>).GetField("_entries", BindingFlags.NonPublic | BindingFlags.Instance)!;
        var keyType = entries.FieldType.GetGenericArguments()[0];
        keyType.Should().Be(typeof(CacheKey));
        keyType.GetFields(BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Instance).Should().HaveCount(4)
            .And.OnlyContain(f => f.FieldType == typeof(ulong));
    }
}

/// <summary>The validated-token cache stage on its own, with a real cache and a <c>next</c> that plays the inner stages.</summary>
public class ValidatedTokenCacheBehaviorTests
{
    private static (ValidatedTokenCacheBehavior Behavior, ValidatedTokenCache Cache) Create(Action<McpAuthOptions>? configure = null)
    {
        var options = Opt.Of(configure);
        var cache = new ValidatedTokenCache(options, Opt.Clock(), new CacheKeys());
        return (new ValidatedTokenCacheBehavior(cache, options), cache);
    }

    private static void Verify(AuthenticateRequest request)
    {
        request.WithParsedToken();
        request.State.VerifiedByIssuer = true;
    }

    [Fact]
    public async Task Miss_VerifiedByTheInnerStages_IsAdded()
    {
        var (behavior, cache) = Create();
        var raw = Tokens.Create();
        var request = new AuthenticateRequest("Bearer " + raw);
        var next = new Next(Verify);
        var outcome = await behavior.Handle(request, CancellationToken.None, next.For(request));
        outcome.Should().BeSameAs(Next.Passed);
        next.Calls.Should().Be(1);
        cache.Count.Should().Be(1);
        cache.TryGet(raw, out var cached).Should().BeTrue();
        cached.Should().BeSameAs(request.State.Token);
    }

    [Fact]
    public async Task Miss_ParsedButNotVerified_IsNotAdded()
    {
        var (behavior, cache) = Create();
        var request = new AuthenticateRequest("Bearer " + Tokens.Create());
        var next = new Next(r => r.WithParsedToken());
        await behavior.Handle(request, CancellationToken.None, next.For(request));
        next.Calls.Should().Be(1);
        cache.Count.Should().Be(0);
    }

    [Fact]
    public async Task Hit_FillsTheStateAsVerified_AndCallsNextOnce()
    {
        var (behavior, cache) = Create();
        var raw = Tokens.Create();
        var parsed = Tokens.Parse(raw);
        cache.Add(parsed, cache.Epoch).Should().BeTrue();
        var request = new AuthenticateRequest("bearer  " + raw + " ");
        var next = new Next();
        var outcome = await behavior.Handle(request, CancellationToken.None, next.Delegate);
        outcome.Should().BeSameAs(Next.Passed);
        next.Calls.Should().Be(1);
        request.State.Token.Should().BeSameAs(parsed);
        request.State.VerifiedByIssuer.Should().BeTrue();
        request.State.EffectiveToken.Should().Be(raw);
        request.State.Exchanged.Should().BeFalse();
        cache.Count.Should().Be(1);
    }

    [Fact]
    public async Task EpochRace_InvalidationDuringTheInnerStages_DropsTheInsert()
    {
        var (behavior, cache) = Create();
        var raw = Tokens.Create();
        var request = new AuthenticateRequest("Bearer " + raw);
        var next = new Next(r =>
        {
            Verify(r);
            cache.InvalidateKeys(_ => false).Should().Be(0); // nothing to drop, but the epoch moves on
        });
        await behavior.Handle(request, CancellationToken.None, next.For(request));
        request.State.VerifiedByIssuer.Should().BeTrue();
        cache.Count.Should().Be(0);
        cache.TryGet(raw, out _).Should().BeFalse();

        // The next request, with no invalidation racing it, is cached.
        var again = new AuthenticateRequest("Bearer " + raw);
        await behavior.Handle(again, CancellationToken.None, new Next(Verify).For(again));
        cache.Count.Should().Be(1);
    }

    [Theory]
    [InlineData("NoHeader", null)]
    [InlineData("OtherScheme", "Basic abc")]
    [InlineData("EmptyBearer", "Bearer ")]
    public async Task NoUsableBearerToken_SkipsTheCache(string name, string? header)
    {
        var (behavior, cache) = Create();
        var request = new AuthenticateRequest(header);
        var next = new Next(r => r.State.VerifiedByIssuer = true);
        (await behavior.Handle(request, CancellationToken.None, next.For(request))).Should().BeSameAs(Next.Passed, name);
        next.Calls.Should().Be(1);
        cache.Count.Should().Be(0);
    }

    [Fact]
    public async Task OversizedToken_SkipsTheCache_AndIsNeverAdded()
    {
        var (behavior, cache) = Create(o => o.MaxTokenBytes = 256);
        var raw = Tokens.Create(Tokens.Valid(("pad", new string('a', 300))));
        var request = new AuthenticateRequest("Bearer " + raw);
        var next = new Next(r =>
        {
            r.State.Token = ParsedToken.TryParse(raw, int.MaxValue, out _);
            r.State.VerifiedByIssuer = true;
        });
        await behavior.Handle(request, CancellationToken.None, next.For(request));
        next.Calls.Should().Be(1);
        cache.Count.Should().Be(0);
    }

    [Fact]
    public async Task Disabled_CallsNextAndKeepsNothing()
    {
        var (behavior, cache) = Create(o => o.TokenCacheMaxAge = TimeSpan.Zero);
        cache.Enabled.Should().BeFalse();
        var request = new AuthenticateRequest("Bearer " + Tokens.Create());
        var next = new Next(Verify);
        await behavior.Handle(request, CancellationToken.None, next.For(request));
        next.Calls.Should().Be(1);
        cache.Count.Should().Be(0);
        cache.Add(request.State.Token!, cache.Epoch).Should().BeFalse();
    }

    [Fact]
    public void Add_EntryLivesUntilTheEarlierOfExpAndMaxAge()
    {
        var clock = Opt.Clock();
        var cache = new ValidatedTokenCache(Opt.Of(o => o.TokenCacheMaxAge = TimeSpan.FromMinutes(5)), clock, new CacheKeys());
        var shortLived = Tokens.Create(Tokens.Valid(("exp", Tokens.Now.AddMinutes(2).ToUnixTimeSeconds())));
        var longLived = Tokens.Create(Tokens.Valid(("exp", Tokens.Now.AddHours(2).ToUnixTimeSeconds())));
        var expired = Tokens.Create(Tokens.Valid(("exp", Tokens.Now.AddSeconds(-1).ToUnixTimeSeconds())));
        cache.Add(Tokens.Parse(shortLived), cache.Epoch).Should().BeTrue();
        cache.Add(Tokens.Parse(longLived), cache.Epoch).Should().BeTrue();
        cache.Add(Tokens.Parse(expired), cache.Epoch).Should().BeFalse("an entry must not outlive its token");

        clock.Advance(TimeSpan.FromMinutes(2) - TimeSpan.FromTicks(1));
        cache.TryGet(shortLived, out _).Should().BeTrue();
        clock.Advance(TimeSpan.FromTicks(1));
        cache.TryGet(shortLived, out _).Should().BeFalse();
        cache.TryGet(longLived, out _).Should().BeTrue();
        clock.Advance(TimeSpan.FromMinutes(3));
        cache.TryGet(longLived, out _).Should().BeFalse("TokenCacheMaxAge caps the entry");
        cache.Count.Should().Be(0);
    }

    [Fact]
    public void Add_StaleEpoch_IsRefused()
    {
        var (_, cache) = Create();
        var epoch = cache.Epoch;
        cache.InvalidateKeys(_ => true);
        cache.Epoch.Should().Be(epoch + 1);
        cache.Add(Tokens.Parse(Tokens.Create()), epoch).Should().BeFalse();
        cache.Count.Should().Be(0);
    }
}

/// <summary>The per-thread memo of the last hit: never returns what the cache itself would no longer return.</summary>
public sealed class ValidatedTokenCacheMemoTests
{
    [Fact]
    public void RepeatedHit_OnTheSameThread_StillHonoursInvalidation()
    {
        var clock = Opt.Clock();
        var cache = new ValidatedTokenCache(Opt.Of(), clock, new CacheKeys());
        var raw = Tokens.Create();
        cache.Add(Tokens.Parse(raw), cache.Epoch).Should().BeTrue();
        cache.TryGet(raw, out _).Should().BeTrue();
        cache.TryGet(raw, out _).Should().BeTrue("the memo answers");

        cache.InvalidateKeys(kid => kid == "k1").Should().Be(1);

        cache.TryGet(raw, out _).Should().BeFalse("an invalidated token is not answered by the memo either");
    }

    [Fact]
    public void RepeatedHit_OnTheSameThread_StillHonoursExpiry()
    {
        var clock = Opt.Clock();
        var cache = new ValidatedTokenCache(Opt.Of(o => o.TokenCacheMaxAge = TimeSpan.FromMinutes(1)), clock, new CacheKeys());
        var raw = Tokens.Create();
        cache.Add(Tokens.Parse(raw), cache.Epoch).Should().BeTrue();
        cache.TryGet(raw, out _).Should().BeTrue();
        clock.Advance(TimeSpan.FromSeconds(61));
        cache.TryGet(raw, out _).Should().BeFalse();
    }

    [Fact]
    public void Memo_NeverAnswersForAnotherToken_OrAnotherCache()
    {
        var clock = Opt.Clock();
        var cache = new ValidatedTokenCache(Opt.Of(), clock, new CacheKeys());
        var other = new ValidatedTokenCache(Opt.Of(), clock, new CacheKeys());
        var raw = Tokens.Create();
        cache.Add(Tokens.Parse(raw), cache.Epoch).Should().BeTrue();
        cache.TryGet(raw, out _).Should().BeTrue();
        other.TryGet(raw, out _).Should().BeFalse();
        cache.TryGet(raw[..^1] + (raw[^1] == 'A' ? 'B' : 'A'), out _).Should().BeFalse();
    }
}
