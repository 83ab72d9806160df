using System.Net;
using System.Text.Json;
using McpAuth.Ports;

namespace McpAuth.Host.Tests;

public class ChallengeTests
{
    private const string Resource = "https://mcp.example.com/mcp";
    private const string Metadata = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";
    private static readonly string[] Base = ["--require-oauth", "--authorization-url", "https://issuer.test", "--server-url", "https://mcp.example.com"];

    public sealed record Row(
        string Name, string[] Args, Func<string?> Token, string Body, Action<HostHarness>? Setup, HttpStatusCode Status, string? WwwAuthenticate, string Error)
    {
        public override string ToString() => Name;
    }

    public static TheoryData<Row> Rows => new()
    {
        new Row("NoCredentials", Base, () => null, Tools, null, HttpStatusCode.Unauthorized,
            $"Bearer realm=\"Kubernetes MCP Server\", resource_metadata=\"{Metadata}\"", "unauthorized"),
        new Row("NoCredentialsWithAudienceAndScopes", [.. Base, "--oauth-audience", "mcp-server", "--required-scopes", "read,write"], () => null, Tools, null, HttpStatusCode.Unauthorized,
            $"Bearer realm=\"Kubernetes MCP Server\", audience=\"mcp-server\", resource_metadata=\"{Metadata}\", scope=\"read write\"", "unauthorized"),
        new Row("CustomRealmIsSanitized", [.. Base, "--realm", "My \"MCP\"\\"], () => null, Tools, null, HttpStatusCode.Unauthorized,
            $"Bearer realm=\"My 'MCP''\", resource_metadata=\"{Metadata}\"", "unauthorized"),
        new Row("Malformed", Base, () => "not-a-jwt", Tools, null, HttpStatusCode.Unauthorized,
            $"Bearer realm=\"Kubernetes MCP Server\", resource_metadata=\"{Metadata}\", error=\"invalid_token\", error_description=\"The bearer token is not a JWT (it must have exactly three dot-separated parts).\"", "invalid_token"),
        new Row("Expired", Base, () => HostHarness.Token(audience: Resource, expiresIn: -600), Tools, null, HttpStatusCode.Unauthorized,
            $"Bearer realm=\"Kubernetes MCP Server\", resource_metadata=\"{Metadata}\", error=\"invalid_token\", error_description=\"The token has expired.\"", "invalid_token"),
        new Row("WrongAudience", Base, () => HostHarness.Token(audience: "https://other.example.com/mcp"), Tools, null, HttpStatusCode.Unauthorized,
            $"Bearer realm=\"Kubernetes MCP Server\", resource_metadata=\"{Metadata}\", error=\"invalid_token\", error_description=\"The token's audience does not match this server.\"", "invalid_token"),
        new Row("IssuerRejects", Base, () => HostHarness.Token(audience: Resource), Tools, h => h.Oidc.Result = OidcValidationResult.Invalid("The token's signature is invalid."), HttpStatusCode.Unauthorized,
            $"Bearer realm=\"Kubernetes MCP Server\", resource_metadata=\"{Metadata}\", error=\"invalid_token\", error_description=\"The token's signature is invalid.\"", "invalid_token"),
        new Row("InsufficientScope", [.. Base, "--required-scopes", "admin"], () => HostHarness.Token(audience: Resource), Tools, null, HttpStatusCode.Forbidden,
            $"Bearer realm=\"Kubernetes MCP Server\", resource_metadata=\"{Metadata}\", scope=\"admin\", error=\"insufficient_scope\", error_description=\"The token lacks a required scope.\"", "insufficient_scope"),
        new Row("StepUpForTool", [.. Base, "--required-scopes", "read", "--tool-scopes", "admin-action=mcp:admin"], () => HostHarness.Token(audience: Resource), HostHarness.ToolCall("admin-action"), null, HttpStatusCode.Forbidden,
            $"Bearer realm=\"Kubernetes MCP Server\", resource_metadata=\"{Metadata}\", scope=\"read mcp:admin\", error=\"insufficient_scope\", error_description=\"The tool 'admin-action' needs more scopes than the token carries.\"", "insufficient_scope"),
        new Row("UnknownContext", [.. Base, "--validate-token"], () => HostHarness.Token(audience: Resource), HostHarness.ToolCall("whoami", "unknown"), null, HttpStatusCode.BadRequest,
            $"Bearer realm=\"Kubernetes MCP Server\", resource_metadata=\"{Metadata}\", error=\"invalid_request\", error_description=\"Unknown cluster context 'unknown'.\"", "invalid_request"),
        new Row("IssuerUnavailable", Base, () => HostHarness.Token(audience: Resource), Tools, h => h.Oidc.Result = OidcValidationResult.Unavailable("down"), HttpStatusCode.ServiceUnavailable,
            null, "temporarily_unavailable"),
        new Row("StsUnavailable", [.. Base, "--sts-client-id", "c", "--sts-audience", "k8s"], () => HostHarness.Token(audience: Resource), Tools, h => h.Exchange.Result = TokenExchangeResult.Unavailable("500"), HttpStatusCode.ServiceUnavailable,
            null, "temporarily_unavailable"),
        new Row("ApiServerUnavailable", [.. Base, "--validate-token"], () => HostHarness.Token(audience: Resource), Tools, h => h.Review.Answer = _ => TokenReviewResult.Unavailable("500"), HttpStatusCode.ServiceUnavailable,
            null, "temporarily_unavailable"),
    };

    private const string Tools = """{"jsonrpc":"2.0","id":1,"method":"tools/list"}""";

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Mcp_Outcome_MapsToExactStatusAndChallenge(Row row)
    {
        await using var host = await HostHarness.StartAsync(row.Args);
        row.Setup?.Invoke(host);
        var token = row.Token();

        using var response = await host.Client.SendAsync(HostHarness.Mcp(token, row.Body));

        response.StatusCode.Should().Be(row.Status, row.Name);
        if (row.WwwAuthenticate is null)
        {
            response.Headers.WwwAuthenticate.Should().BeEmpty();
            response.Headers.GetValues("Retry-After").Should().Equal("5");
        }
        else
        {
            response.Headers.GetValues("WWW-Authenticate").Should().Equal(row.WwwAuthenticate);
        }

        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        var body = await response.Content.ReadAsStringAsync();
        var json = JsonDocument.Parse(body).RootElement;
        json.GetProperty("error").GetString().Should().Be(row.Error);
        json.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(["error", "error_description"]);
        if (token is not null)
        {
            body.Should().NotContain(token.Split('.').OrderByDescending(p => p.Length).First(), "the token is never echoed");
        }

        body.Should().NotContain("   at ", "no stack trace");
    }

    [Fact]
    public void Sanitize_RemovesQuotesBackslashesControlAndNonAscii()
    {
        ChallengeMapper.Sanitize("a\"b\\c\r\nd\u00e9").Should().Be("a'b'c''d'");
        ChallengeMapper.Sanitize(new string('x', 500)).Should().HaveLength(200);
    }
}
