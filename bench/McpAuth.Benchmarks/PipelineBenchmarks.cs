using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using MediatR;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.Benchmarks;

/// <summary>
/// The full pipeline in OIDC mode (real adapter, in-memory issuer) next to bare <see cref="JsonWebTokenHandler"/>
/// validation of the same tokens. Categories pair each pipeline case with its baseline.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class PipelineBenchmarks
{
    private readonly BenchIssuer _issuer = new();
    private readonly JsonWebTokenHandler _bare = new() { MapInboundClaims = false };
    private TokenValidationParameters _parameters = null!;
    private IMediator _cached = null!;
    private IMediator _uncached = null!;
    private string _rs256 = null!;
    private string _es256 = null!;
    private string _expired = null!;
    private string _malformed = null!;

    [GlobalSetup]
    public void Setup()
    {
        _parameters = _issuer.BareParameters();
        _rs256 = "Bearer " + _issuer.Token(_issuer.Rsa, SecurityAlgorithms.RsaSha256);
        _es256 = "Bearer " + _issuer.Token(_issuer.Ec, SecurityAlgorithms.EcdsaSha256);
        _expired = "Bearer " + _issuer.Token(_issuer.Rsa, SecurityAlgorithms.RsaSha256, expiresInSeconds: -3600);
        _malformed = "Bearer " + _rs256["Bearer ".Length..].Replace(".", ".x", StringComparison.Ordinal);
        _cached = _issuer.Pipeline();
        _uncached = _issuer.Pipeline(tokenCacheMaxEntries: 0);
        // Warm discovery/JWKS and the cache entry.
        Check(_cached.Send(new AuthenticateRequest(_rs256)).GetAwaiter().GetResult());
        Check(_uncached.Send(new AuthenticateRequest(_es256)).GetAwaiter().GetResult());
    }

    private static void Check(AuthenticationOutcome outcome)
    {
        if (!outcome.Succeeded)
        {
            throw new InvalidOperationException("setup token refused: " + outcome);
        }
    }

    [Benchmark(Baseline = true), BenchmarkCategory("RS256")]
    public Task<TokenValidationResult> Bare_RS256() => _bare.ValidateTokenAsync(_rs256["Bearer ".Length..], _parameters);

    [Benchmark, BenchmarkCategory("RS256")]
    public Task<AuthenticationOutcome> Pipeline_FirstSeen_RS256() => _uncached.Send(new AuthenticateRequest(_rs256));

    [Benchmark(Baseline = true), BenchmarkCategory("ES256")]
    public Task<TokenValidationResult> Bare_ES256() => _bare.ValidateTokenAsync(_es256["Bearer ".Length..], _parameters);

    [Benchmark, BenchmarkCategory("ES256")]
    public Task<AuthenticationOutcome> Pipeline_FirstSeen_ES256() => _uncached.Send(new AuthenticateRequest(_es256));

    [Benchmark(Baseline = true), BenchmarkCategory("Repeated")]
    public Task<TokenValidationResult> Bare_Repeated_RS256() => _bare.ValidateTokenAsync(_rs256["Bearer ".Length..], _parameters);

    [Benchmark, BenchmarkCategory("Repeated")]
    public Task<AuthenticationOutcome> Pipeline_CacheHit() => _cached.Send(new AuthenticateRequest(_rs256));

    [Benchmark(Baseline = true), BenchmarkCategory("Rejected")]
    public Task<TokenValidationResult> Bare_Expired() => _bare.ValidateTokenAsync(_expired["Bearer ".Length..], _parameters);

    [Benchmark, BenchmarkCategory("Rejected")]
    public Task<AuthenticationOutcome> Pipeline_Expired() => _cached.Send(new AuthenticateRequest(_expired));

    [Benchmark, BenchmarkCategory("Rejected")]
    public Task<AuthenticationOutcome> Pipeline_Malformed() => _cached.Send(new AuthenticateRequest(_malformed));
}
