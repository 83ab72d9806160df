using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using McpAuth.TestPeers;
using Xunit.Abstractions;

namespace McpAuth.Packaging.Tests;

/// <summary>
/// The packed packages as a consumer gets them: a fresh app outside the repository whose Program.cs is the README's
/// embedding snippet, built from the packed feed, run as `dotnet &lt;dll&gt;` against the real oidc-provider, and asked
/// over real HTTP.
/// </summary>
[Collection(PackedCollection.Name)]
public sealed class ConsumerAppTests(ConsumerApp consumer, ITestOutputHelper output) : IClassFixture<ConsumerApp>
{
    private const string Admin = "read write mcp:admin";

    [Fact]
    public void Build_ReadmeSnippetCompiles_AndMcpAuthComesFromThePackedFeed_WithoutKubernetes()
    {
        output.WriteLine($"pack: {consumer.Feed.PackDuration.TotalSeconds:0.0} s; consumer restore+build: {consumer.BuildDuration.TotalSeconds:0.0} s");
        consumer.Build.ExitCode.Should().Be(0, $"the README's embedding snippet must build as written. Program.cs:\n{consumer.ProgramSource}\n{consumer.Build.Describe()}");
        File.Exists(consumer.Dll).Should().BeTrue();
        File.ReadAllText(Path.Combine(consumer.Directory, ConsumerApp.AssemblyName + ".csproj")).Should().NotContain("ProjectReference");

        using var assets = JsonDocument.Parse(File.ReadAllText(Path.Combine(consumer.Directory, "obj", "project.assets.json")));
        var libraries = assets.RootElement.GetProperty("libraries");
        foreach (var id in new[] { "McpAuth.AspNetCore", "McpAuth.OpenIdConnect", "McpAuth.Core" })
        {
            libraries.TryGetProperty($"{id}/{consumer.Feed.Version}", out var library).Should().BeTrue($"{id} {consumer.Feed.Version} is restored");
            library.GetProperty("type").GetString().Should().Be("package");
            library.GetProperty("sha512").GetString().Should().Be(Sha512(consumer.Feed.Nupkg(id)), $"{id} is the package just packed, not an older copy");
        }

        var names = libraries.EnumerateObject().Select(l => l.Name.Split('/')[0]).ToList();
        names.Should().NotContain(["McpAuth.Kubernetes", "KubernetesClient"], "a service without Kubernetes does not get KubernetesClient (README, Packages)");
        names.Should().NotContain(["McpAuth.Redis", "StackExchange.Redis"], "a service without replicas does not get a Redis client (README, Packages)");
        assets.RootElement.GetProperty("packageFolders").EnumerateObject().Select(f => Path.TrimEndingDirectorySeparator(f.Name))
            .Should().Equal(Path.TrimEndingDirectorySeparator(consumer.Feed.GlobalPackages));
    }

    [Fact]
    public async Task ToolCall_DeleteNamespaceWithoutAdminScope_Is403InsufficientScope_AndTheToolDoesNotRun()
    {
        await using var run = await RunAsync();
        var token = await run.Idp.IssueTokenAsync(run.Resource, "read write");

        using var response = await run.Http.SendAsync(Mcp(run, token, ToolCall("delete-namespace", "no-admin")));

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden, await response.Content.ReadAsStringAsync());
        var challenge = response.Headers.WwwAuthenticate.ToString();
        challenge.Should().Contain("error=\"insufficient_scope\"").And.Contain("scope=\"mcp:admin\"")
            .And.Contain($"resource_metadata=\"{run.App.BaseUrl}/.well-known/oauth-protected-resource/mcp\"");
        run.ToolCalls().Should().BeEmpty("the step-up check runs before the tool");
        run.App.Output.Should().NotContain("TOOL-RAN");

        using var other = await run.Http.SendAsync(Mcp(run, token, ToolCall("list-namespaces")));
        other.StatusCode.Should().Be(HttpStatusCode.OK, "the same token calls a tool without step-up scopes, so the 403 was the step-up's");
        run.ToolCalls().Should().Equal("list-namespaces");
    }

    [Fact]
    public async Task ToolCall_DeleteNamespaceWithAdminScope_Is200_AndTheToolRuns()
    {
        await using var run = await RunAsync();
        var token = await run.Idp.IssueTokenAsync(run.Resource, Admin);

        using var response = await run.Http.SendAsync(Mcp(run, token, ToolCall("delete-namespace", "team-a")));

        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, body);
        var result = JsonRpcResult(body);
        if (result.TryGetProperty("isError", out var isError))
        {
            isError.ValueKind.Should().NotBe(JsonValueKind.True, body);
        }

        result.GetProperty("content")[0].GetProperty("text").GetString().Should().Be("deleted team-a");
        run.ToolCalls().Should().Equal("delete-namespace team-a");
        run.App.Output.Should().Contain("TOOL-RAN delete-namespace team-a");
    }

    [Fact]
    public async Task ForeignOrigin_Is403ForbiddenOrigin_EvenWithAValidToken_AndTheToolDoesNotRun()
    {
        await using var run = await RunAsync();
        var token = await run.Idp.IssueTokenAsync(run.Resource, Admin);

        using var response = await run.Http.SendAsync(Mcp(run, token, ToolCall("list-namespaces"), origin: "https://evil.example"));

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString().Should().Be("forbidden_origin");
        run.ToolCalls().Should().BeEmpty();

        using var sameCall = await run.Http.SendAsync(Mcp(run, token, ToolCall("list-namespaces")));
        sameCall.StatusCode.Should().Be(HttpStatusCode.OK, "the same call without the foreign Origin is allowed, so the 403 was the Origin's");
        run.ToolCalls().Should().Equal("list-namespaces");
    }

    [Fact]
    public async Task NoToken_Is401_AndItsResourceMetadataUrlServesTheRfc9728Document()
    {
        await using var run = await RunAsync();

        using var response = await run.Http.SendAsync(Mcp(run, token: null, ToolCall("list-namespaces")));

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        challenge.Should().StartWith("Bearer ").And.NotContain("error=");
        var metadataUrl = Regex.Match(challenge, "resource_metadata=\"(?<url>[^\"]+)\"").Groups["url"].Value;
        metadataUrl.Should().Be(run.App.BaseUrl + "/.well-known/oauth-protected-resource/mcp");

        using var metadataResponse = await run.Http.GetAsync(metadataUrl);
        metadataResponse.StatusCode.Should().Be(HttpStatusCode.OK);
        metadataResponse.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        var metadata = JsonDocument.Parse(await metadataResponse.Content.ReadAsStringAsync()).RootElement;
        metadata.GetProperty("resource").GetString().Should().Be(run.Resource);
        metadata.GetProperty("authorization_servers").EnumerateArray().Select(e => e.GetString()).Should().Equal(run.Idp.Issuer);
        metadata.GetProperty("bearer_methods_supported").EnumerateArray().Select(e => e.GetString()).Should().Equal("header");
        run.ToolCalls().Should().BeEmpty();
    }

    [Fact]
    public async Task Readyz_UnhealthyOnceTheKeysAreStaleAndTheIssuerIsGone()
    {
        var maxAge = TimeSpan.FromSeconds(3);
        await using var run = await RunAsync(new Dictionary<string, string> { ["McpAuth__MetadataMaxAge"] = maxAge.ToString("c") });
        (await PollReadyzAsync(run, HttpStatusCode.OK, TimeSpan.FromSeconds(15))).Should().Be(HttpStatusCode.OK, "the issuer is up: " + run.App.Output);

        await run.Idp.DisposeAsync();
        var clock = Stopwatch.StartNew();
        var status = await PollReadyzAsync(run, HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(30));
        output.WriteLine($"/readyz turned {status} {clock.Elapsed.TotalSeconds:0.0} s after the issuer stopped (MetadataMaxAge {maxAge.TotalSeconds} s)");
        status.Should().Be(HttpStatusCode.ServiceUnavailable, run.App.Output);
        using var unhealthy = await run.Http.GetAsync(run.App.BaseUrl + "/readyz");
        unhealthy.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "it stays unhealthy while the issuer is gone");
        (await unhealthy.Content.ReadAsStringAsync()).Should().Be("Unhealthy");
        using var live = await run.Http.GetAsync(run.App.BaseUrl + "/healthz");
        live.StatusCode.Should().Be(HttpStatusCode.OK, "liveness is the process, not the issuer");
    }

    [Fact]
    public async Task Readyz_StaysHealthyPastTheKeysMaxAge_WhileTheIssuerIsUp()
    {
        // README, Health: /readyz is unhealthy while the issuer's keys are past their max age "and cannot be refreshed".
        // With the issuer up they can be, so readiness must not drop when the keys pass their max age.
        var maxAge = TimeSpan.FromSeconds(2);
        await using var run = await RunAsync(new Dictionary<string, string> { ["McpAuth__MetadataMaxAge"] = maxAge.ToString("c") });
        (await PollReadyzAsync(run, HttpStatusCode.OK, TimeSpan.FromSeconds(15))).Should().Be(HttpStatusCode.OK, "the issuer is up: " + run.App.Output);

        var answers = new List<string>();
        var until = DateTime.UtcNow + (3 * maxAge);
        while (DateTime.UtcNow < until)
        {
            using var ready = await run.Http.GetAsync(run.App.BaseUrl + "/readyz");
            answers.Add($"{(int)ready.StatusCode} {await ready.Content.ReadAsStringAsync()}");
            await Task.Delay(200);
        }

        answers.Should().OnlyContain(a => a == "200 Healthy",
            $"the issuer is up for all {3 * maxAge.TotalSeconds} s, so keys past MetadataMaxAge ({maxAge.TotalSeconds} s) can be refreshed; answers in order: {string.Join(", ", answers)}");
    }

    private async Task<Run> RunAsync(IDictionary<string, string>? settings = null)
    {
        consumer.Build.ExitCode.Should().Be(0, consumer.Build.Describe());
        var idp = await OidcProviderProcess.StartAsync();
        var toolLog = Path.Combine(consumer.Directory, $"tools-{Guid.NewGuid():N}.log");
        try
        {
            var clock = Stopwatch.StartNew();
            var app = await consumer.StartAsync(idp.Issuer, toolLog, settings);
            output.WriteLine($"app live in {clock.Elapsed.TotalSeconds:0.0} s at {app.BaseUrl}");
            return new Run(idp, app, toolLog);
        }
        catch
        {
            await idp.DisposeAsync();
            throw;
        }
    }

    private static async Task<HttpStatusCode> PollReadyzAsync(Run run, HttpStatusCode wanted, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        HttpStatusCode last;
        do
        {
            using var response = await run.Http.GetAsync(run.App.BaseUrl + "/readyz");
            last = response.StatusCode;
            if (last == wanted)
            {
                break;
            }

            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);

        return last;
    }

    private static HttpRequestMessage Mcp(Run run, string? token, string body, string? origin = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, run.App.BaseUrl + "/mcp")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        if (origin is not null)
        {
            request.Headers.TryAddWithoutValidation("Origin", origin);
        }

        return request;
    }

    private static string ToolCall(string tool, string? name = null) =>
        JsonSerializer.Serialize(new
        {
            jsonrpc = "2.0", id = 1, method = "tools/call",
            @params = new { name = tool, arguments = name is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["name"] = name } },
        });

    // The response of a stateless POST is one JSON-RPC message, as JSON or as one SSE "message" event.
    private static JsonElement JsonRpcResult(string body)
    {
        var json = body.TrimStart().StartsWith('{')
            ? body
            : string.Concat(body.ReplaceLineEndings("\n").Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l["data:".Length..]));
        var message = JsonDocument.Parse(json).RootElement;
        message.TryGetProperty("error", out var error).Should().BeFalse($"JSON-RPC error: {error}");
        return message.GetProperty("result").Clone();
    }

    private static string Sha512(string file) => Convert.ToBase64String(SHA512.HashData(File.ReadAllBytes(file)));

    private sealed class Run(OidcProviderProcess idp, AppProcess app, string toolLog) : IAsyncDisposable
    {
        public OidcProviderProcess Idp { get; } = idp;

        public AppProcess App { get; } = app;

        public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(20) };

        public string Resource => App.BaseUrl + "/mcp";

        public IReadOnlyList<string> ToolCalls() =>
            File.Exists(toolLog) ? File.ReadAllLines(toolLog).Where(l => l.Length > 0).ToList() : [];

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await App.DisposeAsync();
            await Idp.DisposeAsync();
        }
    }
}
