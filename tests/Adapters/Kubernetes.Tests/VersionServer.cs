using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace McpAuth.Kubernetes.Tests;

/// <summary>
/// A tiny API server on 127.0.0.1 that answers only <c>GET /version</c> with kube-apiserver's JSON, and records every
/// request (path and Authorization). <see cref="TestPeers.FakeKubeApiServer"/> does not serve <c>/version</c>.
/// </summary>
internal sealed class VersionServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _stopped;

    private VersionServer(WebApplication app, string name)
    {
        _app = app;
        Name = name;
    }

    /// <summary>The kubeconfig context (and cluster/user prefix) that points at this server.</summary>
    public string Name { get; }

    public string Url { get; private set; } = "";

    /// <summary>The token the server itself presents (its service account), as written in the kubeconfig.</summary>
    public string ServerToken => "server-sa-token";

    public ConcurrentQueue<(string Path, string Authorization)> Requests { get; } = new();

    /// <summary>Requests to <c>/version</c> (with or without the trailing slash KubernetesClient sends).</summary>
    public int VersionRequests => Requests.Count(r => r.Path.TrimEnd('/') == "/version");

    public static async Task<VersionServer> StartAsync(string name)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new VersionServer(app, name);
        app.Use((context, next) =>
        {
            server.Requests.Enqueue((context.Request.Path.Value ?? "", context.Request.Headers.Authorization.ToString()));
            return next(context);
        });
        app.MapGet("/version", () => Results.Json(new
        {
            major = "1",
            minor = "31",
            gitVersion = "v1.31.0",
            gitCommit = "9edcffcde5595e8a5b1a35f88c421764e575afce",
            gitTreeState = "clean",
            buildDate = "2024-08-13T07:28:49Z",
            goVersion = "go1.22.5",
            compiler = "gc",
            platform = "linux/amd64",
        }));
        await app.StartAsync();
        server.Url = app.Urls.First().TrimEnd('/');
        return server;
    }

    /// <summary>Stops answering: the port refuses connections from now on.</summary>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _app.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>A kubeconfig with one context per (name, server URL), the first one current, the servers' own token for each.</summary>
    public static string WriteKubeconfig(string path, params (string Name, string Url)[] contexts)
    {
        var lines = new List<string> { "apiVersion: v1", "kind: Config", $"current-context: {contexts[0].Name}", "clusters:" };
        lines.AddRange(contexts.SelectMany(c => new[] { $"- name: {c.Name}-cluster", "  cluster:", $"    server: {c.Url}" }));
        lines.Add("contexts:");
        lines.AddRange(contexts.SelectMany(c => new[] { $"- name: {c.Name}", "  context:", $"    cluster: {c.Name}-cluster", $"    user: {c.Name}-user" }));
        lines.Add("users:");
        lines.AddRange(contexts.SelectMany(c => new[] { $"- name: {c.Name}-user", "  user:", "    token: server-sa-token" }));
        File.WriteAllLines(path, lines);
        return path;
    }
}
