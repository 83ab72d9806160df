using McpAuth.Behaviors;
using McpAuth.Ports;
using MediatR;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace McpAuth.Core.Tests;

public class PipelineTests
{
    private static readonly Type[] DefaultOrder =
    [
        typeof(ExceptionGuardBehavior), typeof(ValidatedTokenCacheBehavior), typeof(ParseBearerTokenBehavior),
        typeof(IntrospectionBehavior), typeof(OfflineValidationBehavior), typeof(OidcProviderValidationBehavior), typeof(DpopBehavior), typeof(TokenExchangeBehavior),
        typeof(TokenReviewBehavior), typeof(RequiredScopesBehavior), typeof(ToolScopesBehavior),
    ];

    private static List<Type> Resolved(IServiceProvider provider) =>
        provider.GetServices<IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>>().Select(b => b.GetType()).ToList();

    [Fact]
    public void DefaultStages_AreInTheFixedOrder()
    {
        McpAuthServiceCollectionExtensions.DefaultStages.Should().Equal(DefaultOrder);
    }

    [Fact]
    public void Registration_StagesAreRegisteredAndResolvedInTheFixedOrder()
    {
        var pipeline = TestPipeline.Build(TestPipeline.Everything);
        Resolved(pipeline.Provider).Should().Equal(DefaultOrder);
        new McpAuthBuilder(new ServiceCollection().AddLogging()).Stages.Should().BeEmpty();
        var services = new ServiceCollection();
        services.AddMcpAuth().Stages.Should().Equal(DefaultOrder);
    }

    [Fact]
    public async Task Send_ValidToken_RunsEveryStageInOrderAndBuildsThePrincipal()
    {
        var pipeline = TestPipeline.Build(o =>
        {
            TestPipeline.Everything(o);
            o.RequiredScopes = ["read"];
        });
        var token = Tokens.Create(Tokens.Valid(("tenant", "contoso")));
        var outcome = await pipeline.Send(AuthenticateRequest.ForTarget("Bearer " + token, "beta"));

        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        pipeline.Journal.Entries.Should().Equal("oidc", "exchange", "review:beta");
        pipeline.Exchange.LastSubjectToken.Should().Be(token);
        pipeline.Review.Requests.Single().Token.Should().Be("exchanged-token");
        pipeline.Review.Requests.Single().Audiences.Should().Equal("k8s-api");
        var p = outcome.Principal!;
        p.Subject.Should().Be("alice");
        p.Issuer.Should().Be("https://issuer.test");
        p.Audiences.Should().Equal("mcp-server");
        p.Scopes.Should().Equal("read", "write");
        p.Claims.Where(c => c.Type == "scope").Select(c => c.Value).Should().Equal("read", "write");
        p.Claims.Should().ContainSingle(c => c.Type == "tenant" && c.Value == "contoso");
        p.Claims.Should().ContainSingle(c => c.Type == "sub" && c.Value == "alice");
        p.EffectiveToken.Should().Be("exchanged-token");
        p.Exchanged.Should().BeTrue();
        p.ClusterUser!.Username.Should().Be("alice@beta");
        p.ClusterUsers.Keys.Should().Equal("beta");
        p.ToString().Should().NotContain("exchanged-token").And.NotContain(token);
    }

    [Fact]
    public async Task Send_NoExchange_EffectiveTokenIsTheCallersToken()
    {
        var pipeline = TestPipeline.Build(o => o.ValidateToken = true);
        var token = Tokens.Create();
        var outcome = await pipeline.Send(token);
        outcome.Principal!.EffectiveToken.Should().Be(token);
        outcome.Principal.Exchanged.Should().BeFalse();
        pipeline.Review.Requests.Single().Token.Should().Be(token);
        pipeline.Review.Requests.Single().Audiences.Should().Equal("mcp-server");
        pipeline.Journal.Entries.Should().Equal("oidc", "review:");
    }

    [Fact]
    public async Task Send_ExpiredToken_StopsBeforeAnyPeerIsCalled()
    {
        var pipeline = TestPipeline.Build(TestPipeline.Everything);
        var expired = Tokens.Create(Tokens.Valid(("exp", Tokens.Now.AddMinutes(-5).ToUnixTimeSeconds())));
        var outcome = await pipeline.Send(expired);
        outcome.Error!.Stage.Should().Be("OfflineValidation");
        pipeline.Oidc.Calls.Should().Be(0);
        pipeline.Exchange.Calls.Should().Be(0);
        pipeline.Review.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Send_IssuerRejects_NoExchangeAndNoReview()
    {
        var pipeline = TestPipeline.Build(TestPipeline.Everything);
        pipeline.Oidc.Result = OidcValidationResult.Invalid("The token's signature is invalid.");
        var outcome = await pipeline.Send(Tokens.Create());
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        outcome.Error.Stage.Should().Be("OidcProviderValidation");
        pipeline.Journal.Entries.Should().Equal("oidc");
    }

    [Fact]
    public async Task Send_StsDown_ReviewIsNotCalled()
    {
        var pipeline = TestPipeline.Build(TestPipeline.Everything);
        pipeline.Exchange.Result = TokenExchangeResult.Unavailable("HTTP 503");
        var outcome = await pipeline.Send(Tokens.Create());
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        outcome.Error.Stage.Should().Be("TokenExchange");
        pipeline.Journal.Entries.Should().Equal("oidc", "exchange");
    }

    [Fact]
    public async Task Send_ForgedButUnderScopedToken_Gets401Not403()
    {
        var pipeline = TestPipeline.Build(o => o.RequiredScopes = ["admin"]);
        pipeline.Oidc.Result = OidcValidationResult.Invalid("The token's signature is invalid.");
        var outcome = await pipeline.Send(Tokens.Create());
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        outcome.Error.Stage.Should().Be("OidcProviderValidation");
    }

    [Fact]
    public async Task Send_WrongAudience_Gets401EvenWhenScopesAreMissing()
    {
        var pipeline = TestPipeline.Build(o => o.RequiredScopes = ["admin"]);
        var outcome = await pipeline.Send(Tokens.Create(Tokens.Valid(("aud", "another-api"))));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        outcome.Error.Stage.Should().Be("OfflineValidation");
        pipeline.Oidc.Calls.Should().Be(0);
    }

    [Fact]
    public async Task Send_NoHeader_NoCredentialsAndNoPeerCalls()
    {
        var pipeline = TestPipeline.Build(TestPipeline.Everything);
        var outcome = await pipeline.Send(new AuthenticateRequest(null));
        outcome.Kind.Should().Be(AuthenticationOutcomeKind.NoCredentials);
        pipeline.Journal.Entries.Should().BeEmpty();
    }

    [Fact]
    public async Task Send_PortThrows_GuardAnswersUnavailable()
    {
        var pipeline = TestPipeline.Build(services: s => s.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator, ThrowingValidator>()));
        var outcome = await pipeline.Send(Tokens.Create());
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        outcome.Error.Stage.Should().Be("ExceptionGuard");
    }

    [Fact]
    public async Task Defaults_UnreplacedPortsFailClosed()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(Tokens.Now));
        services.AddMcpAuth(o => { o.AuthorizationUrl = "https://issuer.test"; o.Audience = "mcp-server"; });
        var outcome = await services.BuildServiceProvider().GetRequiredService<IMediator>().Send(new AuthenticateRequest("Bearer " + Tokens.Create()));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        outcome.Error.Stage.Should().Be("OidcProviderValidation");
    }

    [Theory]
    [InlineData("Exchange")]
    [InlineData("Review")]
    public async Task Defaults_UnreplacedExchangeAndReviewPortsFailClosed(string port)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(Tokens.Now));
        services.AddMcpAuth(o =>
        {
            o.AuthorizationUrl = "https://issuer.test";
            o.Audience = "mcp-server";
            if (port == "Exchange")
            {
                o.StsClientId = "c";
                o.StsAudience = "k8s";
            }
            else
            {
                o.ValidateToken = true;
            }
        });
        services.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(new FakeOidcValidator()));
        var outcome = await services.BuildServiceProvider().GetRequiredService<IMediator>().Send(new AuthenticateRequest("Bearer " + Tokens.Create(), []));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        outcome.Error.Stage.Should().Be(port == "Exchange" ? "TokenExchange" : "TokenReview");
    }

    [Fact]
    public async Task SkipJwtVerification_AcceptsAnUnverifiedToken_WithNoPeerCalls()
    {
        var pipeline = TestPipeline.Build(o => { o.AuthorizationUrl = null; o.Audience = null; o.SkipJwtVerification = true; });
        var outcome = await pipeline.Send(Tokens.Create());
        outcome.Succeeded.Should().BeTrue();
        pipeline.Journal.Entries.Should().BeEmpty();
        pipeline.Cache.Count.Should().Be(0, "nothing verified the token, so nothing is remembered as verified");
    }

    [Fact]
    public void AddMcpAuth_Twice_RegistersStagesOnce()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddMcpAuth(o => o.ValidateToken = true);
        var second = services.AddMcpAuth(o => o.RequiredScopes = ["read"]);
        services.Count(d => d.ServiceType == typeof(IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>))
            .Should().Be(McpAuthServiceCollectionExtensions.DefaultStages.Count);
        second.Stages.Should().Equal(DefaultOrder);
        var options = services.BuildServiceProvider().GetRequiredService<IOptions<McpAuthOptions>>().Value;
        options.ValidateToken.Should().BeTrue("both configure delegates apply");
        options.RequiredScopes.Should().Equal("read");
    }

    [Fact]
    public void Options_AreBoundFromTheMcpAuthSection_ThenConfigured()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["McpAuth:AuthorizationUrl"] = "https://issuer.test",
            ["McpAuth:Audience"] = "mcp-server",
            ["McpAuth:AcceptAnyAudience"] = "true",
            ["McpAuth:ValidateToken"] = "true",
            ["McpAuth:StsClientId"] = "client",
            ["McpAuth:RequiredScopes:0"] = "read",
            ["McpAuth:ClockSkew"] = "00:00:30",
            ["McpAuth:MaxTokenBytes"] = "4096",
            ["McpAuth:TokenCacheMaxEntries"] = "5",
            ["McpAuth:TokenCacheMaxAge"] = "00:01:00",
            ["McpAuth:ToolScopes:admin-action:0"] = "mcp:admin",
            ["Other:Audience"] = "not-mine",
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddMcpAuth(o => o.StsAudience = "k8s-api");
        var options = services.BuildServiceProvider().GetRequiredService<IOptions<McpAuthOptions>>().Value;
        options.AuthorizationUrl.Should().Be("https://issuer.test");
        options.Audience.Should().Be("mcp-server");
        options.AcceptAnyAudience.Should().BeTrue();
        options.ValidateToken.Should().BeTrue();
        options.StsClientId.Should().Be("client");
        options.StsAudience.Should().Be("k8s-api");
        options.TokenExchangeEnabled.Should().BeTrue();
        options.RequiredScopes.Should().Equal("read");
        options.ClockSkew.Should().Be(TimeSpan.FromSeconds(30));
        options.MaxTokenBytes.Should().Be(4096);
        options.TokenCacheMaxEntries.Should().Be(5);
        options.TokenCacheMaxAge.Should().Be(TimeSpan.FromMinutes(1));
        options.ToolScopes["admin-action"].Should().Equal("mcp:admin");
    }

    [Fact]
    public void Options_InvalidCombination_IsRefusedOnFirstUse()
    {
        var services = new ServiceCollection();
        services.AddMcpAuth(o => o.AuthorizationUrl = "https://issuer.test");
        var act = () => services.BuildServiceProvider().GetRequiredService<IOptions<McpAuthOptions>>().Value;
        act.Should().Throw<OptionsValidationException>()
            .Which.Failures.Should().ContainSingle().Which.Should().StartWith("McpAuth:AuthorizationUrl is set but no audience is expected");
    }

    [Fact]
    public async Task Handler_WithoutAParsedToken_FailsClosed()
    {
        // Only reachable when the parse stage was replaced by one that parses nothing.
        var pipeline = TestPipeline.Build(
            o => { o.AuthorizationUrl = null; o.Audience = null; o.SkipJwtVerification = true; },
            b => b.ReplaceStage<ParseBearerTokenBehavior, PassThroughBehavior>().ReplaceStage<OfflineValidationBehavior, OtherPassThroughBehavior>());
        var outcome = await pipeline.Send(Tokens.Create());
        outcome.Should().BeSameAs(AuthenticationOutcome.NoCredentials);
    }

    [Fact]
    public void TokenHash_IsShortAndStable()
    {
        var hash = AuthenticateRequestHandler.TokenHash("secret-token");
        hash.Should().MatchRegex("^[0-9a-f]{8}$");
        AuthenticateRequestHandler.TokenHash("secret-token").Should().Be(hash);
        AuthenticateRequestHandler.TokenHash("other-token").Should().NotBe(hash);
    }

    private sealed class ThrowingValidator : IOidcTokenValidator
    {
        public ValueTask<OidcValidationResult> ValidateAsync(McpAuth.Tokens.ParsedToken token, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("adapter bug");
    }

    private sealed class PassThroughBehavior : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
    {
        public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next) => next();
    }

    private sealed class OtherPassThroughBehavior : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
    {
        public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next) => next();
    }
}

public class StageBuilderTests
{
    private static readonly Type[] Defaults = [.. McpAuthServiceCollectionExtensions.DefaultStages];

    private static Type[] With(int index, Type stage) => [.. Defaults[..index], stage, .. Defaults[index..]];

    /// <summary>Writes what it saw of the state when the request passed it: proves its position between the peers.</summary>
    private sealed class AuditBehavior(Journal journal) : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
    {
        public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
        {
            journal.Add("audit:" + Seen(request.State));
            return next();
        }

        internal static string Seen(AuthenticationState state) =>
            state.Token is null ? "unparsed" : state.Exchanged ? "exchanged" : state.VerifiedByIssuer ? "verified" : "parsed";
    }

    private sealed class TenantBehavior(Journal journal) : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
    {
        public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
        {
            journal.Add("tenant:" + AuditBehavior.Seen(request.State));
            return next();
        }
    }

    private sealed class RefuseAllBehavior : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
    {
        public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next)
        {
            using var scope = StageScope.Begin<RefuseAllBehavior>();
            return Task.FromResult(scope.Fail(AuthenticationErrorCode.InvalidToken, "no"));
        }
    }

    private static async Task<(TestPipeline Pipeline, IReadOnlyList<Type> Stages)> Run(Action<McpAuthBuilder> stages)
    {
        IReadOnlyList<Type>? seen = null;
        var pipeline = TestPipeline.Build(TestPipeline.Everything, b =>
        {
            stages(b);
            seen = b.Stages;
        });
        var outcome = await pipeline.Send(Tokens.Create());
        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        pipeline.Provider.GetServices<IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>>().Select(b => b.GetType())
            .Should().Equal(seen!, "the builder's Stages are the order the pipeline runs");
        return (pipeline, seen!);
    }

    [Fact]
    public async Task InsertStageBefore_PutsTheStageJustOutsideTheExistingOne()
    {
        var (pipeline, stages) = await Run(b => b.InsertStageBefore<OidcProviderValidationBehavior, AuditBehavior>());
        stages.Should().Equal(With(Array.IndexOf(Defaults, typeof(OidcProviderValidationBehavior)), typeof(AuditBehavior)));
        pipeline.Journal.Entries.Should().Equal("audit:parsed", "oidc", "exchange", "review:");
    }

    [Fact]
    public async Task InsertStageAfter_PutsTheStageJustInsideTheExistingOne()
    {
        var (pipeline, stages) = await Run(b => b.InsertStageAfter<OidcProviderValidationBehavior, AuditBehavior>());
        stages.Should().Equal(With(Array.IndexOf(Defaults, typeof(OidcProviderValidationBehavior)) + 1, typeof(AuditBehavior)));
        pipeline.Journal.Entries.Should().Equal("oidc", "audit:verified", "exchange", "review:");
    }

    [Fact]
    public async Task InsertStageAfter_TheLastStage_RunsLast()
    {
        var (pipeline, stages) = await Run(b => b.InsertStageAfter<ToolScopesBehavior, AuditBehavior>());
        stages.Should().Equal([.. Defaults, typeof(AuditBehavior)]);
        pipeline.Journal.Entries.Should().Equal("oidc", "exchange", "review:", "audit:exchanged");
    }

    [Fact]
    public async Task InsertStageBefore_TheGuard_RunsFirst()
    {
        var (pipeline, stages) = await Run(b => b.InsertStageBefore<ExceptionGuardBehavior, AuditBehavior>());
        stages.Should().Equal(With(0, typeof(AuditBehavior)));
        pipeline.Journal.Entries.Should().Equal("audit:unparsed", "oidc", "exchange", "review:");
    }

    [Fact]
    public async Task TwoInsertsAfterTheSameStage_TheLaterIsInnerMostAdjacent()
    {
        var (pipeline, stages) = await Run(b => b
            .InsertStageAfter<ParseBearerTokenBehavior, AuditBehavior>()
            .InsertStageAfter<ParseBearerTokenBehavior, TenantBehavior>());
        stages.Should().Equal([.. Defaults[..3], typeof(TenantBehavior), typeof(AuditBehavior), .. Defaults[3..]]);
        pipeline.Journal.Entries.Should().Equal("tenant:parsed", "audit:parsed", "oidc", "exchange", "review:");
    }

    [Fact]
    public async Task ReplaceStage_SwapsAStageAtTheSamePosition()
    {
        var (pipeline, stages) = await Run(b => b.ReplaceStage<TokenExchangeBehavior, AuditBehavior>());
        var at = Array.IndexOf(Defaults, typeof(TokenExchangeBehavior));
        stages.Should().Equal([.. Defaults[..at], typeof(AuditBehavior), .. Defaults[(at + 1)..]]);
        stages.Should().NotContain(typeof(TokenExchangeBehavior));
        pipeline.Journal.Entries.Should().Equal("oidc", "audit:verified", "review:");
        pipeline.Exchange.Calls.Should().Be(0);
        pipeline.Review.Requests.Single().Audiences.Should().Equal(["mcp-server"], "without the exchange the review asks for the server's audience");
    }

    [Fact]
    public async Task ReplaceStage_TheReplacementsRefusalCarriesItsName()
    {
        var pipeline = TestPipeline.Build(stages: b => b.ReplaceStage<OfflineValidationBehavior, RefuseAllBehavior>());
        pipeline.Provider.GetServices<IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>>().Select(b => b.GetType()).ElementAt(Array.IndexOf(Defaults, typeof(OfflineValidationBehavior)))
            .Should().Be(typeof(RefuseAllBehavior));
        var outcome = await pipeline.Send(Tokens.Create());
        outcome.Error!.Stage.Should().Be("RefuseAll");
        pipeline.Oidc.Calls.Should().Be(0);
    }

    private static string StageList => string.Join(", ", Defaults.Select(StageName.Of));

    public static TheoryData<string, Action<McpAuthBuilder>, string> Misuse => new()
    {
        {
            "InsertBeforeUnregistered", b => b.InsertStageBefore<TenantBehavior, AuditBehavior>(),
            $"TenantBehavior is not a registered McpAuth stage (stages: {StageList})."
        },
        {
            "InsertAfterUnregistered", b => b.InsertStageAfter<TenantBehavior, AuditBehavior>(),
            $"TenantBehavior is not a registered McpAuth stage (stages: {StageList})."
        },
        {
            "ReplaceUnregistered", b => b.ReplaceStage<TenantBehavior, AuditBehavior>(),
            $"TenantBehavior is not a registered McpAuth stage (stages: {StageList})."
        },
        {
            "InsertBuiltInTwice", b => b.InsertStageBefore<ParseBearerTokenBehavior, OfflineValidationBehavior>(),
            $"OfflineValidationBehavior is already a registered McpAuth stage (stages: {StageList})."
        },
        {
            "ReplaceWithBuiltIn", b => b.ReplaceStage<OfflineValidationBehavior, ParseBearerTokenBehavior>(),
            $"ParseBearerTokenBehavior is already a registered McpAuth stage (stages: {StageList})."
        },
    };

    [Theory]
    [MemberData(nameof(Misuse))]
    public void Builder_Misuse_ThrowsAndChangesNothing(string name, Action<McpAuthBuilder> misuse, string message)
    {
        var builder = new ServiceCollection().AddMcpAuth();
        var before = builder.Services.ToList();
        var act = () => misuse(builder);
        act.Should().Throw<InvalidOperationException>(name).Which.Message.Should().Be(message, name);
        builder.Services.Should().Equal(before, "a refused change leaves the registrations as they were");
    }

    [Fact]
    public void Builder_InsertingACustomStageTwice_Throws()
    {
        var builder = new ServiceCollection().AddMcpAuth().InsertStageAfter<ParseBearerTokenBehavior, AuditBehavior>();
        var act = () => builder.InsertStageBefore<ToolScopesBehavior, AuditBehavior>();
        act.Should().Throw<InvalidOperationException>().WithMessage("AuditBehavior is already a registered McpAuth stage (stages: *Audit*).");
        builder.Stages.Count(s => s == typeof(AuditBehavior)).Should().Be(1);
    }

    [Fact]
    public void Builder_UnregisteredStage_MessageListsTheCurrentStages()
    {
        var builder = new ServiceCollection().AddMcpAuth().ReplaceStage<TokenExchangeBehavior, AuditBehavior>();
        var act = () => builder.InsertStageAfter<TokenExchangeBehavior, TenantBehavior>();
        act.Should().Throw<InvalidOperationException>().WithMessage(
            $"TokenExchangeBehavior is not a registered McpAuth stage (stages: {StageList.Replace("TokenExchange", "Audit", StringComparison.Ordinal)}).");
    }

    [Fact]
    public void Builder_Lifetime_IsHonoured()
    {
        var builder = new ServiceCollection().AddMcpAuth().InsertStageAfter<ParseBearerTokenBehavior, AuditBehavior>(ServiceLifetime.Scoped);
        builder.Services.Single(d => d.ImplementationType == typeof(AuditBehavior)).Lifetime.Should().Be(ServiceLifetime.Scoped);
        builder.Services.Single(d => d.ImplementationType == typeof(ParseBearerTokenBehavior)).Lifetime.Should().Be(ServiceLifetime.Singleton);
    }
}
