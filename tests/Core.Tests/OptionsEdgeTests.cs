namespace McpAuth.Core.Tests;

/// <summary>Option defaults and derived switches not pinned by the validator's matrix.</summary>
public class OptionsEdgeTests
{
    [Fact]
    public void Defaults_RefusalLogInterval_AndEmptyScopeSettings()
    {
        var o = new McpAuthOptions();
        o.RefusalLogInterval.Should().Be(TimeSpan.FromMinutes(1));
        o.RequiredScopes.Should().BeEmpty();
        o.ToolScopes.Should().BeEmpty();
        o.HasIssuer.Should().BeFalse();
        o.ValidateToken.Should().BeFalse();
    }

    [Theory]
    [InlineData("Null", null, false)]
    [InlineData("Empty", "", false)]
    [InlineData("Whitespace", " \t", false)]
    [InlineData("Url", "https://issuer.test", true)]
    public void HasIssuer_IsFalseForABlankAuthorizationUrl(string name, string? url, bool expected)
    {
        new McpAuthOptions { AuthorizationUrl = url }.HasIssuer.Should().Be(expected, name);
    }

    [Theory]
    [InlineData("All", "https://i.test", "c", "a", true)]
    [InlineData("BlankIssuer", " ", "c", "a", false)]
    [InlineData("BlankClientId", "https://i.test", " ", "a", false)]
    [InlineData("BlankAudience", "https://i.test", "c", " ", false)]
    [InlineData("OnlyIssuer", "https://i.test", null, null, false)]
    [InlineData("NoIssuer", null, "c", "a", false)]
    public void TokenExchangeEnabled_NeedsIssuerClientIdAndAudience(string name, string? issuer, string? clientId, string? audience, bool expected)
    {
        new McpAuthOptions { AuthorizationUrl = issuer, StsClientId = clientId, StsAudience = audience }.TokenExchangeEnabled.Should().Be(expected, name);
    }

    [Theory]
    [InlineData("Https", "https://issuer.example.com/realms/mcp", true)]
    [InlineData("Http", "http://127.0.0.1:8080", true)]
    [InlineData("UpperCaseScheme", "HTTPS://issuer.example.com", true)]
    [InlineData("Ftp", "ftp://issuer.example.com", false)]
    [InlineData("Relative", "/realms/mcp", false)]
    [InlineData("Fragment", "https://issuer.example.com/#top", false)]
    [InlineData("BareHash", "https://issuer.example.com/#", false)]
    [InlineData("Null", null, false)]
    [InlineData("Empty", "", false)]
    public void IsAbsoluteHttpUrl(string name, string? value, bool expected)
    {
        McpAuthOptionsValidator.IsAbsoluteHttpUrl(value).Should().Be(expected, name);
    }

    [Fact]
    public void Sts_EmptyStrings_AreNotSettings()
    {
        var o = new McpAuthOptions { ValidateToken = true, StsClientId = "", StsAudience = "" };
        McpAuthOptionsValidator.Check(o).Should().BeEmpty("an empty string is no STS setting");
    }
}
