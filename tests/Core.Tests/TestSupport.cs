using System.Diagnostics;
using System.Text;
using System.Text.Json;
using McpAuth.Caching;
using McpAuth.Diagnostics;
using McpAuth.Ports;
using McpAuth.Tokens;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace McpAuth.Core.Tests;

/// <summary>Unsigned test JWTs: Core never verifies signatures, so any signature bytes do.</summary>
internal static class Tokens
{
    public static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    public static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Create(object? payload = null, string alg = "RS256", string kid = "k1") =>
        $"{B64(JsonSerializer.Serialize(new { alg, typ = "JWT", kid }))}.{B64(JsonSerializer.Serialize(payload ?? Valid()))}.c2lnbmF0dXJl";

    /// <summary>A token from a raw JSON payload (for claim shapes an anonymous object cannot express, e.g. <c>1.5</c>).</summary>
    public static string FromJson(string payloadJson) =>
        $"{B64(JsonSerializer.Serialize(new { alg = "RS256", typ = "JWT", kid = "k1" }))}.{B64(payloadJson)}.c2lnbmF0dXJl";

    public static Dictionary<string, object> Valid(params (string Key, object Value)[] extra)
    {
        var claims = new Dictionary<string, object>
        {
            ["iss"] = "https://issuer.test",
            ["sub"] = "alice",
            ["aud"] = "mcp-server",
            ["exp"] = Now.AddMinutes(10).ToUnixTimeSeconds(),
            ["iat"] = Now.AddMinutes(-1).ToUnixTimeSeconds(),
            ["scope"] = "read write",
        };
        foreach (var (k, v) in extra)
        {
            claims[k] = v;
        }

        return claims;
    }

    public static Dictionary<string, object> Without(Dictionary<string, object> claims, string key)
    {
        claims.Remove(key);
        return claims;
    }

    /// <summary>Parses <paramref name="token"/> as the parse stage would (default size limit); throws when it is refused.</summary>
    public static ParsedToken Parse(string token) =>
        ParsedToken.TryParse(token, new McpAuthOptions().MaxTokenBytes, out var error) ?? throw new InvalidOperationException(error);

    /// <summary>A request whose token the parse stage already handled, with calls read and none (the default cluster).</summary>
    public static AuthenticateRequest Parsed(object? payload = null, IReadOnlyList<McpCall>? calls = null) =>
        new AuthenticateRequest("Bearer " + Create(payload), calls ?? []).WithParsedToken();

    /// <summary>Does what the parse stage does to <paramref name="request"/>: its bearer token becomes the state's token.</summary>
    public static AuthenticateRequest WithParsedToken(this AuthenticateRequest request)
    {
        if (!BearerToken.TryGet(request.Authorization, out var token))
        {
            throw new InvalidOperationException("no bearer token");
        }

        request.State.Token = Parse(token.ToString());
        return request;
    }
}

/// <summary>A <c>next</c> delegate that records whether the pipeline went on.</summary>
internal sealed class Next
{
    public static readonly AuthenticationOutcome Passed = AuthenticationOutcome.Success(
        new McpPrincipal("next", null, [], [], [], "t", false, null, new Dictionary<string, ClusterUser>()));

    private readonly Action<AuthenticateRequest>? _inner;
    private AuthenticateRequest? _request;

    /// <param name="inner">What the inner stages do to the request before answering (e.g. verify the token).</param>
    public Next(Action<AuthenticateRequest>? inner = null) => _inner = inner;

    public int Calls { get; private set; }

    public RequestHandlerDelegate<AuthenticationOutcome> Delegate => () =>
    {
        Calls++;
        if (_inner is not null)
        {
            _inner(_request ?? throw new InvalidOperationException("call For(request) first"));
        }

        return Task.FromResult(Passed);
    };

    /// <summary>The delegate for <paramref name="request"/> (needed when <c>inner</c> touches the request).</summary>
    public RequestHandlerDelegate<AuthenticationOutcome> For(AuthenticateRequest request)
    {
        _request = request;
        return Delegate;
    }
}

internal static class Opt
{
    /// <summary>Options with an issuer (and no expected audience, so offline checks ignore <c>aud</c> unless a test sets one).</summary>
    public static IOptions<McpAuthOptions> Of(Action<McpAuthOptions>? configure = null)
    {
        var o = new McpAuthOptions { AuthorizationUrl = "https://issuer.test" };
        configure?.Invoke(o);
        return Options.Create(o);
    }

    public static FakeTimeProvider Clock() => new(Tokens.Now);

    public static NullLogger<T> Log<T>() => NullLogger<T>.Instance;
}

/// <summary>A fake body: counts reads, writes "calls" to an optional journal, answers <paramref name="result"/> asynchronously.</summary>
internal sealed class CountingCallSource(McpCallSet result, Journal? journal = null) : IMcpCallSource
{
    private int _reads;

    public CountingCallSource(params McpCall[] calls)
        : this(McpCallSet.Of(calls))
    {
    }

    public int Reads => Volatile.Read(ref _reads);

    public async ValueTask<McpCallSet> ReadCallsAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        journal?.Add("calls");
        await Task.Yield();
        return result;
    }
}

/// <summary>
/// The real pipeline (DI + <c>AddMcpAuth</c>) with fake peers that write to one journal and a fake clock. Default options:
/// issuer <c>https://issuer.test</c> and audience <c>mcp-server</c> (what <see cref="Tokens.Valid"/> carries).
/// </summary>
public sealed class TestPipeline
{
    private TestPipeline(ServiceProvider provider, Journal journal, FakeOidcValidator oidc, FakeExchangeClient exchange, FakeReviewClient review, FakeTimeProvider clock)
    {
        Provider = provider;
        Journal = journal;
        Oidc = oidc;
        Exchange = exchange;
        Review = review;
        Clock = clock;
    }

    public ServiceProvider Provider { get; }

    public Journal Journal { get; }

    public FakeOidcValidator Oidc { get; }

    public FakeExchangeClient Exchange { get; }

    public FakeReviewClient Review { get; }

    public FakeTimeProvider Clock { get; }

    public IMediator Mediator => Provider.GetRequiredService<IMediator>();

    public ValidatedTokenCache Cache => Provider.GetRequiredService<ValidatedTokenCache>();

    /// <summary>Issuer + audience + RFC 8693 exchange + TokenReview: every stage on.</summary>
    public static void Everything(McpAuthOptions o)
    {
        o.StsClientId = "client";
        o.StsAudience = "k8s-api";
        o.ValidateToken = true;
    }

    public static TestPipeline Build(Action<McpAuthOptions>? configure = null, Action<McpAuthBuilder>? stages = null, Action<IServiceCollection>? services = null)
    {
        var journal = new Journal();
        var clock = new FakeTimeProvider(Tokens.Now);
        var oidc = new FakeOidcValidator(journal);
        var exchange = new FakeExchangeClient(journal) { Result = TokenExchangeResult.Exchanged("exchanged-token", Tokens.Now.AddMinutes(5)) };
        var review = new FakeReviewClient(journal);
        var collection = new ServiceCollection();
        collection.AddLogging();
        collection.AddSingleton(journal);
        collection.AddSingleton<TimeProvider>(clock);
        var builder = collection.AddMcpAuth(o =>
        {
            o.AuthorizationUrl = "https://issuer.test";
            o.Audience = "mcp-server";
            configure?.Invoke(o);
        });
        stages?.Invoke(builder);
        collection.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(oidc));
        collection.Replace(ServiceDescriptor.Singleton<ITokenExchangeClient>(exchange));
        collection.Replace(ServiceDescriptor.Singleton<ITokenReviewClient>(review));
        services?.Invoke(collection);
        var provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        return new TestPipeline(provider, journal, oidc, exchange, review, clock);
    }

    public Task<AuthenticationOutcome> Send(AuthenticateRequest request) => Mediator.Send(request);

    /// <summary>Sends a request with <paramref name="token"/> whose calls are read and none (the default cluster).</summary>
    public Task<AuthenticationOutcome> Send(string token) => Send(new AuthenticateRequest("Bearer " + token, []));
}

/// <summary>
/// Records the McpAuth spans made under a root span of its own (other test classes run in parallel and make spans too).
/// Create it in the test method itself, so the root becomes <see cref="Activity.Current"/> for the test's flow.
/// </summary>
internal sealed class SpanRecorder : IDisposable
{
    private readonly ActivitySource _testSource = new("McpAuth.Core.Tests." + Guid.NewGuid().ToString("N"));
    private readonly ActivityListener _listener;
    private readonly Activity _root;
    private readonly List<(string Name, string? Outcome)> _spans = [];

    public SpanRecorder()
    {
        ActivityTraceId? trace = null;
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == McpAuthDiagnostics.Name || s == _testSource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (a.Source.Name == McpAuthDiagnostics.Name && a.TraceId == trace)
                {
                    lock (_spans)
                    {
                        _spans.Add((a.OperationName, a.GetTagItem(McpAuthDiagnostics.OutcomeTag) as string));
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
        _root = _testSource.StartActivity("test")!;
        trace = _root.TraceId;
    }

    public IReadOnlyList<(string Name, string? Outcome)> Spans
    {
        get
        {
            lock (_spans)
            {
                return _spans.ToArray();
            }
        }
    }

    public void Dispose()
    {
        _root.Dispose();
        _listener.Dispose();
        _testSource.Dispose();
    }
}

/// <summary>A logger provider that keeps every entry (level, event id, formatted message).</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly List<(LogLevel Level, EventId Id, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, EventId Id, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return _entries.ToArray();
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._entries)
            {
                owner._entries.Add((logLevel, eventId, formatter(state, exception)));
            }
        }
    }
}
