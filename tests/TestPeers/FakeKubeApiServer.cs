using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace McpAuth.TestPeers;

/// <summary>
/// An HTTP fake of a kube-apiserver on 127.0.0.1 that speaks the real TokenReview and SelfSubjectReview JSON
/// (authentication.k8s.io/v1). No kube-apiserver can be installed here.
/// </summary>
public sealed class FakeKubeApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeKubeApiServer(WebApplication app, string name)
    {
        _app = app;
        Name = name;
    }

    public string Name { get; }

    public string Url { get; private set; } = "";

    /// <summary>The token the server itself must present (its service account).</summary>
    public string ServerToken { get; set; } = "server-sa-token";

    /// <summary>Tokens this cluster authenticates, with the user it maps them to.</summary>
    public ConcurrentDictionary<string, string> Users { get; } = new(StringComparer.Ordinal);

    /// <summary>Decides who a token is (null: not authenticated). Default: <see cref="Users"/>.</summary>
    public Func<string, string?>? Authenticator { get; set; }

    private string? Authenticate(string token) =>
        Authenticator is { } authenticate ? authenticate(token) : Users.TryGetValue(token, out var user) ? user : null;

    /// <summary>When set, status.audiences is this instead of the intersection with spec.audiences.</summary>
    public string[]? AudiencesOverride { get; set; }

    /// <summary>When set, every request answers this status code.</summary>
    public int? FailWith { get; set; }

    public TimeSpan Delay { get; set; }

    public ConcurrentQueue<RecordedReview> TokenReviews { get; } = new();

    public ConcurrentQueue<RecordedReview> SelfSubjectReviews { get; } = new();

    /// <summary>The Authorization header of every GET /version.</summary>
    public ConcurrentQueue<string> VersionRequests { get; } = new();

    public static async Task<FakeKubeApiServer> StartAsync(string name)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new FakeKubeApiServer(app, name);
        app.MapPost("/apis/authentication.k8s.io/v1/tokenreviews", (Delegate)server.TokenReview);
        app.MapPost("/apis/authentication.k8s.io/v1/selfsubjectreviews", (Delegate)server.SelfSubjectReview);
        app.MapGet("/version/{**rest}", (Delegate)server.Version);
        await app.StartAsync();
        server.Url = app.Urls.First();
        return server;
    }

    private async Task<IResult> TokenReview(HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body);
        var spec = body!["spec"]!;
        var token = spec["token"]?.GetValue<string>() ?? "";
        var audiencesNode = spec["audiences"];
        var audiences = audiencesNode?.AsArray().Select(a => a!.GetValue<string>()).ToArray();
        TokenReviews.Enqueue(new RecordedReview(context.Request.Headers.Authorization.ToString(), token, audiences, body.ToJsonString()));
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay);
        }

        if (FailWith is { } code)
        {
            return Results.Json(Status(code, "injected failure"), statusCode: code);
        }

        if (context.Request.Headers.Authorization != "Bearer " + ServerToken)
        {
            return Results.Json(Status(401, "Unauthorized"), statusCode: 401);
        }

        var status = new JsonObject();
        if (Authenticate(token) is { } user)
        {
            status["authenticated"] = true;
            status["user"] = new JsonObject
            {
                ["username"] = user,
                ["uid"] = "uid-" + user,
                ["groups"] = new JsonArray("system:authenticated", Name + "-users"),
                ["extra"] = new JsonObject { ["cluster"] = new JsonArray(Name) },
            };
            var returned = AudiencesOverride ?? audiences ?? [];
            status["audiences"] = new JsonArray(returned.Select(a => (JsonNode)JsonValue.Create(a)!).ToArray());
        }
        else
        {
            status["authenticated"] = false;
            status["error"] = "invalid bearer token";
        }

        return Results.Json(new JsonObject
        {
            ["kind"] = "TokenReview",
            ["apiVersion"] = "authentication.k8s.io/v1",
            ["metadata"] = new JsonObject { ["creationTimestamp"] = null },
            ["spec"] = body["spec"]!.DeepClone(),
            ["status"] = status,
        });
    }

    private async Task<IResult> SelfSubjectReview(HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body);
        var authorization = context.Request.Headers.Authorization.ToString();
        var token = authorization.StartsWith("Bearer ", StringComparison.Ordinal) ? authorization["Bearer ".Length..] : "";
        SelfSubjectReviews.Enqueue(new RecordedReview(authorization, token, null, body?.ToJsonString() ?? ""));
        if (Authenticate(token) is not { } user)
        {
            return Results.Json(Status(401, "Unauthorized"), statusCode: 401);
        }

        return Results.Json(new JsonObject
        {
            ["kind"] = "SelfSubjectReview",
            ["apiVersion"] = "authentication.k8s.io/v1",
            ["metadata"] = new JsonObject { ["creationTimestamp"] = null },
            ["status"] = new JsonObject
            {
                ["userInfo"] = new JsonObject
                {
                    ["username"] = user,
                    ["uid"] = "uid-" + user,
                    ["groups"] = new JsonArray("system:authenticated", Name + "-users"),
                },
            },
        });
    }

    private IResult Version(HttpContext context)
    {
        VersionRequests.Enqueue(context.Request.Headers.Authorization.ToString());
        if (FailWith is { } code)
        {
            return Results.Json(Status(code, "injected failure"), statusCode: code);
        }

        return Results.Json(new JsonObject
        {
            ["major"] = "1", ["minor"] = "31", ["gitVersion"] = "v1.31.0", ["gitCommit"] = "fake", ["gitTreeState"] = "clean",
            ["buildDate"] = "2026-01-01T00:00:00Z", ["goVersion"] = "go1.23", ["compiler"] = "gc", ["platform"] = "linux/amd64",
        });
    }

    private static JsonObject Status(int code, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["status"] = "Failure",
        ["message"] = message,
        ["code"] = code,
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>A kubeconfig with one context per server (context name = server name), the first one current.</summary>
    public static string WriteKubeconfig(string path, params FakeKubeApiServer[] servers)
    {
        var lines = new List<string> { "apiVersion: v1", "kind: Config", $"current-context: {servers[0].Name}", "clusters:" };
        lines.AddRange(servers.SelectMany(s => new[] { $"- name: {s.Name}-cluster", "  cluster:", $"    server: {s.Url}" }));
        lines.Add("contexts:");
        lines.AddRange(servers.SelectMany(s => new[] { $"- name: {s.Name}", "  context:", $"    cluster: {s.Name}-cluster", $"    user: {s.Name}-user" }));
        lines.Add("users:");
        lines.AddRange(servers.SelectMany(s => new[] { $"- name: {s.Name}-user", "  user:", $"    token: {s.ServerToken}" }));
        File.WriteAllLines(path, lines);
        return path;
    }
}

public sealed record RecordedReview(string Authorization, string Token, string[]? Audiences, string Body);
