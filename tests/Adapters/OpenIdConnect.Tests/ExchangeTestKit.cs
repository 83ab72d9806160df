using System.Collections.Concurrent;
using McpAuth.Caching;
using McpAuth.OpenIdConnect.Exchange;
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

    /// <summary>
    /// The exchange configured for a fake token service (its URL set as <c>StsTokenUrl</c>: nothing is discovered). The
    /// issuer port is a fake that accepts every token, so <see cref="Harness.SendAsync"/> runs the whole pipeline with a
    /// <see cref="SubjectToken"/>.
    /// </summary>
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
            collection =>
            {
                collection.Replace(ServiceDescriptor.Singleton<IOidcTokenValidator>(new FakeOidcValidator()));
                services?.Invoke(collection);
            });

    /// <summary>Every client authentication method, as theory rows.</summary>
    public static TheoryData<string> ClientAuthRows => new()
    {
        StsClientAuthMethods.ClientSecretPost, StsClientAuthMethods.ClientSecretBasic, StsClientAuthMethods.PrivateKeyJwt, StsClientAuthMethods.FederatedAssertion,
    };

    /// <summary>Sets <paramref name="method"/> with its one credential (the others cleared, as the validator wants).</summary>
    public static void UseCredential(this TokenExchangeOptions t, string method, string secret, string keyFile, string assertionFile)
    {
        t.StsClientAuth = method;
        t.StsClientSecret = method is StsClientAuthMethods.ClientSecretPost or StsClientAuthMethods.ClientSecretBasic ? secret : null;
        t.StsClientKeyFile = method == StsClientAuthMethods.PrivateKeyJwt ? keyFile : null;
        t.StsClientAssertionFile = method == StsClientAuthMethods.FederatedAssertion ? assertionFile : null;
    }

    /// <summary>Form field names in the order the peers report them (ordinal).</summary>
    public static string[] Sorted(params string[] keys) => [.. keys.Order(StringComparer.Ordinal)];

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
