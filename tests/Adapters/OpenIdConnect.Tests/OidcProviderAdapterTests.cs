using System.Diagnostics;
using System.Security.Cryptography;
using McpAuth.Behaviors;
using McpAuth.Ports;
using McpAuth.Tokens;
using McpAuth.TestPeers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.OpenIdConnect.Tests;

/// <summary>The OIDC adapter against the real oidc-provider, one provider process per test (tests change its state).</summary>
public sealed class OidcProviderAdapterTests : IAsyncLifetime
{
    private OidcProviderProcess _idp = null!;

    public async Task InitializeAsync() => _idp = await OidcProviderProcess.StartAsync();

    public async Task DisposeAsync() => await _idp.DisposeAsync();

    private Harness Pipeline(string audience = Harness.Resource, Action<McpAuthOptions>? more = null) =>
        new(o => { o.AuthorizationUrl = _idp.Issuer; o.Audience = audience; more?.Invoke(o); });

    private async Task<int> JwksFetches() => _idp.Count(await _idp.StatsAsync(), "/jwks");

    [Theory]
    [InlineData("RS256", Harness.Resource)]
    [InlineData("ES256", Harness.Es256Resource)]
    public async Task Valid_IssuedByProvider_IsAccepted(string alg, string resource)
    {
        using var pipeline = Pipeline(resource);
        var token = await _idp.IssueTokenAsync(resource, "read write");
        new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(token).Alg.Should().Be(alg);

        var outcome = await pipeline.SendAsync(token);

        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        outcome.Principal!.Issuer.Should().Be(_idp.Issuer);
        outcome.Principal.Audiences.Should().Contain(resource);
        outcome.Principal.Scopes.Should().BeEquivalentTo(["read", "write"]);
        (await JwksFetches()).Should().Be(1);
        (await pipeline.SendAsync(token)).Succeeded.Should().BeTrue();
        (await JwksFetches()).Should().Be(1, "keys are cached");
    }

    public static TheoryData<string, Func<OidcProviderProcess, string>, string> Forgeries => new()
    {
        { "WrongKeySameKid", idp => TestKeys.Sign(new RsaSecurityKey(RSA.Create(2048)) { KeyId = idp.Keys.Rsa.KeyId }, "RS256", Claims.For(idp.Issuer), kid: idp.Keys.Rsa.KeyId), "The token's signature is invalid." },
        { "HS256WithPublicKey", idp => TestKeys.HmacWithPublicKey(idp.Keys.Rsa, Claims.For(idp.Issuer), idp.Keys.Rsa.KeyId), "The token's signing algorithm is not accepted for issuer-signed tokens." },
        { "WrongIssuer", idp => TestKeys.Sign(idp.Keys.Rsa, "RS256", Claims.For("http://127.0.0.1:1")), "The token was issued by another issuer." },
        { "WrongAudience", idp => TestKeys.Sign(idp.Keys.Rsa, "RS256", Claims.For(idp.Issuer, audience: "https://other.test/mcp")), "The token's audience does not match this server." },
        { "NotYetValid", idp => TestKeys.Sign(idp.Keys.Ec, "ES256", Claims.For(idp.Issuer, notBeforeInSeconds: 600)), "The token is not valid yet." },
        { "Expired", idp => TestKeys.Sign(idp.Keys.Rsa, "RS256", Claims.For(idp.Issuer, expiresInSeconds: -600)), "The token has expired." },
        { "NoExp", idp => TestKeys.Sign(idp.Keys.Rsa, "RS256", Without(Claims.For(idp.Issuer), "exp")), "The token has no expiry (exp)." },
    };

    [Theory]
    [MemberData(nameof(Forgeries))]
    public async Task Forged_IsRejectedByTheAdapter(string name, Func<OidcProviderProcess, string> forge, string reason)
    {
        using var pipeline = Pipeline();
        var result = await pipeline.ValidateDirectAsync(forge(_idp));
        result.Status.Should().Be(PortStatus.Rejected, name);
        result.Reason.Should().Be(reason);
        (await JwksFetches()).Should().BeLessThanOrEqualTo(2, "at most the initial fetch and one refresh");
    }

    [Theory]
    [MemberData(nameof(Forgeries))]
    public async Task Forged_IsRefusedByThePipelineWith401Class(string name, Func<OidcProviderProcess, string> forge, string reason)
    {
        using var pipeline = Pipeline();
        var outcome = await pipeline.SendAsync(forge(_idp));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken, name + " " + reason);
    }

    [Theory]
    [InlineData("JWT")]
    [InlineData("at+jwt")]
    [InlineData(null)]
    public async Task TokenType_PlainJwtAndRfc9068AccessTokens_AreBothAccepted(string? typ)
    {
        using var pipeline = Pipeline();
        var token = TestKeys.Sign(_idp.Keys.Rsa, "RS256", Claims.For(_idp.Issuer), typ: typ);
        var outcome = await pipeline.SendAsync(token);
        outcome.Succeeded.Should().BeTrue(outcome.ToString());
    }

    [Fact]
    public async Task AlgNone_IsRefusedBeforeAnyFetch()
    {
        using var pipeline = Pipeline();
        var outcome = await pipeline.SendAsync(TestKeys.Unsigned(Claims.For(_idp.Issuer), _idp.Keys.Rsa.KeyId));
        outcome.Error!.Stage.Should().Be(StageName.Of<ParseBearerTokenBehavior>());
        (await JwksFetches()).Should().Be(0);
        // The validator takes a ParsedToken, and no alg:none token parses (with or without a signature part), so none
        // can reach it.
        var unsigned = TestKeys.Unsigned(Claims.For(_idp.Issuer), _idp.Keys.Rsa.KeyId);
        ParsedToken.TryParse(unsigned, 16384, out var error).Should().BeNull();
        error.Should().Be("The bearer token is not a JWT (its parts are not base64url JSON).");
        ParsedToken.TryParse(unsigned + "c2ln", 16384, out error).Should().BeNull();
        error.Should().Be("The bearer token's signing algorithm is not accepted.");
    }

    [Fact]
    public async Task Rotation_FirstTokenUnderANewKey_IsAccepted()
    {
        using var pipeline = Pipeline();
        (await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource))).Succeeded.Should().BeTrue();
        await _idp.RotateAsync(new TestKeys("rsa-2", "ec-2"));
        var rotated = await _idp.IssueTokenAsync(Harness.Resource);
        new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(rotated).Kid.Should().Be("rsa-2");

        var outcome = await pipeline.SendAsync(rotated);

        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        (await JwksFetches()).Should().Be(2);
    }

    [Fact]
    public async Task KeyRemovedFromJwks_InvalidatesCachedTokensItVerified()
    {
        using var pipeline = Pipeline();
        var old = await _idp.IssueTokenAsync(Harness.Resource);
        (await pipeline.SendAsync(old)).Succeeded.Should().BeTrue();
        (await pipeline.SendAsync(old)).Succeeded.Should().BeTrue();
        pipeline.Get<McpAuth.Caching.ValidatedTokenCache>().Count.Should().Be(1);
        (await JwksFetches()).Should().Be(1, "the second request was a cache hit");

        await _idp.RotateAsync(new TestKeys("rsa-2", "ec-2"));
        (await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource))).Succeeded.Should().BeTrue();
        (await JwksFetches()).Should().Be(2);

        var outcome = await pipeline.SendAsync(old);
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken, "rsa-1 is no longer published, so what it verified is verified again");
    }

    [Fact]
    public async Task RefreshThatFindsTheSameKeys_KeepsCachedTokens_AndLogsNoKeyChange()
    {
        var logs = new CapturedLogs();
        using var pipeline = new Harness(o => { o.AuthorizationUrl = _idp.Issuer; o.Audience = Harness.Resource; }, services: s =>
        {
            logs.Register(s);
            s.Configure<McpAuth.OpenIdConnect.OidcProviderOptions>(o => o.KeyRefreshInterval = TimeSpan.FromMilliseconds(200));
        });
        var valid = await _idp.IssueTokenAsync(Harness.Resource);
        (await pipeline.SendAsync(valid)).Succeeded.Should().BeTrue();
        var cache = pipeline.Get<McpAuth.Caching.ValidatedTokenCache>();
        cache.Count.Should().Be(1);

        // Junk under an unknown kid forces key fetches; the issuer still publishes the same keys.
        for (var i = 0; i < 3; i++)
        {
            var junk = new RsaSecurityKey(RSA.Create(2048)) { KeyId = "junk-" + i };
            (await pipeline.SendAsync(TestKeys.Sign(junk, "RS256", Claims.For(_idp.Issuer), kid: junk.KeyId))).Succeeded.Should().BeFalse();
            await Task.Delay(TimeSpan.FromMilliseconds(250)); // past the test harness's KeyRefreshInterval
        }

        (await JwksFetches()).Should().BeGreaterThan(1, "the junk forced key fetches");
        cache.Count.Should().Be(1, "the same keys came back: nothing they verified is dropped");
        logs.Messages.Count(m => m.StartsWith("2002 Fetched the keys of issuer", StringComparison.Ordinal)).Should().Be(1, "only the first fetch changed the key set");
    }

    [Fact]
    public async Task SameKidReplaced_RefreshesOnceAndAcceptsTheNewKeyMaterial()
    {
        using var pipeline = Pipeline();
        (await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource))).Succeeded.Should().BeTrue();
        await _idp.RotateAsync(new TestKeys("rsa-1", "ec-1")); // same kids, new key material
        var outcome = await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource));
        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        (await JwksFetches()).Should().Be(2);
    }

    [Fact]
    public async Task JunkFlood_IsRefused_WithOneCoalescedJwksFetch()
    {
        using var pipeline = Pipeline();
        (await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource))).Succeeded.Should().BeTrue();
        var before = await JwksFetches();
        var junk = Enumerable.Range(0, 50).Select(i =>
        {
            var key = new RsaSecurityKey(RSA.Create(2048)) { KeyId = "junk-" + i };
            return TestKeys.Sign(key, "RS256", Claims.For(_idp.Issuer), kid: key.KeyId);
        }).Concat(Enumerable.Range(0, 20).Select(_ =>
            TestKeys.Sign(new RsaSecurityKey(RSA.Create(2048)) { KeyId = _idp.Keys.Rsa.KeyId }, "RS256", Claims.For(_idp.Issuer), kid: _idp.Keys.Rsa.KeyId))).ToList();

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var outcomes = await Task.WhenAll(junk.Select(t => Task.Run(() => pipeline.SendAsync(t))));

        outcomes.Should().OnlyContain(o => o.Error!.Code == AuthenticationErrorCode.InvalidToken);
        // One fetch when the 70 arrive together; on a loaded machine they can spread over more than one KeyRefreshInterval
        // (2 s), and the promise is at most one fetch per interval.
        var intervals = 1 + (int)(watch.Elapsed / TimeSpan.FromSeconds(2));
        ((await JwksFetches()) - before).Should().BeLessThanOrEqualTo(intervals, "70 tokens needing keys share a fetch, at most one per KeyRefreshInterval");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "each waits at most one interval (2 s) plus one fetch");
    }

    [Fact]
    public async Task IssuerDownAfterStart_CachedKeysKeepWorking()
    {
        using var pipeline = Pipeline();
        var token = await _idp.IssueTokenAsync(Harness.Resource);
        var second = await _idp.IssueTokenAsync(Harness.Resource, "read");
        (await pipeline.SendAsync(token)).Succeeded.Should().BeTrue();
        await _idp.DisposeAsync();

        (await pipeline.SendAsync(second)).Succeeded.Should().BeTrue("last-known-good keys are used while the issuer is down");
        var unknownKid = TestKeys.Sign(new RsaSecurityKey(RSA.Create(2048)) { KeyId = "new" }, "RS256", Claims.For(_idp.Issuer), kid: "new");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        (await pipeline.SendAsync(unknownKid)).Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable,
            "the key is unknown and the issuer cannot be asked: not the caller's fault");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(8), "within one fetch timeout (5 s) and one interval");
        _idp = await OidcProviderProcess.StartAsync(); // for DisposeAsync
    }

    [Fact]
    public async Task IssuerDownBeforeStart_Unavailable_NoCrash()
    {
        using var pipeline = new Harness(o => { o.AuthorizationUrl = $"http://127.0.0.1:{Repo.FreePort()}"; o.Audience = Harness.Resource; });
        var token = TestKeys.Sign(_idp.Keys.Rsa, "RS256", Claims.For(_idp.Issuer));
        var watch = Stopwatch.StartNew();
        var outcome = await pipeline.SendAsync(token);
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        outcome.Error.Stage.Should().Be(StageName.Of<OidcProviderValidationBehavior>());
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10));
        (await pipeline.SendAsync(token)).Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
    }

    [Fact]
    public async Task Discovery_FallsBackToRfc8414WhenOidcDiscoveryIsMissing()
    {
        await _idp.SetOidcDiscoveryAsync(false);
        using var pipeline = Pipeline();
        var outcome = await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource));
        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        var stats = await _idp.StatsAsync();
        _idp.Count(stats, "/.well-known/openid-configuration").Should().Be(1, "tried first, answered 404");
        _idp.Count(stats, "/.well-known/oauth-authorization-server").Should().Be(1);
        pipeline.Store.Current!.DocumentUrl.Should().EndWith("/.well-known/oauth-authorization-server");
    }

    [Fact]
    public async Task Discovery_IssuerMismatch_IsUnavailable()
    {
        using var pipeline = new Harness(o => { o.AuthorizationUrl = _idp.Issuer.Replace("127.0.0.1", "localhost"); o.Audience = Harness.Resource; });
        var outcome = await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        (await JwksFetches()).Should().Be(0, "keys of an issuer that names itself differently are never fetched");
    }

    [Fact]
    public async Task Discovery_TrailingSlashOnConfiguredIssuer_IsTolerated()
    {
        using var pipeline = new Harness(o => { o.AuthorizationUrl = _idp.Issuer + "/"; o.Audience = Harness.Resource; });
        (await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource))).Succeeded.Should().BeTrue();
    }

    [Fact]
    public void DiscoveryUrls_IssuerWithPath_UsesPathInsertForms()
    {
        IssuerMetadataStore.DiscoveryUrls(new Uri("https://idp.test/realms/mcp")).Select(u => u.ToString()).Should().Equal(
            "https://idp.test/realms/mcp/.well-known/openid-configuration",
            "https://idp.test/.well-known/oauth-authorization-server/realms/mcp",
            "https://idp.test/.well-known/openid-configuration/realms/mcp");
    }

    private static Dictionary<string, object> Without(Dictionary<string, object> claims, string key)
    {
        claims.Remove(key);
        return claims;
    }
}
