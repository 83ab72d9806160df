using System.Collections.Concurrent;
using McpAuth.Caching;
using McpAuth.Ports;
using McpAuth.TestPeers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace McpAuth.OpenIdConnect.Tests;

/// <summary>What the token-exchange tests (#14) share: pipelines pointed at oidc-provider or at a fake token service, captured logs, a shared cache.</summary>
internal static class ExchangeTestKit
{
    /// <summary>
    /// The real pipeline with the OIDC provider adapter on <paramref name="idp"/> and the exchange as
    /// <paramref name="clientId"/> at its token endpoint (discovered), audience <paramref name="audience"/>.
    /// </summary>
    public static Harness AtProvider(
        OidcProviderProcess idp, string clientId, Action<TokenExchangeOptions> exchange, string audience = "k8s-api",
        Action<IServiceCollection>? services = null) =>
        new(
            o =>
            {
                o.AuthorizationUrl = idp.Issuer;
                o.Audience = Harness.Resource;
                o.StsClientId = clientId;
                o.StsAudience = audience;
            },
            b => b.AddOidcProvider().AddTokenExchange(t =>
            {
                t.StsScopes = ["k8s", "read"];
                exchange(t);
            }),
            services);

    /// <summary>The exchange configured for a fake token service (its URL set as <c>StsTokenUrl</c>: nothing is discovered).</summary>
    public static Harness AtFake(
        FakeTokenService sts, string strategy, string clientId, string audience, Action<TokenExchangeOptions> exchange,
        Action<IServiceCollection>? services = null) =>
        new(
            o =>
            {
                o.AuthorizationUrl = "https://issuer.test";
                o.Audience = Harness.Resource;
                o.StsClientId = clientId;
                o.StsAudience = audience;
            },
            b => b.AddOidcProvider().AddTokenExchange(t =>
            {
                t.StsStrategy = strategy;
                t.StsTokenUrl = sts.TokenUrl;
                exchange(t);
            }),
            services);

    /// <summary>The exchange port as the pipeline uses it (the caching decorator around the strategy).</summary>
    public static Task<TokenExchangeResult> ExchangeAsync(this Harness harness, string subjectToken) =>
        harness.Get<ITokenExchangeClient>().ExchangeAsync(subjectToken, DateTimeOffset.UtcNow.AddMinutes(10), CancellationToken.None).AsTask();

    private static readonly Microsoft.IdentityModel.Tokens.RsaSecurityKey CallerKey = new(System.Security.Cryptography.RSA.Create(2048)) { KeyId = "caller" };

    /// <summary>A subject token as a client would present it (a fake token service does not verify it).</summary>
    public static string SubjectToken(string subject = "alice")
    {
        var claims = Claims.For("https://issuer.test");
        claims["sub"] = subject;
        claims["jti"] = Guid.NewGuid().ToString("N");
        return TestKeys.Sign(CallerKey, "RS256", claims);
    }
}

/// <summary>Captures every log message (formatted) so a test can prove what is and is not logged.</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    public ConcurrentQueue<string> Messages { get; } = new();

    public string All => string.Join('\n', Messages);

    public void Register(IServiceCollection services) => services.AddLogging(b => b.AddProvider(this).SetMinimumLevel(LogLevel.Trace));

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Messages.Enqueue($"{eventId.Id} {formatter(state, exception)} {exception}");
    }
}

/// <summary>An <see cref="ISharedCache"/> in memory, as replicas sharing one store see it; counts reads that found something.</summary>
internal sealed class InMemorySharedCache : ISharedCache
{
    private readonly ConcurrentDictionary<(string, CacheKey), SharedCacheEntry> _entries = new();

    public int Hits;

    public int Count => _entries.Count;

    public ValueTask<SharedCacheEntry?> GetAsync(string purpose, CacheKey key, CancellationToken cancellationToken)
    {
        var found = _entries.TryGetValue((purpose, key), out var entry) ? entry : null;
        if (found is not null)
        {
            Interlocked.Increment(ref Hits);
        }

        return ValueTask.FromResult(found);
    }

    public ValueTask SetAsync(string purpose, CacheKey key, byte[] value, DateTimeOffset until, CancellationToken cancellationToken)
    {
        _entries[(purpose, key)] = new SharedCacheEntry(value, until);
        return ValueTask.CompletedTask;
    }

    /// <summary>Registers this store and one key secret (what every replica of a service shares).</summary>
    public void Register(IServiceCollection services, CacheKeys keys)
    {
        services.AddSingleton<ISharedCache>(this);
        services.Replace(ServiceDescriptor.Singleton(keys));
    }
}
