using System.Diagnostics;
using System.Globalization;
using System.Net;
using McpAuth.OpenIdConnect;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace McpAuth.AspNetCore.Tests.FaultMatrix;

/// <summary>What one fault-matrix app is configured with (the rest comes from <see cref="MatrixSettings"/>).</summary>
public sealed record MatrixConfig
{
    /// <summary>The issuer URL (<c>McpAuth:AuthorizationUrl</c>).</summary>
    public required string Issuer { get; init; }

    /// <summary>RFC 8693 exchange on (<c>StsClientId</c>, <c>StsAudience</c>; the token endpoint is discovered).</summary>
    public bool Exchange { get; init; }

    /// <summary>RFC 7662 introspection of opaque tokens on (<c>IntrospectionClientId</c>, its secret; the endpoint is discovered).</summary>
    public bool Introspection { get; init; }

    /// <summary>TokenReview on: <c>ValidateToken</c>, <c>AddKubernetesTokenReview()</c>, this kubeconfig.</summary>
    public string? Kubeconfig { get; init; }

    public TimeSpan? MetadataMaxAge { get; init; }

    public string? CertificateAuthority { get; init; }
}

/// <summary>
/// An app that embeds McpAuth the way the README shows, with the real adapters and nothing faked:
/// <c>AddAuthentication().AddMcpAuth(...)</c> (which adds <c>AddOidcProvider()</c>, <c>AddTokenExchange()</c> and <c>AddTokenIntrospection()</c>),
/// <c>services.AddMcpAuth().AddKubernetesTokenReview()</c> for TokenReview, <c>MapMcp("/mcp").RequireMcpAuth()</c>, the
/// official MCP SDK behind it, settings from the <c>McpAuth</c> configuration section. On a TestServer.
/// </summary>
public sealed class MatrixApp : IAsyncDisposable
{
    public const string ServerUrl = "https://mcp.example.com";
    public const string Resource = ServerUrl + "/mcp";

    private MatrixApp(WebApplication app, MatrixConfig config, LogLines logs)
    {
        App = app;
        Config = config;
        Logs = logs;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public MatrixConfig Config { get; }

    public HttpClient Client { get; }

    /// <summary>What the app logged: McpAuth's categories at every level, the others from Information.</summary>
    public LogLines Logs { get; }

    /// <summary>The issuer adapter's store (public API): its fetch counter and snapshot show what ran behind a 200.</summary>
    public IssuerMetadataStore Store => App.Services.GetRequiredService<IssuerMetadataStore>();

    public static async Task<MatrixApp> StartAsync(MatrixConfig config)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var logs = new LogLines();
        builder.Logging.AddProvider(logs);
        builder.Logging.AddFilter<LogLines>("McpAuth", LogLevel.Trace);
        builder.WebHost.UseTestServer();
        var settings = new Dictionary<string, string?>
        {
            ["McpAuth:IssuerTimeout"] = C(MatrixSettings.Timeout),
            ["McpAuth:FailureBackoff"] = C(MatrixSettings.FailureBackoff),
            ["McpAuth:KeyRefreshInterval"] = C(MatrixSettings.KeyRefreshInterval),
            ["McpAuth:StsTimeout"] = C(MatrixSettings.Timeout),
            ["McpAuth:TokenReviewTimeout"] = C(MatrixSettings.Timeout),
            ["McpAuth:IntrospectionTimeout"] = C(MatrixSettings.Timeout),
        };
        if (config.Introspection)
        {
            settings["McpAuth:IntrospectionClientSecret"] = FaultPeer.IntrospectionClientSecret;
        }

        if (config.MetadataMaxAge is { } maxAge)
        {
            settings["McpAuth:MetadataMaxAge"] = C(maxAge);
        }

        if (config.CertificateAuthority is { } ca)
        {
            settings["McpAuth:CertificateAuthority"] = ca;
        }

        if (config.Kubeconfig is { } kubeconfig)
        {
            settings["McpAuth:Kubeconfig"] = kubeconfig;
        }

        builder.Configuration.AddInMemoryCollection(settings);

        builder.Services.AddAuthentication().AddMcpAuth(o =>
        {
            o.AuthorizationUrl = config.Issuer;
            if (config.Exchange)
            {
                o.StsClientId = "mcp-server";
                o.StsAudience = "kubernetes";
            }

            if (config.Introspection)
            {
                o.IntrospectionClientId = FaultPeer.IntrospectionClientId;
            }

            o.ValidateToken = config.Kubeconfig is not null;
        }, http => http.ServerUrl = ServerUrl);
        if (config.Kubeconfig is not null)
        {
            builder.Services.AddMcpAuth().AddKubernetesTokenReview();
        }

        builder.Services.AddAuthorization();
        builder.Services.AddHealthChecks().AddMcpAuthChecks();
        builder.Services.AddSingleton<ToolRuns>();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddMcpServer().WithHttpTransport(o => o.Stateless = true).WithTools([typeof(TestTools)]);

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapMcp("/mcp").RequireMcpAuth();
        app.MapMcpAuthMetadata();
        await app.StartAsync();
        return new MatrixApp(app, config, logs);
    }

    /// <summary>A token the peer's issuer signed for this app's resource.</summary>
    public string Token(FaultPeer peer, string? unknownKid = null) => peer.Token(Config.Issuer, Resource, unknownKid);

    /// <summary>POSTs tools/list with <paramref name="token"/> (none: a request that never reaches a peer).</summary>
    public async Task<Answer> SendAsync(string? token)
    {
        using var request = EmbeddedApp.Mcp(token);
        var clock = Stopwatch.StartNew();
        using var response = await Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return new Answer(response.StatusCode, clock.Elapsed, response.Headers.RetryAfter?.Delta, body);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    private static string C(TimeSpan t) => t.ToString("c", CultureInfo.InvariantCulture);
}

/// <summary>Every line the app logged (message and exception), to check that no token is ever written.</summary>
public sealed class LogLines : ILoggerProvider
{
    private readonly List<string> _lines = [];

    /// <summary>True when a line logged so far contains <paramref name="value"/>.</summary>
    public bool Contain(string value)
    {
        lock (_lines)
        {
            return _lines.Exists(line => line.Contains(value, StringComparison.Ordinal));
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(LogLines lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (lines._lines)
            {
                lines._lines.Add(formatter(state, exception) + " " + exception);
            }
        }
    }
}

/// <summary>What the client got.</summary>
public sealed record Answer(HttpStatusCode Status, TimeSpan Elapsed, TimeSpan? RetryAfter, string Body)
{
    public override string ToString() => Status == HttpStatusCode.OK
        ? $"200 after {Elapsed.TotalMilliseconds:0} ms"
        : $"{(int)Status} after {Elapsed.TotalMilliseconds:0} ms (Retry-After {RetryAfter?.TotalSeconds.ToString(CultureInfo.InvariantCulture) ?? "none"}): {Body[..Math.Min(Body.Length, 200)]}";
}
