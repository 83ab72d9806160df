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
    private sealed class Peers
    {
        public Journal Journal { get; } = new();
        public FakeOidcValidator Oidc { get; }
        public FakeExchangeClient Exchange { get; }
        public FakeReviewClient Review { get; }

        public Peers()
        {
            Oidc = new FakeOidcValidator(Journal);
            Exchange = new FakeExchangeClient(Journal);
            Review = new FakeReviewClient(Journal);
        }
    }

    private static (IServiceProvider Provider, Peers Peers) Build(Action<McpAuthOptions>? configure = null)
    {
        var peers = new Peers();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(Tokens.Now));
        services.AddMcpAuth(o =>
        {
            o.RequireOAuth = true;
            o.AuthorizationUrl = "https://issuer.test";
            o.OAuthAudience = "mcp-server";
            o.StsClientId = "client";
            o.StsAudience = "k8s-api";
            o.ValidateToken = true;
            configure?.Invoke(o);
        });
        services.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(peers.Oidc));
        services.Replace(ServiceDescriptor.Singleton<ITokenExchangeClient>(peers.Exchange));
        services.Replace(ServiceDescriptor.Singleton<ITokenReviewClient>(peers.Review));
        return (services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true }), peers);
    }

    [Fact]
    public void Registration_StagesAreRegisteredInTheFixedOrder()
    {
        var (provider, _) = Build();
        provider.GetServices<IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>>().Select(b => b.GetType())
            .Should().Equal(
                typeof(ExceptionGuardBehavior), typeof(ParseBearerTokenBehavior), typeof(OfflineValidationBehavior),
                typeof(OidcProviderValidationBehavior), typeof(TokenExchangeBehavior), typeof(TokenReviewBehavior),
                typeof(RequiredScopesBehavior), typeof(ToolScopesBehavior));
    }

    [Fact]
    public async Task Send_ValidToken_RunsEveryStageInOrderAndBuildsThePrincipal()
    {
        var (provider, peers) = Build(o => o.RequiredScopes = ["read"]);
        var token = Tokens.Create();
        var outcome = await provider.GetRequiredService<IMediator>().Send(new AuthenticateRequest("Bearer " + token, "beta"));

        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        peers.Journal.Entries.Should().Equal("oidc", "exchange", "review:beta");
        peers.Exchange.LastSubjectToken.Should().Be(token);
        peers.Review.Requests.Single().Token.Should().Be("exchanged-token");
        peers.Review.Requests.Single().Audiences.Should().Equal("k8s-api");
        var p = outcome.Principal!;
        p.Subject.Should().Be("alice");
        p.Issuer.Should().Be("https://issuer.test");
        p.Audiences.Should().Equal("mcp-server");
        p.Scopes.Should().Equal("read", "write");
        p.EffectiveToken.Should().Be("exchanged-token");
        p.Exchanged.Should().BeTrue();
        p.ClusterUser!.Username.Should().Be("system:alice");
        p.ClusterUsers.Keys.Should().Equal("beta");
    }

    [Fact]
    public async Task Send_ExpiredToken_StopsBeforeAnyPeerIsCalled()
    {
        var (provider, peers) = Build();
        var expired = Tokens.Create(Tokens.Valid(("exp", Tokens.Now.AddMinutes(-5).ToUnixTimeSeconds())));
        var outcome = await provider.GetRequiredService<IMediator>().Send(new AuthenticateRequest("Bearer " + expired));
        outcome.Error!.Stage.Should().Be(Stage.OfflineValidation);
        peers.Oidc.Calls.Should().Be(0);
        peers.Exchange.Calls.Should().Be(0);
        peers.Review.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Send_IssuerRejects_NoExchangeAndNoReview()
    {
        var (provider, peers) = Build();
        peers.Oidc.Result = OidcValidationResult.Invalid("The token's signature is invalid.");
        var outcome = await provider.GetRequiredService<IMediator>().Send(new AuthenticateRequest("Bearer " + Tokens.Create()));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        peers.Journal.Entries.Should().Equal("oidc");
    }

    [Fact]
    public async Task Send_StsDown_ReviewIsNotCalled()
    {
        var (provider, peers) = Build();
        peers.Exchange.Result = TokenExchangeResult.Unavailable("HTTP 503");
        var outcome = await provider.GetRequiredService<IMediator>().Send(new AuthenticateRequest("Bearer " + Tokens.Create()));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        peers.Journal.Entries.Should().Equal("oidc", "exchange");
    }

    [Fact]
    public async Task Send_ForgedButUnderScopedToken_Gets401Not403()
    {
        var (provider, peers) = Build(o => o.RequiredScopes = ["admin"]);
        peers.Oidc.Result = OidcValidationResult.Invalid("The token's signature is invalid.");
        var outcome = await provider.GetRequiredService<IMediator>().Send(new AuthenticateRequest("Bearer " + Tokens.Create()));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
    }

    [Fact]
    public async Task Send_NoHeader_NoCredentialsAndNoPeerCalls()
    {
        var (provider, peers) = Build();
        var outcome = await provider.GetRequiredService<IMediator>().Send(new AuthenticateRequest(null));
        outcome.Kind.Should().Be(AuthenticationOutcomeKind.NoCredentials);
        peers.Journal.Entries.Should().BeEmpty();
    }

    [Fact]
    public async Task Send_PortThrows_GuardAnswersUnavailable()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(Tokens.Now));
        services.AddMcpAuth(o => { o.RequireOAuth = true; o.AuthorizationUrl = "https://issuer.test"; });
        services.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator, ThrowingValidator>());
        var outcome = await services.BuildServiceProvider().GetRequiredService<IMediator>().Send(new AuthenticateRequest("Bearer " + Tokens.Create()));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        outcome.Error.Stage.Should().Be(Stage.Guard);
    }

    [Fact]
    public async Task Defaults_UnreplacedPortsFailClosed()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(Tokens.Now));
        services.AddMcpAuth(o => { o.RequireOAuth = true; o.AuthorizationUrl = "https://issuer.test"; });
        var outcome = await services.BuildServiceProvider().GetRequiredService<IMediator>().Send(new AuthenticateRequest("Bearer " + Tokens.Create()));
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        outcome.Error.Stage.Should().Be(Stage.OidcProviderValidation);
    }

    [Fact]
    public async Task ReplaceStage_SwapsAStageAtTheSamePosition()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddMcpAuth(o => { o.RequireOAuth = true; o.SkipJwtVerification = true; }).ReplaceStage<OfflineValidationBehavior, RefuseAllStage>();
        var provider = services.BuildServiceProvider();
        provider.GetServices<IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>>().Select(b => b.GetType()).ElementAt(2)
            .Should().Be(typeof(RefuseAllStage));
        var outcome = await provider.GetRequiredService<IMediator>().Send(new AuthenticateRequest("Bearer " + Tokens.Create()));
        outcome.Error!.Stage.Should().Be("RefuseAll");
    }

    [Fact]
    public void AddMcpAuth_Twice_RegistersStagesOnce()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddMcpAuth(o => o.RequireOAuth = true);
        services.AddMcpAuth();
        services.Count(d => d.ServiceType == typeof(IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>))
            .Should().Be(McpAuthServiceCollectionExtensions.StageOrder.Count);
    }

    [Fact]
    public void Options_AreBoundFromTheMcpAuthSection()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["McpAuth:RequireOAuth"] = "true",
            ["McpAuth:AuthorizationUrl"] = "https://issuer.test",
            ["McpAuth:OAuthAudience"] = "mcp-server",
            ["McpAuth:RequiredScopes:0"] = "read",
            ["McpAuth:ClockSkew"] = "00:00:30",
            ["McpAuth:ToolScopes:admin-action:0"] = "mcp:admin",
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddMcpAuth(o => o.StsScopes = ["openid"]);
        var options = services.BuildServiceProvider().GetRequiredService<IOptions<McpAuthOptions>>().Value;
        options.RequireOAuth.Should().BeTrue();
        options.OAuthAudience.Should().Be("mcp-server");
        options.RequiredScopes.Should().Equal("read");
        options.ClockSkew.Should().Be(TimeSpan.FromSeconds(30));
        options.ToolScopes["admin-action"].Should().Equal("mcp:admin");
        options.StsScopes.Should().Equal("openid");
    }

    [Fact]
    public void Options_InvalidCombination_IsRefusedOnFirstUse()
    {
        var services = new ServiceCollection();
        services.AddMcpAuth(o => { o.RequireOAuth = false; o.OAuthAudience = "x"; });
        var act = () => services.BuildServiceProvider().GetRequiredService<IOptions<McpAuthOptions>>().Value;
        act.Should().Throw<OptionsValidationException>().WithMessage("*OAuthAudience only take effect with RequireOAuth*");
    }

    private sealed class ThrowingValidator : IOidcTokenValidator
    {
        public ValueTask<OidcValidationResult> ValidateAsync(Microsoft.IdentityModel.JsonWebTokens.JsonWebToken token, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("adapter bug");
    }

    private sealed class RefuseAllStage : IPipelineBehavior<AuthenticateRequest, AuthenticationOutcome>
    {
        public Task<AuthenticationOutcome> Handle(AuthenticateRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<AuthenticationOutcome> next) =>
            Task.FromResult(AuthenticationOutcome.Failure(AuthenticationErrorCode.InvalidToken, "no", "RefuseAll"));
    }
}
