using System.Security.Cryptography;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using McpAuth.Behaviors;
using McpAuth.Caching;
using McpAuth.Dpop;
using McpAuth.Ports;
using McpAuth.Tokens;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Options = Microsoft.Extensions.Options.Options;

namespace McpAuth.Benchmarks;

/// <summary>
/// The per-request cost of DPoP (RFC 9449): the proof check alone (<see cref="DpopProofValidator"/>: parse, <c>jwk</c>
/// header, signature under it, <c>htm</c>, <c>htu</c>, <c>iat</c>, <c>jti</c>, <c>ath</c>), the whole
/// <see cref="DpopBehavior"/> stage (that, plus the token's <c>cnf.jkt</c> against the proof key's thumbprint and the
/// <c>jti</c> inserted in the real in-process replay cache), and the full pipeline with a DPoP-bound token and its proof
/// next to the same pipeline with a Bearer token, both found in the validated-token cache.
/// </summary>
/// <remarks>
/// Every request needs a proof with a new <c>jti</c>, and signing one (the client's work) must not be measured, so
/// <see cref="PoolSize"/> distinct proofs are signed in setup and used in turn. When the pool wraps, the replay cache
/// is replaced by an empty one (once per <see cref="PoolSize"/> requests), so every measured proof is accepted and
/// inserted; <see cref="Cleanup"/> fails the run if any was refused.
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[MedianColumn]
public class DpopBenchmarks
{
    public const int PoolSize = 2048;
    private const string Htu = BenchIssuer.Audience;

    private readonly BenchIssuer _issuer = new();
    private readonly ResettableReplayCache _replays = new();
    private DpopProofValidator _validator = null!;
    private DpopBehavior _stage = null!;
    private IMediator _pipeline = null!;
    private string _bound = null!;
    private string _boundHeader = null!;
    private string _bearerHeader = null!;
    private string[] _proofs = null!;
    private DpopRequest[] _proofRequests = null!;
    private AuthenticateRequest[] _stageRequests = null!;
    private int _next;
    private long _measured;

    /// <summary>The proof's signing algorithm (P-256 for ES256, RSA 2048 for RS256 and PS256).</summary>
    [Params("ES256", "RS256", "PS256")]
    public string Alg { get; set; } = "ES256";

    [GlobalSetup]
    public void Setup()
    {
        var client = new DpopClient(Alg);
        // The access token: RS256 from the issuer, bound to the client's key (cnf.jkt); the Bearer one has the same
        // claims without cnf (a bound token sent as Bearer is refused).
        _bound = BoundToken(_issuer, client.Thumbprint);
        _boundHeader = "DPoP " + _bound;
        _bearerHeader = "Bearer " + BoundToken(_issuer, thumbprint: null);
        _proofs = Enumerable.Range(0, PoolSize).Select(_ => client.Proof(_bound, "POST", Htu)).ToArray();
        _proofRequests = _proofs.Select(p => new DpopRequest(p, "POST", Htu)).ToArray();

        var options = Options.Create(new McpAuthOptions { Dpop = DpopMode.Allowed });
        var keys = new CacheKeys();
        _validator = new DpopProofValidator(options, TimeProvider.System);
        _stage = new DpopBehavior(options, _validator, _replays, new DpopNonces(keys, options, TimeProvider.System), keys);
        var parsed = ParsedToken.TryParse(_bound, 16 * 1024, out _) ?? throw new InvalidOperationException("setup: the bound token does not parse");
        _stageRequests = _proofRequests.Select(r =>
        {
            var request = new AuthenticateRequest(_boundHeader) { Dpop = r };
            request.State.Token = parsed;
            request.State.Scheme = AuthorizationScheme.DPoP;
            return request;
        }).ToArray();

        _pipeline = _issuer.Pipeline(
            more: s => s.Replace(ServiceDescriptor.Singleton<IDpopReplayCache>(_replays)),
            options: o => o.Dpop = DpopMode.Allowed);
        // Warm discovery/JWKS and put both tokens in the validated-token cache; check that a proof is needed and works.
        Check(_pipeline.Send(new AuthenticateRequest(_bearerHeader)).GetAwaiter().GetResult(), true, "bearer");
        Check(_pipeline.Send(new AuthenticateRequest(_boundHeader) { Dpop = _proofRequests[0] }).GetAwaiter().GetResult(), true, "dpop");
        Check(_pipeline.Send(new AuthenticateRequest(_boundHeader) { Dpop = _proofRequests[0] }).GetAwaiter().GetResult(), false, "replayed proof");
        Check(_pipeline.Send(new AuthenticateRequest("Bearer " + _bound)).GetAwaiter().GetResult(), false, "bound token as bearer");
        if (_validator.ValidateAsync(_proofs[1], _proofRequests[1], "another token").AsTask().GetAwaiter().GetResult().Proof is not null)
        {
            throw new InvalidOperationException("setup: a proof for another token (ath) was accepted");
        }

        _replays.Reset();
        _next = 0;
        _measured = 0;
        _replays.Accepted = 0;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // Every proof the stage and the pipeline sent was accepted and inserted (the proof-check-only benchmark inserts
        // none and counts none); and the proofs were still inside their iat window at the end of the run.
        if (_replays.Accepted != _measured)
        {
            throw new InvalidOperationException($"{_measured - _replays.Accepted} of {_measured} proofs were refused during the run");
        }

        if (_validator.ValidateAsync(_proofs[0], _proofRequests[0], _bound).AsTask().GetAwaiter().GetResult().Proof is null)
        {
            throw new InvalidOperationException("the proofs were no longer valid at the end of the run");
        }
    }

    private static void Check(AuthenticationOutcome outcome, bool succeed, string what)
    {
        if (outcome.Succeeded != succeed)
        {
            throw new InvalidOperationException($"setup ({what}): {outcome}");
        }
    }

    // The next proof of the pool; on wrapping, an empty replay cache, so the pool's proofs are new again.
    private int Next()
    {
        var i = _next;
        if (i == PoolSize)
        {
            _replays.Reset();
            i = 0;
        }

        _next = i + 1;
        _measured++;
        return i;
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Proof")]
    public ValueTask<(DpopProof? Proof, string? Error)> ProofValidator()
    {
        var i = _next == PoolSize ? 0 : _next;
        _next = i + 1;
        return _validator.ValidateAsync(_proofs[i], _proofRequests[i], _bound);
    }

    [Benchmark, BenchmarkCategory("Proof")]
    public Task<AuthenticationOutcome> DpopStage_WithReplayInsert() =>
        _stage.Handle(_stageRequests[Next()], CancellationToken.None, static () => Task.FromResult(AuthenticationOutcome.NoCredentials));

    [Benchmark(Baseline = true), BenchmarkCategory("Pipeline")]
    public Task<AuthenticationOutcome> Pipeline_Bearer_CacheHit() => _pipeline.Send(new AuthenticateRequest(_bearerHeader));

    [Benchmark, BenchmarkCategory("Pipeline")]
    public Task<AuthenticationOutcome> Pipeline_Dpop_CacheHit()
    {
        var i = Next();
        return _pipeline.Send(new AuthenticateRequest(_boundHeader) { Dpop = new DpopRequest(_proofs[i], "POST", Htu) });
    }

    /// <summary>An access token of the bench issuer (RS256, the claims of <see cref="BenchIssuer.Token"/>), bound to <paramref name="thumbprint"/> when given.</summary>
    internal static string BoundToken(BenchIssuer issuer, string? thumbprint)
    {
        var now = DateTimeOffset.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["iss"] = BenchIssuer.Issuer, ["sub"] = "alice", ["aud"] = BenchIssuer.Audience, ["scope"] = "read write",
            ["iat"] = now.AddSeconds(-10).ToUnixTimeSeconds(), ["nbf"] = now.AddSeconds(-10).ToUnixTimeSeconds(),
            ["exp"] = now.AddHours(1).ToUnixTimeSeconds(),
        };
        if (thumbprint is not null)
        {
            claims["cnf"] = new Dictionary<string, object> { ["jkt"] = thumbprint };
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims, SigningCredentials = new SigningCredentials(issuer.Rsa, SecurityAlgorithms.RsaSha256), TokenType = "at+jwt",
        });
    }

    /// <summary>A DPoP client: its key pair, and proofs signed with it as a client library makes them.</summary>
    internal sealed class DpopClient
    {
        private readonly string _alg;
        private readonly AsymmetricSecurityKey _key;
        private readonly Dictionary<string, object> _jwk;
        private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

        public DpopClient(string alg)
        {
            _alg = alg;
            if (alg.StartsWith("ES", StringComparison.Ordinal))
            {
                var ec = new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256));
                var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(ec);
                _key = ec;
                _jwk = new() { ["kty"] = "EC", ["crv"] = jwk.Crv, ["x"] = jwk.X, ["y"] = jwk.Y };
            }
            else
            {
                var rsa = new RsaSecurityKey(RSA.Create(2048));
                var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(rsa);
                _key = rsa;
                _jwk = new() { ["kty"] = "RSA", ["n"] = jwk.N, ["e"] = jwk.E };
            }

            Thumbprint = Base64UrlEncoder.Encode(new JsonWebKey(JsonSerializer.Serialize(_jwk)).ComputeJwkThumbprint());
        }

        /// <summary>The RFC 7638 thumbprint of the public key (what the token's <c>cnf.jkt</c> holds).</summary>
        public string Thumbprint { get; }

        public string Proof(string accessToken, string htm, string htu) => _handler.CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object>
            {
                ["htm"] = htm, ["htu"] = htu, ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                ["jti"] = Guid.NewGuid().ToString("N"), ["ath"] = DpopProofValidator.Ath(accessToken),
            },
            TokenType = "dpop+jwt",
            AdditionalHeaderClaims = new Dictionary<string, object> { ["jwk"] = _jwk },
            SigningCredentials = new SigningCredentials(_key, _alg) { CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false } },
        });
    }

    /// <summary>The real <see cref="InProcessDpopReplayCache"/>, replaced by an empty one on <see cref="Reset"/>; counts accepted proofs.</summary>
    internal sealed class ResettableReplayCache : IDpopReplayCache
    {
        private InProcessDpopReplayCache _inner = new(TimeProvider.System);

        public long Accepted { get; set; }

        public void Reset() => _inner = new InProcessDpopReplayCache(TimeProvider.System);

        public ValueTask<bool> TryUseAsync(CacheKey jti, DateTimeOffset until, CancellationToken cancellationToken)
        {
            var used = _inner.TryUseAsync(jti, until, cancellationToken);
            if (used.IsCompletedSuccessfully && used.Result)
            {
                Accepted++;
            }

            return used;
        }
    }
}
