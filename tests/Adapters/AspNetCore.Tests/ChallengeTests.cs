using System.Net;
using System.Text.Json;
using McpAuth.Ports;

namespace McpAuth.AspNetCore.Tests;

/// <summary>Every outcome of the pipeline, as an embedded app answers it: exact status, WWW-Authenticate and JSON body.</summary>
public sealed class ChallengeTests
{
    private const string Metadata = EmbeddedApp.Metadata;

    public sealed record Row(
        string Name, Action<McpAuthOptions>? Pipeline, Action<McpAuthBearerOptions>? Http, Func<string?> Token, string Body,
        Action<EmbeddedApp>? Setup, HttpStatusCode Status, string? WwwAuthenticate, string Error)
    {
        public override string ToString() => Name;
    }

    private const string Tools = EmbeddedApp.ToolsList;

    public static TheoryData<Row> Rows => new()
    {
        new Row("NoCredentials", null, null, () => null, Tools, null, HttpStatusCode.Unauthorized,
            $"Bearer realm=\"mcp\", audience=\"{EmbeddedApp.Resource}\", resource_metadata=\"{Metadata}\"", "unauthorized"),
        new Row("NoCredentialsWithAudienceAndScopes", o => { o.Audience = "mcp-server"; o.RequiredScopes = ["read", "write"]; }, null, () => null, Tools, null, HttpStatusCode.Unauthorized,
            $"Bearer realm=\"mcp\", audience=\"mcp-server\", resource_metadata=\"{Metadata}\", scope=\"read write\"", "unauthorized"),
        new Row("CustomRealmIsSanitized", null, s => s.Realm = "My \"MCP\"\\", () => null, Tools, null, HttpStatusCode.Unauthorized,
            $"Bearer realm=\"My 'MCP''\", audience=\"{EmbeddedApp.Resource}\", resource_metadata=\"{Metadata}\"", "unauthorized"),
        new Row("OtherScheme", null, null, () => null, Tools, null, HttpStatusCode.Unauthorized,
            $"Bearer realm=\"mcp\", audience=\"{EmbeddedApp.Resource}\", resource_metadata=\"{Metadata}\"", "unauthorized"),
        new Row("Malformed", null, null, () => "not-a-jwt", Tools, null, HttpStatusCode.Unauthorized,
            $"Bearer realm=\"mcp\", audience=\"{EmbeddedApp.Resource}\", resource_metadata=\"{Metadata}\", error=\"invalid_token\", error_description=\"The bearer token is not a JWT (it must have exactly three dot-separated parts).\"", "invalid_token"),
        new Row("Expired", null, null, () => EmbeddedApp.Token(expiresIn: -600), Tools, null, HttpStatusCode.Unauthorized,
            $"Bearer realm=\"mcp\", audience=\"{EmbeddedApp.Resource}\", resource_metadata=\"{Metadata}\", error=\"invalid_token\", error_description=\"The token has expired.\"", "invalid_token"),
        new Row("WrongAudience", null, null, () => EmbeddedApp.Token(audience: "https://other.example.com/mcp"), Tools, null, HttpStatusCode.Unauthorized,
            $"Bearer realm=\"mcp\", audience=\"{EmbeddedApp.Resource}\", resource_metadata=\"{Metadata}\", error=\"invalid_token\", error_description=\"The token's audience does not match this server.\"", "invalid_token"),
        new Row("IssuerRejects", null, null, () => EmbeddedApp.Token(), Tools, a => a.Oidc.Result = OidcValidationResult.Invalid("The token's signature is invalid."), HttpStatusCode.Unauthorized,
            $"Bearer realm=\"mcp\", audience=\"{EmbeddedApp.Resource}\", resource_metadata=\"{Metadata}\", error=\"invalid_token\", error_description=\"The token's signature is invalid.\"", "invalid_token"),
        new Row("InsufficientScope", o => o.RequiredScopes = ["admin"], null, () => EmbeddedApp.Token(), Tools, null, HttpStatusCode.Forbidden,
            $"Bearer realm=\"mcp\", audience=\"{EmbeddedApp.Resource}\", resource_metadata=\"{Metadata}\", scope=\"admin\", error=\"insufficient_scope\", error_description=\"The token lacks a required scope.\"", "insufficient_scope"),
        new Row("StepUpForTool", o => { o.RequiredScopes = ["read"]; o.ToolScopes["admin-action"] = ["mcp:admin"]; }, null, () => EmbeddedApp.Token(), EmbeddedApp.ToolCall("admin-action"), null, HttpStatusCode.Forbidden,
            $"Bearer realm=\"mcp\", audience=\"{EmbeddedApp.Resource}\", resource_metadata=\"{Metadata}\", scope=\"read mcp:admin\", error=\"insufficient_scope\", error_description=\"The tool 'admin-action' needs more scopes than the token carries.\"", "insufficient_scope"),
        new Row("UnknownContext", o => o.ValidateToken = true, null, () => EmbeddedApp.Token(), EmbeddedApp.ToolCall("whoami", "unknown"), null, HttpStatusCode.BadRequest,
            $"Bearer realm=\"mcp\", audience=\"{EmbeddedApp.Resource}\", resource_metadata=\"{Metadata}\", error=\"invalid_request\", error_description=\"Unknown cluster context 'unknown'.\"", "invalid_request"),
        new Row("IssuerUnavailable", null, null, () => EmbeddedApp.Token(), Tools, a => a.Oidc.Result = OidcValidationResult.Unavailable("down"), HttpStatusCode.ServiceUnavailable,
            null, "temporarily_unavailable"),
        new Row("StsUnavailable", o => { o.StsClientId = "c"; o.StsAudience = "k8s"; }, null, () => EmbeddedApp.Token(), Tools, a => a.Exchange.Result = TokenExchangeResult.Unavailable("500"), HttpStatusCode.ServiceUnavailable,
            null, "temporarily_unavailable"),
        new Row("ApiServerUnavailable", o => o.ValidateToken = true, null, () => EmbeddedApp.Token(), Tools, a => a.Review.Answer = _ => TokenReviewResult.Unavailable("500"), HttpStatusCode.ServiceUnavailable,
            null, "temporarily_unavailable"),
        new Row("ResourceMetadataUrlOverride", null, s => s.ResourceMetadataUrl = "https://meta.example.com/prm", () => null, Tools, null, HttpStatusCode.Unauthorized,
            $"Bearer realm=\"mcp\", audience=\"{EmbeddedApp.Resource}\", resource_metadata=\"https://meta.example.com/prm\"", "unauthorized"),
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Outcome_MapsToExactStatusAndChallenge(Row row)
    {
        await using var app = await EmbeddedApp.StartAsync(row.Pipeline, row.Http);
        row.Setup?.Invoke(app);
        var token = row.Token();
        var request = EmbeddedApp.Mcp(token, row.Body);
        if (row.Name == "OtherScheme")
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Basic YTpi");
        }

        using var response = await app.Client.SendAsync(request);

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

        response.Headers.CacheControl!.NoStore.Should().BeTrue();
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
        app.Runs.All.Should().BeEmpty("a refused request never reaches a tool");
    }

    [Fact]
    public void Sanitize_RemovesQuotesBackslashesControlAndNonAscii()
    {
        ChallengeMapper.Sanitize("a\"b\\c\r\nd\u00e9").Should().Be("a'b'c''d'");
        ChallengeMapper.Sanitize(new string('x', 500)).Should().HaveLength(200);
    }
}
