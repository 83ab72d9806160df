using McpAuth.Behaviors;
using McpAuth.Caching;
using McpAuth.Diagnostics;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace McpAuth.Core.Tests;

/// <summary>
/// The public entry points refuse null arguments with <see cref="ArgumentNullException"/> naming the argument, instead
/// of failing later with a <see cref="NullReferenceException"/> (or, for a stage that refuses, not failing at all).
/// </summary>
public class ArgumentGuardTests
{
    private static readonly RequestHandlerDelegate<AuthenticationOutcome> NextDelegate = new Next().Delegate;

    public static TheoryData<string, Func<IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>>> Stages => new()
    {
        { "ValidatedTokenCache", () => new ValidatedTokenCacheBehavior(new ValidatedTokenCache(Opt.Of(), Opt.Clock(), new CacheKeys()), Opt.Of()) },
        { "ParseBearerToken", () => new ParseBearerTokenBehavior(Opt.Of()) },
        { "Introspection", () => new IntrospectionBehavior(Opt.Of(), new NoIntrospection(), Opt.Log<IntrospectionBehavior>()) },
        { "OfflineValidation", () => new OfflineValidationBehavior(Opt.Of(), Opt.Clock()) },
        { "OidcProviderValidation", () => new OidcProviderValidationBehavior(Opt.Of(), new FakeOidcValidator(), Opt.Log<OidcProviderValidationBehavior>()) },
        { "TokenExchange", () => new TokenExchangeBehavior(Opt.Of(), new FakeExchangeClient(), Opt.Log<TokenExchangeBehavior>()) },
        { "TokenReview", () => new TokenReviewBehavior(Opt.Of(), new FakeReviewClient(), Opt.Log<TokenReviewBehavior>()) },
        { "RequiredScopes", () => new RequiredScopesBehavior(Opt.Of()) },
        { "ToolScopes", () => new ToolScopesBehavior(Opt.Of(), Opt.Log<ToolScopesBehavior>()) },
    };

    [Theory]
    [MemberData(nameof(Stages))]
    public void Stage_NullRequest_Throws(string name, Func<IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>> create)
    {
        Action act = () => create().Handle(null!, CancellationToken.None, NextDelegate);
        act.Should().Throw<ArgumentNullException>(name).Which.ParamName.Should().Be("request");
    }

    [Theory]
    [MemberData(nameof(Stages))]
    public void Stage_NullNext_Throws(string name, Func<IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>> create)
    {
        // A request with no header: several stages would answer without calling next, so only the guard can throw.
        Action act = () => create().Handle(new AuthenticateRequest(null), CancellationToken.None, null!);
        act.Should().Throw<ArgumentNullException>(name).Which.ParamName.Should().Be("next");
    }

    [Fact]
    public void Guard_NullNext_Throws()
    {
        Action act = () => new ExceptionGuardBehavior(Opt.Log<ExceptionGuardBehavior>()).Handle(new AuthenticateRequest(null), CancellationToken.None, null!);
        act.Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("next");
    }

    [Fact]
    public void Handler_NullRequest_Throws()
    {
        Action act = () => new AuthenticateRequestHandler(Opt.Log<AuthenticateRequestHandler>()).Handle(null!, CancellationToken.None);
        act.Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("request");
    }

    [Fact]
    public void StageName_NullType_NamesTheArgument()
    {
        ((Action)(() => StageName.Of(null!))).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("stage");
    }

    [Fact]
    public void Registration_NullServices_Throw()
    {
        ((Action)(() => McpAuthServiceCollectionExtensions.AddMcpAuth(null!))).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("services");
        ((Action)(() => McpAuthServiceCollectionExtensions.AddMcpAuthSettings<McpAuthOptions>(null!))).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("services");
        ((Action)(() => _ = new McpAuthBuilder(null!))).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("services");
    }

    [Fact]
    public void Options_Null_Throws()
    {
        ((Action)(() => new McpAuthOptionsValidator().Validate(Options.DefaultName, null!))).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("options");
        ((Action)(() => McpAuthOptionsValidator.Check(null!).ToList())).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("options");
        ((Action)(() => _ = new ValidatedTokenCache(null!, Opt.Clock(), new CacheKeys()))).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("options");
        ((Action)(() => _ = new RefusalSummary(Opt.Clock(), Opt.Log<RefusalSummary>(), null!))).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("options");
    }

    [Fact]
    public void Requests_NullCalls_Throw()
    {
        ((Action)(() => _ = new AuthenticateRequest("Bearer x", (IReadOnlyList<McpCall>)null!))).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("calls");
        ((Action)(() => McpCallSet.Of(null!))).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("calls");
    }

    [Fact]
    public async Task Caches_NullArguments_Throw()
    {
        ((Action)(() => _ = new SecretKeyedCache<string>(10, null!))).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("time");
        ((Action)(() => _ = new CacheKeys(null!))).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("key");
        var cache = new SecretKeyedCache<string>(10, Opt.Clock());
        ((Action)(() => cache.RemoveWhere(null!))).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("match");
        using var keys = new CacheKeys();
        var key = keys.OfSecret("t");
        (await FluentActions.Awaiting(() => cache.GetOrCreateAsync(key, null!, _ => null, CancellationToken.None).AsTask())
            .Should().ThrowAsync<ArgumentNullException>()).Which.ParamName.Should().Be("factory");
        (await FluentActions.Awaiting(() => cache.GetOrCreateAsync(key, () => Task.FromResult("v"), null!, CancellationToken.None).AsTask())
            .Should().ThrowAsync<ArgumentNullException>()).Which.ParamName.Should().Be("lifetime");

        var validated = new ValidatedTokenCache(Opt.Of(), Opt.Clock(), keys);
        ((Action)(() => validated.Add(null!, 0))).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("token");
        ((Action)(() => validated.InvalidateKeys(null!))).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("removed");
    }

    [Fact]
    public void IssuerDirectory_NullArguments_Throw()
    {
        Action create = () => _ = new IssuerDirectory(null!);
        Action route = () => new IssuerDirectory(Opt.Of()).Route(null!);
        Action subject = () => new IssuerDirectory.Issuer("https://a", [], [], null, null).SubjectOf(null!);

        create.Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("options");
        route.Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("token");
        subject.Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("token");
    }

    private sealed class NoIntrospection : McpAuth.Ports.ITokenIntrospector
    {
        public ValueTask<McpAuth.Ports.IntrospectionResult> IntrospectAsync(McpAuth.Tokens.ParsedToken token, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("not called by a guard test");
    }
}
