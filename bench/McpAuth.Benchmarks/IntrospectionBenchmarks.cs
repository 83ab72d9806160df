using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using McpAuth.OpenIdConnect;
using McpAuth.Ports;
using McpAuth.Tokens;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.Benchmarks;

/// <summary>
/// The per-request cost of opaque tokens (RFC 7662) once their introspection answer is cached: the
/// <see cref="CachingTokenIntrospector"/> decorator on a hit, and the whole pipeline for an opaque token (validated-token
/// cache miss, opaque parse, introspection stage answered by the decorator, offline checks) next to a JWT found in the
/// validated-token cache. The pipeline is the real one in OIDC mode with introspection on
/// (<c>AddTokenIntrospection</c>: the real client behind the real decorator); the introspection endpoint is a stub that
/// answers "active" and counts calls, and <see cref="Cleanup"/> fails the run if it was asked more than once.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[MedianColumn]
public class IntrospectionBenchmarks
{
    private readonly BenchIssuer _issuer = new();
    private readonly IntrospectionStub.Counter _calls = new();
    private CachingTokenIntrospector _introspector = null!;
    private IMediator _pipeline = null!;
    private ParsedToken _opaqueParsed = null!;
    private string _opaque = null!;
    private string _jwt = null!;
    private string _jwt2 = null!;
    private bool _flip;

    [GlobalSetup]
    public void Setup()
    {
        var token = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32)); // 43 characters, like most opaque tokens
        _opaque = "Bearer " + token;
        _opaqueParsed = ParsedToken.TryParse(token, 16 * 1024, allowOpaque: true, out _) ?? throw new InvalidOperationException("setup: the opaque token does not parse");
        _jwt = "Bearer " + _issuer.Token(_issuer.Rsa, SecurityAlgorithms.RsaSha256, jti: "one");
        _jwt2 = "Bearer " + _issuer.Token(_issuer.Rsa, SecurityAlgorithms.RsaSha256, jti: "two");
        _pipeline = _issuer.Pipeline(
            options: o => o.IntrospectionClientId = "mcp-server",
            more: s =>
            {
                s.AddMcpAuth().AddTokenIntrospection(i =>
                {
                    i.IntrospectionClientSecret = "bench-secret";
                    i.IntrospectionEndpoint = BenchIssuer.Issuer + "/introspect";
                    // Longer than the run, so every measured call is a hit (default 2 minutes: one call per token per 2 minutes).
                    i.IntrospectionCacheMaxAge = TimeSpan.FromHours(1);
                });
                // Keep AddTokenIntrospection's own registration (the real client behind the decorator) and remember the decorator.
                var registered = s.Last(d => d.ServiceType == typeof(ITokenIntrospector)).ImplementationFactory!;
                s.Replace(ServiceDescriptor.Singleton<ITokenIntrospector>(sp => _introspector = (CachingTokenIntrospector)registered(sp)));
                s.AddHttpClient(IssuerMetadataStore.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => new IntrospectionStub(_issuer, _calls));
            });
        // Warm discovery/JWKS, put the JWTs in the validated-token cache and the opaque token's answer in the decorator.
        foreach (var header in new[] { _jwt, _jwt2, _opaque, _opaque })
        {
            var outcome = _pipeline.Send(new AuthenticateRequest(header)).GetAwaiter().GetResult();
            if (!outcome.Succeeded)
            {
                throw new InvalidOperationException("setup token refused: " + outcome);
            }
        }

        if (_calls.Introspections != 1 || _introspector.Introspections != 1
            || _introspector.IntrospectAsync(_opaqueParsed, CancellationToken.None).AsTask().GetAwaiter().GetResult().Token is not { IsIntrospected: true })
        {
            throw new InvalidOperationException($"setup: {_calls.Introspections} introspection calls, expected 1");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_calls.Introspections != 1)
        {
            throw new InvalidOperationException($"{_calls.Introspections} introspection calls during the run: the cache missed");
        }
    }

    [Benchmark, BenchmarkCategory("Port")]
    public ValueTask<IntrospectionResult> Introspector_CacheHit() => _introspector.IntrospectAsync(_opaqueParsed, CancellationToken.None);

    [Benchmark(Baseline = true), BenchmarkCategory("Pipeline")]
    public Task<AuthenticationOutcome> Pipeline_Jwt_CacheHit() => _pipeline.Send(new AuthenticateRequest(_jwt));

    // Two tokens in turn: the validated-token cache's per-thread "same token as last time" shortcut never applies, so each
    // hit computes the token's HMAC, as the opaque token's lookups do.
    [Benchmark, BenchmarkCategory("Pipeline")]
    public Task<AuthenticationOutcome> Pipeline_Jwt_CacheHit_TwoTokens() => _pipeline.Send(new AuthenticateRequest((_flip = !_flip) ? _jwt : _jwt2));

    [Benchmark, BenchmarkCategory("Pipeline")]
    public Task<AuthenticationOutcome> Pipeline_Opaque_IntrospectionCacheHit() => _pipeline.Send(new AuthenticateRequest(_opaque));

    /// <summary>The bench issuer's discovery and JWKS, plus an RFC 7662 endpoint that answers "active" for any token and counts calls.</summary>
    private sealed class IntrospectionStub(BenchIssuer issuer, IntrospectionStub.Counter calls) : DelegatingHandler(new BenchIssuer.StubHandler(issuer))
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath != "/introspect")
            {
                return base.SendAsync(request, cancellationToken);
            }

            calls.Add();
            var now = DateTimeOffset.UtcNow;
            var answer = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["active"] = true, ["iss"] = BenchIssuer.Issuer, ["sub"] = "alice", ["aud"] = BenchIssuer.Audience, ["scope"] = "read write",
                ["client_id"] = "bench-client", ["iat"] = now.AddSeconds(-10).ToUnixTimeSeconds(), ["exp"] = now.AddHours(2).ToUnixTimeSeconds(),
            });
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(answer, Encoding.UTF8, "application/json") });
        }

        /// <summary>Calls to the introspection endpoint, over every handler the HTTP client factory made.</summary>
        public sealed class Counter
        {
            private int _introspections;

            public int Introspections => Volatile.Read(ref _introspections);

            public void Add() => Interlocked.Increment(ref _introspections);
        }
    }
}
