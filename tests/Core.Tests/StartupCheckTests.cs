using McpAuth.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Core.Tests;

public class StartupCheckTests
{
    private const string NoIssuerAdapter =
        "McpAuth:AuthorizationUrl is set but no issuer adapter is registered: call AddOidcProvider() (package McpAuth.OpenIdConnect).";

    private const string NoExchangeAdapter =
        "McpAuth:StsClientId is set but no token exchange adapter is registered: call AddTokenExchange() (package McpAuth.OpenIdConnect).";

    private const string NoReviewAdapter =
        "McpAuth:ValidateToken is on but no TokenReview adapter is registered: call AddKubernetesTokenReview() (package McpAuth.Kubernetes).";

    private static (IHostedService Check, LogCapture Logs) Build(Action<McpAuthOptions> configure, bool oidc = false, bool exchange = false, bool review = false)
    {
        var logs = new LogCapture();
        var services = new ServiceCollection().AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        services.AddMcpAuth(configure);
        if (oidc)
        {
            services.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(new FakeOidcValidator()));
        }

        if (exchange)
        {
            services.Replace(ServiceDescriptor.Singleton<ITokenExchangeClient>(new FakeExchangeClient()));
        }

        if (review)
        {
            services.Replace(ServiceDescriptor.Singleton<ITokenReviewClient>(new FakeReviewClient()));
        }

        var hosted = services.BuildServiceProvider().GetServices<IHostedService>().ToList();
        hosted.Should().ContainSingle("AddMcpAuth registers exactly one start-up check");
        hosted[0].GetType().Should().Be(typeof(McpAuthStartupCheck));
        return (hosted[0], logs);
    }

    private static void Issuer(McpAuthOptions o)
    {
        o.AuthorizationUrl = "https://issuer.test";
        o.Audience = "mcp-server";
    }

    public static TheoryData<string, Action<McpAuthOptions>, bool, bool, bool, string[]> Refused => new()
    {
        { "IssuerWithoutAdapter", Issuer, false, false, false, [NoIssuerAdapter] },
        { "ReviewWithoutAdapter", o => o.ValidateToken = true, false, false, false, [NoReviewAdapter] },
        { "ExchangeWithoutAdapter", o => { Issuer(o); o.StsClientId = "c"; o.StsAudience = "k8s"; }, true, false, false, [NoExchangeAdapter] },
        {
            "NothingRegistered", o => { Issuer(o); o.StsClientId = "c"; o.StsAudience = "k8s"; o.ValidateToken = true; }, false, false, false,
            [NoIssuerAdapter, NoExchangeAdapter, NoReviewAdapter]
        },
        { "OnlyReviewMissing", o => { Issuer(o); o.StsClientId = "c"; o.StsAudience = "k8s"; o.ValidateToken = true; }, true, true, false, [NoReviewAdapter] },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Start_EnabledStageWithoutAdapter_IsRefused(string name, Action<McpAuthOptions> configure, bool oidc, bool exchange, bool review, string[] failures)
    {
        var (check, _) = Build(configure, oidc, exchange, review);
        var act = () => check.StartAsync(CancellationToken.None);
        var thrown = await act.Should().ThrowAsync<OptionsValidationException>(name);
        thrown.Which.Failures.Should().Equal(failures, name);
        thrown.Which.OptionsName.Should().Be("McpAuth");
        thrown.Which.OptionsType.Should().Be(typeof(McpAuthOptions));
    }

    public static TheoryData<string, Action<McpAuthOptions>, bool, bool, bool> Started => new()
    {
        { "IssuerWithAdapter", Issuer, true, false, false },
        { "ReviewWithAdapter", o => o.ValidateToken = true, false, false, true },
        { "EverythingWithAdapters", o => { Issuer(o); o.StsClientId = "c"; o.StsAudience = "k8s"; o.ValidateToken = true; }, true, true, true },
        { "StsAudienceOnly_ExchangeOff_NeedsNoExchangeAdapter", o => { Issuer(o); o.StsAudience = "k8s"; }, true, false, false },
        { "SkipVerification_NeedsNoAdapter", o => o.SkipJwtVerification = true, false, false, false },
    };

    [Theory]
    [MemberData(nameof(Started))]
    public async Task Start_EveryEnabledStageHasItsAdapter_Starts(string name, Action<McpAuthOptions> configure, bool oidc, bool exchange, bool review)
    {
        var (check, _) = Build(configure, oidc, exchange, review);
        await check.Invoking(c => c.StartAsync(CancellationToken.None)).Should().NotThrowAsync(name);
        await check.StopAsync(CancellationToken.None);
    }

    public static TheoryData<string, Action<McpAuthOptions>, bool, bool, string[]> InsecureRows => new()
    {
        { "Secure", Issuer, true, false, [] },
        {
            "AcceptAnyAudience", o => { o.AuthorizationUrl = "https://issuer.test"; o.AcceptAnyAudience = true; }, true, false,
            ["INSECURE: McpAuth:AcceptAnyAudience is on. Tokens the issuer made for any other API are accepted."]
        },
        {
            "SkipJwtVerification_NothingVerifies", o => o.SkipJwtVerification = true, false, false,
            ["INSECURE: McpAuth:SkipJwtVerification is on. No token is verified: any well-formed JWT is accepted."]
        },
        { "SkipJwtVerification_WithIssuer_HasNoEffect", o => { Issuer(o); o.SkipJwtVerification = true; }, true, false, [] },
        { "SkipJwtVerification_WithReview_HasNoEffect", o => { o.ValidateToken = true; o.SkipJwtVerification = true; }, false, true, [] },
    };

    [Theory]
    [MemberData(nameof(InsecureRows))]
    public async Task Start_LogsEveryInsecureSettingThatIsOn(string name, Action<McpAuthOptions> configure, bool oidc, bool review, string[] warnings)
    {
        var (check, logs) = Build(configure, oidc: oidc, review: review);
        await check.StartAsync(CancellationToken.None);
        var insecure = logs.Entries.Where(e => e.Id.Id == 1010).ToList();
        insecure.Select(e => e.Message).Should().Equal(warnings, name);
        insecure.Select(e => e.Level).Distinct().Should().BeSubsetOf([LogLevel.Warning]);
    }

    [Fact]
    public void AddMcpAuthTwice_RegistersOneStartupCheck()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddMcpAuth(o => o.ValidateToken = true);
        services.AddMcpAuth();
        services.Count(d => d.ServiceType == typeof(IHostedService)).Should().Be(1);
    }
}
