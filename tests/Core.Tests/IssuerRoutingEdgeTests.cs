using System.Text.Json;
using McpAuth.Behaviors;
using McpAuth.Ports;
using McpAuth.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAuth.Core.Tests;

/// <summary>
/// Edges of issuer routing and of the introspection stage that the mutation run showed untested: the single issuer
/// takes every token whatever its iss, an introspected token without iss belongs to the first issuer, a username prefix
/// never makes a subject out of nothing, and what the introspection stage logs and reports.
/// </summary>
public sealed class IssuerRoutingEdgeTests
{
    private static ParsedToken Jwt(string iss) => ParsedToken.TryParse(Tokens.Create(Tokens.Valid(("iss", iss))), 16384, out _)!;

    private static ParsedToken Introspected(string json) =>
        ParsedToken.FromIntrospection("opaque-token", JsonDocument.Parse(json).RootElement, out _)!;

    private static IssuerDirectory Several() => new(Options.Create(new McpAuthOptions
    {
        Audience = "mcp-server",
        Issuers = [new IssuerOptions { Url = "https://a.test" }, new IssuerOptions { Url = "https://b.test" }],
    }));

    [Fact]
    public void SingleIssuer_TakesEveryToken_WhateverItsIss()
    {
        var directory = new IssuerDirectory(Options.Create(new McpAuthOptions { AuthorizationUrl = "https://issuer.test", Audience = "mcp-server" }));

        directory.Route(Jwt("https://elsewhere.test")).Should().BeSameAs(directory.All[0]);
        directory.Route(Introspected("""{"active":true}""")).Should().BeSameAs(directory.All[0]);
    }

    [Fact]
    public void NoIssuer_RoutesNothing()
    {
        var directory = new IssuerDirectory(Options.Create(new McpAuthOptions { ValidateToken = true }));

        directory.All.Should().BeEmpty();
        directory.RoutesByIssuer.Should().BeFalse();
        directory.Route(Jwt("https://a.test")).Should().BeNull();
        directory.Route(Introspected("""{"active":true}""")).Should().BeNull("there is no first issuer to give it to");
    }

    [Fact]
    public void SeveralIssuers_IntrospectedTokenWithoutIss_BelongsToTheFirst_AJwtWithoutIssToNone()
    {
        var directory = Several();

        directory.Route(Introspected("""{"active":true}""")).Should().BeSameAs(directory.All[0]);
        directory.Route(Introspected("""{"active":true,"iss":"https://b.test"}""")).Should().BeSameAs(directory.All[1]);
        directory.Route(ParsedToken.TryParse(Tokens.Create(new Dictionary<string, object> { ["sub"] = "x", ["exp"] = Tokens.Now.AddMinutes(5).ToUnixTimeSeconds() }), 16384, out _)!)
            .Should().BeNull("a JWT without iss names no issuer");
    }

    [Fact]
    public void RepeatedIssuer_TheFirstEntryWins()
    {
        var directory = new IssuerDirectory(Options.Create(new McpAuthOptions
        {
            Issuers = [new IssuerOptions { Url = "https://a.test", Audiences = ["first"] }, new IssuerOptions { Url = "https://a.test", Audiences = ["second"] }],
        }));

        directory.Route(Jwt("https://a.test"))!.Audiences.Should().Equal("first");
    }

    public static TheoryData<string, string?, string?, string?> Subjects => new()
    {
        // row, username claim, prefix, expected subject (token: sub "alice", email "alice@example.test")
        { "default", null, null, "alice" },
        { "prefix on sub", null, "corp:", "corp:alice" },
        { "email claim", "email", null, "alice@example.test" },
        { "email claim with prefix", "email", "corp:", "corp:alice@example.test" },
        { "missing claim, prefix: no subject made of the prefix alone", "upn", "corp:", null },
        { "missing claim, no prefix", "upn", null, null },
        { "empty claim, prefix: still no subject made of the prefix alone", "nickname", "corp:", null },
        { "empty claim, no prefix: no subject", "nickname", null, null },
    };

    [Theory]
    [MemberData(nameof(Subjects))]
    public void SubjectOf_FollowsTheMapping(string row, string? claim, string? prefix, string? expected)
    {
        var issuer = new IssuerDirectory.Issuer("https://a.test", [], [], claim, prefix);
        var token = ParsedToken.TryParse(Tokens.Create(Tokens.Valid(("email", "alice@example.test"), ("nickname", ""))), 16384, out _)!;

        issuer.SubjectOf(token).Should().Be(expected, row);
    }

    [Fact]
    public async Task Introspection_Unavailable_IsAWarningNamingTheStage_AndA503()
    {
        var logs = new LogCapture();
        var pipeline = TestPipeline.Build(o => o.IntrospectionClientId = "mcp-server", services: s =>
        {
            s.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
            s.Replace(ServiceDescriptor.Singleton<ITokenIntrospector>(new FakeIntrospector { Answer = _ => IntrospectionResult.Unavailable("HTTP 500") }));
        });

        var outcome = await pipeline.Send("2YotnFZFEjr1zCsicMWpAA");

        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        outcome.Error.Stage.Should().Be("Introspection");
        logs.Entries.Should().Contain((LogLevel.Warning, new EventId(1002, "PeerUnavailable"), "Stage Introspection could not reach its peer: HTTP 500."));
    }

    [Fact]
    public async Task Introspection_ActiveWithoutTheToken_IsAWarningNamingTheAdapterFault()
    {
        var logs = new LogCapture();
        var pipeline = TestPipeline.Build(o => o.IntrospectionClientId = "mcp-server", services: s =>
        {
            s.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
            s.Replace(ServiceDescriptor.Singleton<ITokenIntrospector>(new FakeIntrospector { Answer = _ => new IntrospectionResult(PortStatus.Accepted) }));
        });

        var outcome = await pipeline.Send("2YotnFZFEjr1zCsicMWpAA");

        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        logs.Entries.Should().Contain(e => e.Id.Id == 1002 && e.Message == "Stage Introspection could not reach its peer: The introspection adapter answered active without the introspected token.");
    }

    [Fact]
    public async Task Introspection_NotActiveWithoutAReason_SaysTheTokenIsNotActive()
    {
        var pipeline = TestPipeline.Build(o => o.IntrospectionClientId = "mcp-server", services: s =>
            s.Replace(ServiceDescriptor.Singleton<ITokenIntrospector>(new FakeIntrospector { Answer = _ => new IntrospectionResult(PortStatus.Rejected) })));

        var outcome = await pipeline.Send("2YotnFZFEjr1zCsicMWpAA");

        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.InvalidToken);
        outcome.Error.Description.Should().Be("The token is not active.");
    }

    [Fact]
    public async Task Introspection_NotActive_CarriesTheAdaptersReason()
    {
        var pipeline = TestPipeline.Build(o => o.IntrospectionClientId = "mcp-server", services: s =>
            s.Replace(ServiceDescriptor.Singleton<ITokenIntrospector>(new FakeIntrospector { Answer = _ => IntrospectionResult.Inactive("The token is not an access token.") })));

        var outcome = await pipeline.Send("2YotnFZFEjr1zCsicMWpAA");

        outcome.Error!.Description.Should().Be("The token is not an access token.");
    }

    [Fact]
    public async Task Introspection_Active_IsASpanThatPassed()
    {
        using var spans = new SpanRecorder();
        var pipeline = TestPipeline.Build(o => o.IntrospectionClientId = "mcp-server", services: s =>
            s.Replace(ServiceDescriptor.Singleton<ITokenIntrospector>(new FakeIntrospector
            {
                Answer = FakeIntrospector.ActiveWith($$"""{"active":true,"sub":"alice","iss":"https://issuer.test","aud":"mcp-server","exp":{{Tokens.Now.AddMinutes(5).ToUnixTimeSeconds()}}}"""),
            })));

        var outcome = await pipeline.Send("2YotnFZFEjr1zCsicMWpAA");

        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        spans.Spans.Should().Contain(("McpAuth.Introspection", "passed"));
    }
}
