using Microsoft.Extensions.Options;

namespace McpAuth.Core.Tests;

public class OptionsValidatorTests
{
    private const string NothingVerifies =
        "Nothing verifies tokens: set McpAuth:AuthorizationUrl to verify signatures at the issuer, or McpAuth:ValidateToken=true to review " +
        "tokens on the cluster. McpAuth:SkipJwtVerification=true accepts unverified tokens and is for development only.";

    private const string NoAudience =
        "McpAuth:AuthorizationUrl is set but no audience is expected, so tokens the issuer made for any other API would be accepted: " +
        "set McpAuth:Audience to this server's resource URL (or McpAuth:ServerUrl, from which it is derived), or McpAuth:AcceptAnyAudience=true (insecure).";

    private const string NotAbsolute = "McpAuth:AuthorizationUrl must be an absolute http(s) URL, e.g. https://issuer.example.com/realms/mcp.";

    private const string Issuer = "https://i.test";

    /// <summary>Each row is a configuration that is fine except for one thing, and the exact message(s) it gets.</summary>
    public static TheoryData<string, Action<McpAuthOptions>, string[]> Refused => new()
    {
        { "NothingVerifies", _ => { }, [NothingVerifies] },
        { "NothingVerifies_EvenWithAudience", o => o.Audience = "a", [NothingVerifies] },
        { "WhitespaceIssuerVerifiesNothing", o => o.AuthorizationUrl = "   ", [NothingVerifies] },
        { "IssuerWithoutAudience", o => o.AuthorizationUrl = Issuer, [NoAudience] },
        { "IssuerWithWhitespaceAudience", o => { o.AuthorizationUrl = Issuer; o.Audience = " "; }, [NoAudience] },
        {
            "StsWithoutIssuer", o => { o.ValidateToken = true; o.StsClientId = "c"; o.StsAudience = "a"; },
            ["McpAuth:StsClientId, McpAuth:StsAudience need an issuer: set McpAuth:AuthorizationUrl, or remove them."]
        },
        {
            "StsAudienceWithoutIssuer", o => { o.ValidateToken = true; o.StsAudience = "a"; },
            ["McpAuth:StsAudience need an issuer: set McpAuth:AuthorizationUrl, or remove them."]
        },
        {
            "StsClientIdWithoutIssuerOrAudience", o => { o.ValidateToken = true; o.StsClientId = "c"; },
            [
                "McpAuth:StsClientId need an issuer: set McpAuth:AuthorizationUrl, or remove them.",
                "McpAuth:StsClientId is set without McpAuth:StsAudience: set it to the audience the exchanged token is for.",
            ]
        },
        {
            "ClientIdWithoutAudience", o => { o.AuthorizationUrl = Issuer; o.Audience = "mcp"; o.StsClientId = "c"; },
            ["McpAuth:StsClientId is set without McpAuth:StsAudience: set it to the audience the exchanged token is for."]
        },
        { "RelativeIssuer", o => { o.AuthorizationUrl = "issuer"; o.Audience = "mcp"; }, [NotAbsolute] },
        { "FtpIssuer", o => { o.AuthorizationUrl = "ftp://i.test"; o.Audience = "mcp"; }, [NotAbsolute] },
        { "IssuerWithFragment", o => { o.AuthorizationUrl = "https://i.test/#x"; o.Audience = "mcp"; }, [NotAbsolute] },
        { "HugeSkew", o => { o.ValidateToken = true; o.ClockSkew = TimeSpan.FromMinutes(10).Add(TimeSpan.FromTicks(1)); }, ["McpAuth:ClockSkew must be between 0 and 10 minutes."] },
        { "NegativeSkew", o => { o.ValidateToken = true; o.ClockSkew = TimeSpan.FromSeconds(-1); }, ["McpAuth:ClockSkew must be between 0 and 10 minutes."] },
        { "TinyMaxTokenBytes", o => { o.ValidateToken = true; o.MaxTokenBytes = 255; }, ["McpAuth:MaxTokenBytes must be between 256 and 1048576."] },
        { "HugeMaxTokenBytes", o => { o.ValidateToken = true; o.MaxTokenBytes = 1024 * 1024 + 1; }, ["McpAuth:MaxTokenBytes must be between 256 and 1048576."] },
        {
            "NegativeCacheEntries", o => { o.ValidateToken = true; o.TokenCacheMaxEntries = -1; },
            ["McpAuth:TokenCacheMaxEntries and McpAuth:TokenCacheMaxAge must not be negative (0 switches the cache off)."]
        },
        {
            "NegativeCacheAge", o => { o.ValidateToken = true; o.TokenCacheMaxAge = TimeSpan.FromSeconds(-1); },
            ["McpAuth:TokenCacheMaxEntries and McpAuth:TokenCacheMaxAge must not be negative (0 switches the cache off)."]
        },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Check_RefusedCombination_SaysHowToFixIt(string name, Action<McpAuthOptions> configure, string[] messages)
    {
        var options = new McpAuthOptions();
        configure(options);
        McpAuthOptionsValidator.Check(options).Should().Equal(messages, name);

        var result = new McpAuthOptionsValidator().Validate(Options.DefaultName, options);
        result.Failed.Should().BeTrue(name);
        result.Failures.Should().Equal(messages, name);
    }

    public static TheoryData<string, Action<McpAuthOptions>> Accepted => new()
    {
        { "IssuerWithAudience", o => { o.AuthorizationUrl = Issuer; o.Audience = "https://mcp.example.com/mcp"; } },
        { "IssuerWithAcceptAnyAudience", o => { o.AuthorizationUrl = Issuer; o.AcceptAnyAudience = true; } },
        { "HttpIssuer", o => { o.AuthorizationUrl = "http://localhost:8080/realms/x"; o.Audience = "mcp"; } },
        { "TokenReviewOnly_NoAudienceNeeded", o => o.ValidateToken = true },
        { "SkipVerificationExplicitly", o => o.SkipJwtVerification = true },
        { "FullSts", o => { o.AuthorizationUrl = Issuer; o.Audience = "mcp"; o.StsClientId = "c"; o.StsAudience = "a"; } },
        { "StsAudienceWithoutClientIdButWithIssuer", o => { o.AuthorizationUrl = Issuer; o.Audience = "mcp"; o.StsAudience = "a"; } },
        { "CacheOff", o => { o.ValidateToken = true; o.TokenCacheMaxEntries = 0; o.TokenCacheMaxAge = TimeSpan.Zero; } },
        { "BoundsLow", o => { o.ValidateToken = true; o.ClockSkew = TimeSpan.Zero; o.MaxTokenBytes = 256; } },
        { "BoundsHigh", o => { o.ValidateToken = true; o.ClockSkew = TimeSpan.FromMinutes(10); o.MaxTokenBytes = 1024 * 1024; } },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void Check_ValidCombination_HasNoFailures(string name, Action<McpAuthOptions> configure)
    {
        var options = new McpAuthOptions();
        configure(options);
        McpAuthOptionsValidator.Check(options).Should().BeEmpty(name);
        new McpAuthOptionsValidator().Validate(Options.DefaultName, options).Should().BeSameAs(ValidateOptionsResult.Success, name);
    }

    [Fact]
    public void Check_SeveralProblems_AreAllReported()
    {
        var options = new McpAuthOptions { AuthorizationUrl = "issuer", ClockSkew = TimeSpan.FromHours(1) };
        McpAuthOptionsValidator.Check(options).Should().Equal(NoAudience, NotAbsolute, "McpAuth:ClockSkew must be between 0 and 10 minutes.");
    }

    [Fact]
    public void Key_IsTheConfigurationKey()
    {
        McpAuthOptions.Key("Audience").Should().Be("McpAuth:Audience");
        McpAuthOptions.SectionName.Should().Be("McpAuth");
    }

    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var o = new McpAuthOptions();
        o.ClockSkew.Should().Be(TimeSpan.FromSeconds(60));
        o.MaxTokenBytes.Should().Be(16 * 1024);
        o.TokenCacheMaxEntries.Should().Be(10_000);
        o.TokenCacheMaxAge.Should().Be(TimeSpan.FromMinutes(5));
        o.AcceptAnyAudience.Should().BeFalse();
        o.SkipJwtVerification.Should().BeFalse();
        o.TokenExchangeEnabled.Should().BeFalse();
    }
}
