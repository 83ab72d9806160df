using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using McpAuth.Host;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;

namespace McpAuth.Redis.Tests;

/// <summary>
/// One oidc-provider (issuer and RFC 8693 STS) for a test class. Each test uses its own tokens and counts the exchanges
/// of those tokens only, so the tests of a class may share it.
/// </summary>
public sealed class IssuerFixture : IAsyncLifetime
{
    public OidcProviderProcess Idp { get; private set; } = null!;

    public async Task InitializeAsync() => Idp = await OidcProviderProcess.StartAsync();

    public async Task DisposeAsync() => await Idp.DisposeAsync();

    /// <summary>Exchanges the STS made for <paramref name="subjectToken"/>.</summary>
    public async Task<int> ExchangesOfAsync(string subjectToken) =>
        (await Idp.StatsAsync()).Exchanges.Count(e => e.SubjectToken == subjectToken);
}

/// <summary>The answer of one tools/call whoami.</summary>
public sealed record WhoAmI(HttpStatusCode Status, JsonElement? Result, string Body, TimeSpan Elapsed)
{
    public bool Exchanged => Result?.GetProperty("exchanged").GetBoolean() == true;

    public string? ClusterUser => Result?.GetProperty("cluster") is { ValueKind: JsonValueKind.Object } c && c.TryGetProperty("username", out var u) ? u.GetString() : null;
}

/// <summary>
/// Replicas of the reference host (McpAuthHost.Build, on Kestrel, each on its own port, all with the same --server-url so
/// the audience matches), one fake API server, and a shared store when given one.
/// </summary>
public sealed class Replicas : IAsyncDisposable
{
    public const string StsAudience = "k8s-api";
    public const string StsScopes = "k8s";

    private readonly List<WebApplication> _apps = [];
    private readonly List<int> _ports = [];
    private readonly string _kubeconfig;
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { Timeout = TimeSpan.FromSeconds(30) };

    private Replicas(IssuerFixture issuer, FakeKubeApiServer apiServer, string kubeconfig, string serverUrl)
    {
        Issuer = issuer;
        ApiServer = apiServer;
        _kubeconfig = kubeconfig;
        ServerUrl = serverUrl;
    }

    public IssuerFixture Issuer { get; }

    public FakeKubeApiServer ApiServer { get; }

    /// <summary>The one public URL every replica has (the audience is ServerUrl + /mcp).</summary>
    public string ServerUrl { get; }

    public string Resource => ServerUrl + "/mcp";

    public IServiceProvider this[int replica] => _apps[replica].Services;

    public int Count => _apps.Count;

    /// <summary>Warnings and errors every replica logged.</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    public static async Task<Replicas> StartAsync(IssuerFixture issuer)
    {
        var apiServer = await FakeKubeApiServer.StartAsync("alpha");
        // The cluster authenticates tokens meant for it (audience k8s-api): exchanged tokens, never the client's own.
        apiServer.Authenticator = token => AudienceOf(token) == StsAudience ? "alice@alpha" : null;
        var kubeconfig = FakeKubeApiServer.WriteKubeconfig(Path.Combine(Path.GetTempPath(), $"mcpauth-redis-{Guid.NewGuid():N}"), apiServer);
        var first = Repo.FreePort();
        var replicas = new Replicas(issuer, apiServer, kubeconfig, $"http://127.0.0.1:{first}");
        replicas._ports.Add(first);
        return replicas;
    }

    /// <summary>
    /// Starts one more replica. <paramref name="store"/> and <paramref name="sharedKey"/> are McpAuth:SharedCache and
    /// McpAuth:SharedCacheKey (null: unset); <paramref name="settings"/> are more McpAuth:* settings, as the
    /// environment would give them.
    /// </summary>
    public async Task<int> AddAsync(string? store, string? sharedKey, IDictionary<string, string?>? settings = null)
    {
        var index = _apps.Count;
        var port = index < _ports.Count ? _ports[index] : Repo.FreePort();
        if (index >= _ports.Count)
        {
            _ports.Add(port);
        }

        var result = McpAuthHost.Build(Arguments(port, store), b =>
        {
            var extra = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>());
            if (sharedKey is not null)
            {
                extra["McpAuth:SharedCacheKey"] = sharedKey;
            }

            b.Configuration.AddInMemoryCollection(extra);
            b.Logging.ClearProviders();
            b.Logging.AddProvider(new QueueLoggerProvider(Log, $"replica {index}"));
        });
        result.App.Should().NotBeNull(result.Message);
        await result.App!.StartAsync();
        _apps.Add(result.App);
        return index;
    }

    public string[] Arguments(int port, string? store)
    {
        var args = new List<string>
        {
            "--port", port.ToString(CultureInfo.InvariantCulture), "--require-oauth",
            "--authorization-url", Issuer.Idp.Issuer, "--server-url", ServerUrl, "--validate-token", "--kubeconfig", _kubeconfig,
            "--sts-client-id", OidcProviderProcess.ClientId, "--sts-client-secret", OidcProviderProcess.ClientSecret,
            "--sts-audience", StsAudience, "--sts-scopes", StsScopes,
        };
        if (store is not null)
        {
            args.AddRange(["--shared-cache", store]);
        }

        return [.. args];
    }

    /// <summary>A new client token for this server (a new subject token: nothing about it is cached anywhere).</summary>
    public Task<string> NewTokenAsync() => Issuer.Idp.IssueTokenAsync(Resource, "read");

    /// <summary>TokenReviews the API server received (one API server per <see cref="Replicas"/>, so per test).</summary>
    public int Reviews => ApiServer.TokenReviews.Count;

    /// <summary>tools/call whoami through <paramref name="replica"/> (raw JSON-RPC, stateless server).</summary>
    public async Task<WhoAmI> WhoAmIAsync(int replica, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{_ports[replica]}/mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        var watch = Stopwatch.StartNew();
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        watch.Stop();
        JsonElement? result = null;
        if (response.IsSuccessStatusCode)
        {
            var json = body.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("data:", StringComparison.Ordinal)) is { } data
                ? data["data:".Length..]
                : body;
            var text = JsonDocument.Parse(json).RootElement.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString()!;
            result = JsonDocument.Parse(text).RootElement.Clone();
        }

        return new WhoAmI(response.StatusCode, result, body, watch.Elapsed);
    }

    /// <summary>GET /readyz of <paramref name="replica"/>: status code and body.</summary>
    public async Task<(HttpStatusCode Status, string Body)> ReadyzAsync(int replica)
    {
        using var response = await _http.GetAsync($"http://127.0.0.1:{_ports[replica]}/readyz");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Waits until /readyz of <paramref name="replica"/> says <paramref name="status"/>; returns how long it took.</summary>
    public async Task<TimeSpan> WaitReadyzAsync(int replica, string status, TimeSpan within)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if ((await ReadyzAsync(replica)).Body == status)
            {
                return watch.Elapsed;
            }

            if (watch.Elapsed > within)
            {
                throw new TimeoutException($"/readyz of replica {replica} did not say {status} within {within}: {(await ReadyzAsync(replica)).Body}");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        _http.Dispose();
        await ApiServer.DisposeAsync();
        File.Delete(_kubeconfig);
    }

    public static string NewSecret(int bytes = 32) => Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(bytes));

    public static string? AudienceOf(string token)
    {
        try
        {
            return new JsonWebToken(token).Audiences.FirstOrDefault();
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private sealed class QueueLoggerProvider(ConcurrentQueue<string> lines, string replica) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new QueueLogger(lines, replica, categoryName);

        public void Dispose()
        {
        }

        private sealed class QueueLogger(ConcurrentQueue<string> lines, string replica, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    lines.Enqueue($"{replica} {logLevel} {category}[{eventId.Id}] {formatter(state, exception)} {exception?.GetType().Name}");
                }
            }
        }
    }
}
