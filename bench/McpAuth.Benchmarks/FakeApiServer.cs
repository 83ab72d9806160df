using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace McpAuth.Benchmarks;

/// <summary>
/// <c>fake-apiserver PORT [SERVER_TOKEN]</c>: a kube-apiserver stand-in on 127.0.0.1 for the TokenReview load scenario.
/// <c>POST /apis/authentication.k8s.io/v1/tokenreviews</c> answers real TokenReview JSON (authentication.k8s.io/v1) that
/// authenticates every token as <c>alice</c>, with <c>status.audiences</c> = the requested <c>spec.audiences</c> (or
/// <c>[]</c>); the caller must present <c>Bearer SERVER_TOKEN</c> (default <c>server-sa-token</c>), else 401 Status.
/// <c>GET /version/</c> answers kube-apiserver version JSON. <c>GET /_bench/reviews</c> answers how many TokenReviews
/// were served (plain text), so the load script can show that steady state is McpAuth's cache.
/// The JSON shapes follow tests/TestPeers/FakeKubeApiServer.cs (copied, not referenced).
/// </summary>
public static class FakeApiServer
{
    public const string DefaultServerToken = "server-sa-token";

    private static long _reviews;

    public static async Task<int> RunAsync(int port, string serverToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.MapPost("/apis/authentication.k8s.io/v1/tokenreviews", (Delegate)(async (HttpContext context) =>
        {
            Interlocked.Increment(ref _reviews);
            if (context.Request.Headers.Authorization != "Bearer " + serverToken)
            {
                return Results.Json(Status(401, "Unauthorized"), statusCode: 401);
            }

            var body = await JsonNode.ParseAsync(context.Request.Body);
            var spec = body?["spec"];
            if (spec is null)
            {
                return Results.Json(Status(400, "TokenReview has no spec"), statusCode: 400);
            }

            var audiences = spec["audiences"]?.AsArray().Select(a => a!.GetValue<string>()).ToArray() ?? [];
            return Results.Json(new JsonObject
            {
                ["kind"] = "TokenReview",
                ["apiVersion"] = "authentication.k8s.io/v1",
                ["metadata"] = new JsonObject { ["creationTimestamp"] = null },
                ["spec"] = spec.DeepClone(),
                ["status"] = new JsonObject
                {
                    ["authenticated"] = true,
                    ["user"] = new JsonObject
                    {
                        ["username"] = "alice",
                        ["uid"] = "uid-alice",
                        ["groups"] = new JsonArray("system:authenticated", "bench-users"),
                        ["extra"] = new JsonObject { ["cluster"] = new JsonArray("bench") },
                    },
                    ["audiences"] = new JsonArray(audiences.Select(a => (JsonNode)JsonValue.Create(a)!).ToArray()),
                },
            });
        }));
        app.MapGet("/version/{**rest}", () => Results.Json(new JsonObject
        {
            ["major"] = "1", ["minor"] = "31", ["gitVersion"] = "v1.31.0", ["gitCommit"] = "fake", ["gitTreeState"] = "clean",
            ["buildDate"] = "2026-01-01T00:00:00Z", ["goVersion"] = "go1.23", ["compiler"] = "gc", ["platform"] = "linux/amd64",
        }));
        app.MapGet("/_bench/reviews", () => Results.Text(Interlocked.Read(ref _reviews).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        await app.RunAsync();
        return 0;
    }

    private static JsonObject Status(int code, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["status"] = "Failure",
        ["message"] = message,
        ["code"] = code,
    };
}
