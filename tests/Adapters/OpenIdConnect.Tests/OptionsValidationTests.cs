using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace McpAuth.OpenIdConnect.Tests;

/// <summary>
/// <see cref="OidcProviderOptions"/> and <see cref="TokenExchangeOptions"/> are validated at start (the
/// <see cref="IStartupValidator"/> the host runs), with messages that name the configuration keys.
/// </summary>
public sealed class OptionsValidationTests
{
    private const string Issuer = "https://idp.example.com";

    public static TheoryData<string, Action<McpAuthOptions>, Action<OidcProviderOptions>, Action<TokenExchangeOptions>, string[]> Rows => new()
    {
        {
            "Valid", Exchange, _ => { }, t => { t.StsClientSecret = "s"; t.StsTokenUrl = "https://sts.example.com/token"; t.StsScopes = ["k8s"]; }, []
        },
        {
            "ValidWithoutExchange", Issuer_, _ => { }, _ => { }, []
        },
        {
            "StsTokenUrlWithoutClientIdAndAudience", Issuer_, _ => { }, t => t.StsTokenUrl = "https://sts.example.com/token",
            ["McpAuth:StsTokenUrl only take effect with a token exchange: set McpAuth:AuthorizationUrl, McpAuth:StsClientId and McpAuth:StsAudience, or remove them."]
        },
        {
            "StsSecretAndScopesWithoutExchange", Issuer_, _ => { }, t => { t.StsClientSecret = "s"; t.StsScopes = ["k8s"]; },
            ["McpAuth:StsClientSecret, McpAuth:StsScopes only take effect with a token exchange: set McpAuth:AuthorizationUrl, McpAuth:StsClientId and McpAuth:StsAudience, or remove them."]
        },
        {
            "StsTokenUrlNotAbsolute", Exchange, _ => { }, t => t.StsTokenUrl = "/token",
            ["McpAuth:StsTokenUrl must be an absolute http(s) URL."]
        },
        {
            "StsTokenUrlNotHttp", Exchange, _ => { }, t => t.StsTokenUrl = "ftp://sts.example.com/token",
            ["McpAuth:StsTokenUrl must be an absolute http(s) URL."]
        },
        {
            "StsTimeoutZero", Exchange, _ => { }, t => t.StsTimeout = TimeSpan.Zero,
            ["McpAuth:StsTimeout must be positive."]
        },
        {
            "CertificateAuthorityMissingFile", Issuer_, p => p.CertificateAuthority = "/nonexistent/mcpauth-ca.pem", _ => { },
            ["McpAuth:CertificateAuthority names a file that does not exist: '/nonexistent/mcpauth-ca.pem'."]
        },
        {
            "IssuerTimeoutZero", Issuer_, p => p.IssuerTimeout = TimeSpan.Zero, _ => { },
            ["McpAuth:IssuerTimeout, McpAuth:KeyRefreshInterval and McpAuth:MetadataMaxAge must be positive."]
        },
        {
            "MetadataMaxAgeNegative", Issuer_, p => p.MetadataMaxAge = TimeSpan.FromMinutes(-1), _ => { },
            ["McpAuth:IssuerTimeout, McpAuth:KeyRefreshInterval and McpAuth:MetadataMaxAge must be positive."]
        },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Validate_AtStart_Rows(
        string name, Action<McpAuthOptions> mcpAuth, Action<OidcProviderOptions> provider, Action<TokenExchangeOptions> exchange, string[] failures)
    {
        using var pipeline = new Harness(mcpAuth, b => b.AddOidcProvider(provider).AddTokenExchange(exchange));
        var start = () => pipeline.Get<IStartupValidator>().Validate();
        if (failures.Length == 0)
        {
            start.Should().NotThrow(name);
            return;
        }

        start.Should().Throw<OptionsValidationException>(name).Which.Failures.Should().Equal(failures);
    }

    [Fact]
    public void Validate_WhenReadWithoutAHost_RefusesTheSameWay()
    {
        using var pipeline = new Harness(Issuer_, b => b.AddOidcProvider(p => p.CertificateAuthority = "/nonexistent/mcpauth-ca.pem"));
        var read = () => pipeline.Get<IOptions<OidcProviderOptions>>().Value;
        read.Should().Throw<OptionsValidationException>().Which.OptionsType.Should().Be<OidcProviderOptions>();
    }

    private static void Issuer_(McpAuthOptions o)
    {
        o.AuthorizationUrl = Issuer;
        o.Audience = "https://mcp.example.com/mcp";
    }

    private static void Exchange(McpAuthOptions o)
    {
        Issuer_(o);
        o.StsClientId = "mcp-client";
        o.StsAudience = "k8s-api";
    }
}
