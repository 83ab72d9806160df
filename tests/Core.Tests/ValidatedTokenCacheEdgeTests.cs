using McpAuth.Behaviors;
using McpAuth.Caching;

namespace McpAuth.Core.Tests;

/// <summary>Edges of the validated-token cache: the size bound of the stage, the memo's expiry instant and its purpose.</summary>
public class ValidatedTokenCacheEdgeTests
{
    private static void Verify(AuthenticateRequest request)
    {
        request.WithParsedToken();
        request.State.VerifiedByIssuer = true;
    }

    [Fact]
    public async Task Stage_TokenOfExactlyMaxTokenBytes_IsCached_AndFoundAgain()
    {
        var raw = Tokens.Create(Tokens.Valid(("pad", new string('a', 300))));
        var options = Opt.Of(o => o.MaxTokenBytes = raw.Length);
        var cache = new ValidatedTokenCache(options, Opt.Clock(), new CacheKeys());
        var behavior = new ValidatedTokenCacheBehavior(cache, options);

        var first = new AuthenticateRequest("Bearer " + raw);
        await behavior.Handle(first, CancellationToken.None, new Next(Verify).For(first));
        cache.Count.Should().Be(1, "a token at the size limit is accepted by the parse stage, so it is cached");

        var second = new AuthenticateRequest("Bearer " + raw);
        var next = new Next();
        (await behavior.Handle(second, CancellationToken.None, next.Delegate)).Should().BeSameAs(Next.Passed);
        next.Calls.Should().Be(1);
        second.State.Token.Should().BeSameAs(first.State.Token);
        second.State.VerifiedByIssuer.Should().BeTrue();
    }

    [Fact]
    public void Cache_MaxAgeZero_IsOff_EvenWithEntries()
    {
        var cache = new ValidatedTokenCache(Opt.Of(o => { o.TokenCacheMaxAge = TimeSpan.Zero; o.TokenCacheMaxEntries = 10; }), Opt.Clock(), new CacheKeys());
        cache.Enabled.Should().BeFalse();
        cache.Add(Tokens.Parse(Tokens.Create()), cache.Epoch).Should().BeFalse();
        cache.Count.Should().Be(0);
    }

    [Fact]
    public void Cache_PositiveMaxAge_KeepsUpToMaxEntries()
    {
        var cache = new ValidatedTokenCache(Opt.Of(o => { o.TokenCacheMaxAge = TimeSpan.FromTicks(1); o.TokenCacheMaxEntries = 2; }), Opt.Clock(), new CacheKeys());
        cache.Enabled.Should().BeTrue();
        for (var i = 0; i < 3; i++)
        {
            cache.Add(Tokens.Parse(Tokens.Create(Tokens.Valid(("jti", "t" + i)))), cache.Epoch).Should().BeTrue();
        }

        cache.Count.Should().BeLessThanOrEqualTo(2);
    }

    [Fact]
    public void Memo_EndsAtTheEntrysInstant_NotAfter()
    {
        var clock = Opt.Clock();
        var cache = new ValidatedTokenCache(Opt.Of(o => o.TokenCacheMaxAge = TimeSpan.FromMinutes(1)), clock, new CacheKeys());
        var raw = Tokens.Create();
        cache.Add(Tokens.Parse(raw), cache.Epoch).Should().BeTrue();
        cache.TryGet(raw, out _).Should().BeTrue();
        clock.Advance(TimeSpan.FromMinutes(1) - TimeSpan.FromTicks(1));
        cache.TryGet(raw, out _).Should().BeTrue("the memo answers until the entry's instant");
        clock.Advance(TimeSpan.FromTicks(1));
        cache.TryGet(raw, out _).Should().BeFalse("at the instant itself the entry is gone, memo or not");
    }

    [Fact]
    public void Memo_RepeatedTokenOnTheSameThread_ComputesNoHmac()
    {
        // The memo exists so that a client repeating its token costs no HMAC. With the key material disposed, any HMAC
        // would throw: a second hit that succeeds was answered by the memo.
        var keys = new CacheKeys();
        var cache = new ValidatedTokenCache(Opt.Of(), Opt.Clock(), keys);
        var raw = Tokens.Create();
        var parsed = Tokens.Parse(raw);
        cache.Add(parsed, cache.Epoch).Should().BeTrue();
        cache.TryGet(raw, out var first).Should().BeTrue();
        keys.Dispose();

        cache.TryGet(raw, out var second).Should().BeTrue();
        second.Should().BeSameAs(first).And.BeSameAs(parsed);
        var other = Tokens.Create(Tokens.Valid(("jti", "other")));
        var act = () => cache.TryGet(other, out _);
        act.Should().Throw<ObjectDisposedException>("another token needs its HMAC");
    }
}
