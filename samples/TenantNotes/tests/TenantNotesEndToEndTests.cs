using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using TenantNotes.Adapters.Mcp;
using TenantNotes.Application;
using TenantNotes.Domain;

namespace TenantNotes.Tests;

/// <summary>The sample end to end: real issuer, Kestrel, the official MCP client.</summary>
public sealed class TenantNotesEndToEndTests(TenantNotesFixture sample) : IClassFixture<TenantNotesFixture>
{
    private const string TenantCheckSpan = "McpAuth.TenantCheck";

    [Fact]
    public async Task KnownTenant_ListsAndCallsTools_AndSeesOnlyItsOwnTenantsNotes()
    {
        var acmeText = $"acme: plan {Guid.NewGuid():N}";
        var globexText = $"globex: launch {Guid.NewGuid():N}";
        await using var acme = await sample.ConnectAsync(await sample.TokenAsync("acme-notes"));
        await using var globex = await sample.ConnectAsync(await sample.TokenAsync("globex-notes"));

        (await acme.ListToolsAsync()).Select(t => t.Name).Should().BeEquivalentTo([NoteTools.ListNotes, NoteTools.AddNote]);
        var added = Json(await acme.CallToolAsync(NoteTools.AddNote, new Dictionary<string, object?> { ["text"] = acmeText }));
        added.GetProperty("tenant").GetString().Should().Be("acme");
        added.GetProperty("note").GetProperty("author").GetString().Should().Be("Acme notes app", "the author is the account the directory returned");
        Json(await globex.CallToolAsync(NoteTools.AddNote, new Dictionary<string, object?> { ["text"] = globexText }))
            .GetProperty("tenant").GetString().Should().Be("globex");

        var acmeList = Json(await acme.CallToolAsync(NoteTools.ListNotes));
        acmeList.GetProperty("tenant").GetString().Should().Be("acme");
        var acmeNotes = Texts(acmeList);
        acmeNotes.Should().Contain(acmeText).And.NotContain(globexText);
        acmeNotes.Should().OnlyContain(t => !t.StartsWith("globex", StringComparison.Ordinal));

        var globexNotes = Texts(Json(await globex.CallToolAsync(NoteTools.ListNotes)));
        globexNotes.Should().Contain(globexText).And.NotContain(acmeText);
        globexNotes.Should().OnlyContain(t => !t.StartsWith("acme", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnknownTenant_IsRefused401_AndNoToolRuns()
    {
        var token = await sample.TokenAsync("initech-notes"); // a valid token of the issuer, for a tenant the service does not serve
        using var http = new HttpClient();

        using var response = await http.SendAsync(sample.ToolCall(token, NoteTools.AddNote, new Dictionary<string, string> { ["text"] = "initech was here" }));

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized, await response.Content.ReadAsStringAsync());
        response.Headers.WwwAuthenticate.ToString().Should().Contain("error=\"invalid_token\"")
            .And.Contain("error_description=\"The token's tenant is not one this service serves.\"");
        var store = sample.App.Services.GetRequiredService<INoteStore>();
        (await store.ListAsync(TenantId.Parse("initech"), CancellationToken.None)).Should().BeEmpty("the tool never ran");

        var connect = async () => await (await sample.ConnectAsync(token)).DisposeAsync();
        (await connect.Should().ThrowAsync<HttpRequestException>()).Which.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task TenantCheck_IsASpanJustAfterTheIssuerStage_PassedForAKnownTenant_InvalidTokenForAnUnknownOne()
    {
        using var http = new HttpClient();
        sample.ClearSpans();
        using (var ok = await http.SendAsync(sample.ToolCall(await sample.TokenAsync("globex-notes"), NoteTools.ListNotes)))
        {
            ok.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        var stages = sample.Spans.Select(s => s.OperationName).ToList();
        stages.Should().ContainInOrder("McpAuth.OidcProviderValidation", TenantCheckSpan, "McpAuth.TokenReview", "McpAuth.RequiredScopes");
        stages.IndexOf(TenantCheckSpan).Should().Be(stages.IndexOf("McpAuth.OidcProviderValidation") + 1, "the stage is inserted just after the issuer stage");
        Outcome(sample.Spans.Single(s => s.OperationName == TenantCheckSpan)).Should().Be("passed");

        sample.ClearSpans();
        using (var refused = await http.SendAsync(sample.ToolCall(await sample.TokenAsync("initech-notes"), NoteTools.ListNotes)))
        {
            refused.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        }

        Outcome(sample.Spans.Single(s => s.OperationName == TenantCheckSpan)).Should().Be("InvalidToken");
        sample.Spans.Select(s => s.OperationName).Should().NotContain("McpAuth.TokenReview", "the pipeline stops at the refusing stage");
    }

    [Fact]
    public async Task AccountNotInTheDirectory_IsRefused401_ByTheSamplesOwnTokenReviewAdapter()
    {
        var token = await sample.TokenAsync("stranger"); // tenant acme (served), but no account in the directory
        using var http = new HttpClient();
        sample.ClearSpans();

        using var response = await http.SendAsync(sample.ToolCall(token, NoteTools.ListNotes));

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Contain("error=\"invalid_token\"");
        Outcome(sample.Spans.Single(s => s.OperationName == TenantCheckSpan)).Should().Be("passed");
        Outcome(sample.Spans.Single(s => s.OperationName == "McpAuth.TokenReview")).Should().Be("InvalidToken");
    }

    [Fact]
    public async Task ReadScopeOnly_CanListNotes_ButAddingOneNeedsNotesWrite()
    {
        var token = await sample.TokenAsync("acme-notes", scope: "notes:read");
        await using var client = await sample.ConnectAsync(token);
        Json(await client.CallToolAsync(NoteTools.ListNotes)).GetProperty("tenant").GetString().Should().Be("acme");

        using var http = new HttpClient();
        using var response = await http.SendAsync(sample.ToolCall(token, NoteTools.AddNote, new Dictionary<string, string> { ["text"] = "read-only" }));
        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        response.Headers.WwwAuthenticate.ToString().Should().Contain("error=\"insufficient_scope\"").And.Contain("scope=\"notes:read notes:write\"");
    }

    [Fact]
    public async Task NoToken_Is401PointingToTheMetadata_AndTheServiceIsReady()
    {
        using var http = new HttpClient();
        using var response = await http.SendAsync(sample.ToolCall(null, NoteTools.ListNotes));
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Contain($"resource_metadata=\"{sample.BaseUrl}/.well-known/oauth-protected-resource/mcp\"");

        var metadata = JsonDocument.Parse(await http.GetStringAsync(sample.BaseUrl + "/.well-known/oauth-protected-resource/mcp")).RootElement;
        metadata.GetProperty("resource").GetString().Should().Be(sample.Resource);
        metadata.GetProperty("authorization_servers")[0].GetString().Should().Be(sample.Issuer.Issuer);
        metadata.GetProperty("resource_name").GetString().Should().Be("TenantNotes", "appsettings.json sets McpAuth:Realm");
        (await http.GetAsync(sample.BaseUrl + "/readyz")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    private static JsonElement Json(CallToolResult result)
    {
        result.IsError.Should().NotBe(true, string.Join(" ", result.Content.OfType<TextContentBlock>().Select(c => c.Text)));
        return JsonDocument.Parse(((TextContentBlock)result.Content[0]).Text).RootElement.Clone();
    }

    private static List<string> Texts(JsonElement list) =>
        list.GetProperty("notes").EnumerateArray().Select(n => n.GetProperty("text").GetString()!).ToList();

    private static string? Outcome(Activity span) => span.GetTagItem("mcpauth.outcome") as string;
}
