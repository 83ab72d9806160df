namespace McpAuth.Core.Tests;

public class OptionsValidatorTests
{
    public static TheoryData<string, Action<McpAuthOptions>, string> Refused => new()
    {
        { "AudienceWithoutRequireOAuth", o => o.OAuthAudience = "a", "OAuthAudience only take effect with RequireOAuth*" },
        { "ValidateTokenWithoutRequireOAuth", o => o.ValidateToken = true, "ValidateToken only take effect with RequireOAuth*" },
        { "IssuerWithoutRequireOAuth", o => o.AuthorizationUrl = "https://i.test", "AuthorizationUrl only take effect*" },
        { "ServerUrlWithoutRequireOAuth", o => o.ServerUrl = "https://s.test", "ServerUrl only take effect*" },
        { "CaWithoutRequireOAuth", o => o.CertificateAuthority = "/ca.pem", "CertificateAuthority only take effect*" },
        { "StsWithoutRequireOAuth", o => o.StsClientId = "c", "StsClientId only take effect*" },
        { "NothingVerifies", o => o.RequireOAuth = true, "RequireOAuth is on but nothing verifies tokens*--skip-jwt-verification*" },
        { "StsWithoutIssuer", o => { o.RequireOAuth = true; o.ValidateToken = true; o.StsClientId = "c"; o.StsAudience = "a"; }, "StsClientId, StsAudience need an issuer*" },
        { "ClientIdWithoutAudience", o => { o.RequireOAuth = true; o.AuthorizationUrl = "https://i.test"; o.StsClientId = "c"; }, "StsClientId is set without StsAudience*" },
        { "RelativeIssuer", o => { o.RequireOAuth = true; o.AuthorizationUrl = "issuer"; }, "AuthorizationUrl must be an absolute*" },
        { "ServerUrlWithFragment", o => { o.RequireOAuth = true; o.ValidateToken = true; o.ServerUrl = "https://s.test/#x"; }, "ServerUrl must be an absolute*" },
        { "HugeSkew", o => { o.RequireOAuth = true; o.ValidateToken = true; o.ClockSkew = TimeSpan.FromHours(1); }, "ClockSkew must be*" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Check_RefusedCombination_SaysHowToFixIt(string name, Action<McpAuthOptions> configure, string message)
    {
        var options = new McpAuthOptions();
        configure(options);
        var failures = McpAuthOptionsValidator.Check(options).ToList();
        failures.Should().ContainMatch(message, name);
    }

    public static TheoryData<string, Action<McpAuthOptions>> Accepted => new()
    {
        { "Off", _ => { } },
        { "Issuer", o => { o.RequireOAuth = true; o.AuthorizationUrl = "https://i.test"; } },
        { "TokenReviewOnly", o => { o.RequireOAuth = true; o.ValidateToken = true; } },
        { "SkipVerificationExplicitly", o => { o.RequireOAuth = true; o.SkipJwtVerification = true; } },
        { "FullSts", o => { o.RequireOAuth = true; o.AuthorizationUrl = "https://i.test"; o.StsClientId = "c"; o.StsAudience = "a"; o.StsClientSecret = "s"; o.StsScopes = ["x"]; } },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void Check_ValidCombination_HasNoFailures(string name, Action<McpAuthOptions> configure)
    {
        var options = new McpAuthOptions();
        configure(options);
        McpAuthOptionsValidator.Check(options).Should().BeEmpty(name);
    }
}
