using FluentAssertions;
using McpAuth.Tokens;
using Microsoft.Extensions.Options;

namespace McpAuth.Core.Tests;

/// <summary>
/// McpAuth:Issuers in the pipeline (the embedding API, fake issuer port): routing by iss before any port call, per-issuer
/// audiences, required scopes and username mapping, the single-issuer settings as the one-element case, and the
/// validation rules.
/// </summary>
public sealed class MultipleIssuersTests
{
    private const string A = "https://a.example.com";
    private const string B = "https://b.example.com/realms/mcp";

    private static TestPipeline Pipeline() => TestPipeline.Build(o =>
    {
        o.AuthorizationUrl = null;
        o.Audience = "mcp-server";
        o.Issuers.Add(new IssuerOptions { Url = A });
        o.Issuers.Add(new IssuerOptions
        {
            Url = B, Audiences = ["b-api", "b-api-2"], RequiredScopes = ["write"],
            ClaimMappings = new IssuerClaimMappings { Username = new ClaimMapping { Claim = "email", Prefix = "b:" } },
        });
    });

    public static TheoryData<string, string, string, string?, string?> Rows => new()
    {
        // row, iss, aud, expected subject (null: refused), refusing stage
        { "A, default audience", A, "mcp-server", "alice", null },
        { "B, its first audience, username from email with prefix", B, "b-api", "b:alice@b.example", null },
        { "B, its second audience", B, "b-api-2", "b:alice@b.example", null },
        { "A with B's audience", A, "b-api", null, "OfflineValidation" },
        { "B with the server's audience", B, "mcp-server", null, "OfflineValidation" },
        { "unknown iss", "https://c.example.com", "mcp-server", null, "OfflineValidation" },
        { "iss differing by a trailing slash", A + "/", "mcp-server", null, "OfflineValidation" },
        { "iss differing in case", "https://A.example.com", "mcp-server", null, "OfflineValidation" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Token_IsRoutedByIss_AndCheckedWithItsIssuersRules(string row, string iss, string aud, string? subject, string? stage)
    {
        var pipeline = Pipeline();

        var outcome = await pipeline.Send(Tokens.Create(Tokens.Valid(("iss", iss), ("aud", aud), ("email", "alice@b.example"))));

        if (subject is null)
        {
            outcome.Succeeded.Should().BeFalse(row);
            outcome.Error!.Stage.Should().Be(stage, row);
            pipeline.Oidc.Calls.Should().Be(0, $"{row}: refused before the issuer port");
        }
        else
        {
            outcome.Succeeded.Should().BeTrue(row);
            outcome.Principal!.Subject.Should().Be(subject, row);
            pipeline.Oidc.Calls.Should().Be(1, row);
        }
    }

    [Fact]
    public async Task UnknownIss_NamesTheReason()
    {
        var pipeline = Pipeline();

        var outcome = await pipeline.Send(Tokens.Create(Tokens.Valid(("iss", "https://c.example.com"), ("aud", "mcp-server"))));

        outcome.Error!.Description.Should().Be("The token's issuer is not one this server trusts.");
    }

    [Fact]
    public async Task IssuersRequiredScopes_AreAddedToTheServerWideOnes_ForItsTokensOnly()
    {
        var pipeline = TestPipeline.Build(o =>
        {
            o.AuthorizationUrl = null;
            o.Audience = "mcp-server";
            o.RequiredScopes = ["read"];
            o.Issuers.Add(new IssuerOptions { Url = A });
            o.Issuers.Add(new IssuerOptions { Url = B, RequiredScopes = ["write", "read"] });
        });

        var bReadOnly = await pipeline.Send(Tokens.Create(Tokens.Valid(("iss", B), ("scope", "read"))));
        var aReadOnly = await pipeline.Send(Tokens.Create(Tokens.Valid(("iss", A), ("scope", "read"))));
        var bBoth = await pipeline.Send(Tokens.Create(Tokens.Valid(("iss", B), ("scope", "read write"))));

        bReadOnly.Error!.Code.Should().Be(AuthenticationErrorCode.InsufficientScope);
        bReadOnly.Error.RequiredScopes.Should().Equal("read", "write");
        aReadOnly.Succeeded.Should().BeTrue();
        bBoth.Succeeded.Should().BeTrue();
    }

    [Fact]
    public async Task SingleIssuerSettings_AreTheOneElementCase_IssIsLeftToTheIssuerStage()
    {
        var pipeline = TestPipeline.Build();
        var directory = new IssuerDirectory(Options.Create(new McpAuthOptions { AuthorizationUrl = "https://issuer.test", Audience = "mcp-server" }));

        var outcome = await pipeline.Send(Tokens.Create(Tokens.Valid(("iss", "https://elsewhere.example"))));

        directory.RoutesByIssuer.Should().BeFalse();
        directory.All.Should().ContainSingle().Which.Should().Be(directory.Route(ParsedToken.TryParse(Tokens.Create(), 16384, out _)!));
        directory.All[0].Audiences.Should().Equal("mcp-server");
        outcome.Succeeded.Should().BeTrue("with one issuer, iss is checked against the discovered issuer by the adapter (a fake here)");
        pipeline.Oidc.Calls.Should().Be(1);
    }

    public static TheoryData<string, Action<McpAuthOptions>, string> Refused => new()
    {
        { "both", o => { o.AuthorizationUrl = A; o.Issuers.Add(new IssuerOptions { Url = B, Audiences = ["x"] }); }, "Set either McpAuth:AuthorizationUrl (one issuer) or McpAuth:Issuers (several), not both." },
        { "relative url", o => o.Issuers.Add(new IssuerOptions { Url = "/issuer", Audiences = ["x"] }), "McpAuth:Issuers:0:Url must be an absolute http(s) URL" },
        { "repeated", o => { o.Issuers.Add(new IssuerOptions { Url = A, Audiences = ["x"] }); o.Issuers.Add(new IssuerOptions { Url = A, Audiences = ["y"] }); }, "McpAuth:Issuers:1:Url repeats an issuer" },
        { "no audience anywhere", o => o.Issuers.Add(new IssuerOptions { Url = A }), "McpAuth:Issuers:0:Audiences is empty and no McpAuth:Audience is set" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Validation_RefusesWithTheSettingsName(string row, Action<McpAuthOptions> configure, string expected)
    {
        var options = new McpAuthOptions();
        configure(options);

        McpAuthOptionsValidator.Check(options).Should().Contain(m => m.StartsWith(expected, StringComparison.Ordinal), row);
    }

    [Fact]
    public void Validation_AcceptsIssuersWithOwnAudiences_OrTheServerAudience()
    {
        var options = new McpAuthOptions { Audience = "mcp-server" };
        options.Issuers.Add(new IssuerOptions { Url = A });
        options.Issuers.Add(new IssuerOptions { Url = B, Audiences = ["b-api"] });

        McpAuthOptionsValidator.Check(options).Should().BeEmpty();
        options.HasIssuer.Should().BeTrue();
        options.PrimaryIssuerUrl.Should().Be(A);
    }
}
