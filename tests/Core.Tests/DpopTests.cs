using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using McpAuth.Behaviors;
using McpAuth.Caching;
using McpAuth.Dpop;
using McpAuth.Tokens;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.Core.Tests;

/// <summary>Makes DPoP proofs the way a client library does, with knobs to break each rule.</summary>
public sealed class ProofMaker
{
    public ProofMaker(string alg = "ES256")
    {
        Alg = alg;
        Key = alg.StartsWith("ES", StringComparison.Ordinal)
            ? new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256))
            : new RsaSecurityKey(RSA.Create(2048));
        Jwk = alg.StartsWith("ES", StringComparison.Ordinal)
            ? JsonWebKeyConverter.ConvertFromECDsaSecurityKey((ECDsaSecurityKey)Key)
            : JsonWebKeyConverter.ConvertFromRSASecurityKey((RsaSecurityKey)Key);
    }

    public string Alg { get; }

    public AsymmetricSecurityKey Key { get; }

    public JsonWebKey Jwk { get; }

    /// <summary>The RFC 7638 thumbprint of the public key (what cnf.jkt holds).</summary>
    public string Thumbprint => Base64UrlEncoder.Encode(PublicJwk().ComputeJwkThumbprint());

    public JsonWebKey PublicJwk() => new(JsonSerializer.Serialize(PublicMembers()));

    public Dictionary<string, object> PublicMembers() => Jwk.Kty == "EC"
        ? new() { ["kty"] = "EC", ["crv"] = Jwk.Crv, ["x"] = Jwk.X, ["y"] = Jwk.Y }
        : new() { ["kty"] = "RSA", ["n"] = Jwk.N, ["e"] = Jwk.E };

    public string Make(
        string accessToken, string htm = "POST", string htu = "https://mcp.example.com/mcp", DateTimeOffset? iat = null, string? jti = null,
        string typ = "dpop+jwt", object? jwk = null, string? nonce = null, string? ath = null, SecurityKey? signWith = null,
        Action<Dictionary<string, object>>? edit = null)
    {
        var claims = new Dictionary<string, object>
        {
            ["htm"] = htm,
            ["htu"] = htu,
            ["iat"] = (iat ?? Tokens.Now).ToUnixTimeSeconds(),
            ["jti"] = jti ?? Guid.NewGuid().ToString("N"),
            ["ath"] = ath ?? DpopProofValidator.Ath(accessToken),
        };
        if (nonce is not null)
        {
            claims["nonce"] = nonce;
        }

        edit?.Invoke(claims);
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            TokenType = typ,
            AdditionalHeaderClaims = new Dictionary<string, object> { ["jwk"] = jwk ?? PublicMembers() },
            SigningCredentials = new SigningCredentials(signWith ?? Key, Alg) { CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false } },
        });
    }
}

public sealed class DpopProofValidatorTests
{
    private const string Uri = "https://mcp.example.com/mcp";
    private static readonly DpopRequest Request = new(null, "POST", Uri);
    private static readonly string AccessToken = Tokens.Create();

    private static DpopProofValidator Validator(Action<McpAuthOptions>? configure = null) => new(Opt.Of(configure), Opt.Clock());

    public sealed record Row(string Name, Func<ProofMaker, string?> Proof, string? Error, DpopRequest? On = null)
    {
        public override string ToString() => Name;
    }

    public static TheoryData<Row> Rows => new()
    {
        new Row("Valid", m => m.Make(AccessToken), null),
        new Row("ValidRs256", m => new ProofMaker("RS256").Make(AccessToken), null),
        new Row("HtuWithQueryOnTheRequest", m => m.Make(AccessToken), null, Request with { Uri = Uri }),
        new Row("HtuCaseAndDefaultPortNormalized", m => m.Make(AccessToken, htu: "HTTPS://MCP.Example.com:443/mcp"), null),
        new Row("HtuPercentEncodedUnreserved", m => m.Make(AccessToken, htu: "https://mcp.example.com/%6Dcp"), null),
        new Row("Missing", _ => null, "The request has no DPoP proof."),
        new Row("TwoParts", m => string.Join('.', m.Make(AccessToken).Split('.').Take(2)), "The DPoP proof is not one compact JWS."),
        new Row("TwoProofsJoined", m => m.Make(AccessToken) + "," + m.Make(AccessToken), "The DPoP proof is not one compact JWS."),
        new Row("Oversized", m => m.Make(AccessToken, edit: c => c["pad"] = new string('x', 9000)), "The DPoP proof is not one compact JWS."),
        new Row("TypJwt", m => m.Make(AccessToken, typ: "JWT"), "The DPoP proof's typ is not dpop+jwt."),
        new Row("TypAccessToken", m => m.Make(AccessToken, typ: "at+jwt"), "The DPoP proof's typ is not dpop+jwt."),
        new Row("AlgNotAllowed", m => m.Make(AccessToken), "The DPoP proof's signing algorithm is not accepted.", null),
        new Row("NoJwk", m => MakeWithoutJwk(m), "The DPoP proof has no public jwk header (a private key member is refused)."),
        new Row("PrivateJwk", m => m.Make(AccessToken, jwk: WithPrivate(m)), "The DPoP proof has no public jwk header (a private key member is refused)."),
        new Row("SymmetricJwk", m => m.Make(AccessToken, jwk: new Dictionary<string, object> { ["kty"] = "oct", ["k"] = "c2VjcmV0" }), "The DPoP proof has no public jwk header (a private key member is refused)."),
        new Row("SignedByAnotherKey", m => m.Make(AccessToken, signWith: new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256))), "The DPoP proof's signature is not valid under its jwk."),
        new Row("OtherMethod", m => m.Make(AccessToken, htm: "GET"), "The DPoP proof's htm is not this request's method."),
        new Row("MethodCase", m => m.Make(AccessToken, htm: "post"), "The DPoP proof's htm is not this request's method."),
        new Row("OtherPath", m => m.Make(AccessToken, htu: "https://mcp.example.com/other"), "The DPoP proof's htu is not this request's URI."),
        new Row("OtherHost", m => m.Make(AccessToken, htu: "https://evil.example.com/mcp"), "The DPoP proof's htu is not this request's URI."),
        new Row("EncodedSlashIsNotASlash", m => m.Make(AccessToken, htu: "https://mcp.example.com/a%2Fb"), "The DPoP proof's htu is not this request's URI.", Request with { Uri = "https://mcp.example.com/a/b" }),
        new Row("NoHtu", m => m.Make(AccessToken, edit: c => c.Remove("htu")), "The DPoP proof's htu is not this request's URI."),
        new Row("IatTooOld", m => m.Make(AccessToken, iat: Tokens.Now.AddMinutes(-6)), "The DPoP proof's iat is outside the accepted window."),
        new Row("IatInTheFuture", m => m.Make(AccessToken, iat: Tokens.Now.AddMinutes(6)), "The DPoP proof's iat is outside the accepted window."),
        new Row("IatAtTheEdge", m => m.Make(AccessToken, iat: Tokens.Now.AddMinutes(-5)), null),
        new Row("NoIat", m => m.Make(AccessToken, edit: c => c.Remove("iat")), "The DPoP proof has no iat."),
        new Row("NoJti", m => m.Make(AccessToken, edit: c => c.Remove("jti")), "The DPoP proof has no usable jti."),
        new Row("AthOfAnotherToken", m => m.Make(AccessToken, ath: DpopProofValidator.Ath(Tokens.Create(Tokens.Valid(("sub", "bob"))))), "The DPoP proof's ath is not the hash of this access token."),
        new Row("NoAth", m => m.Make(AccessToken, edit: c => c.Remove("ath")), "The DPoP proof's ath is not the hash of this access token."),
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Validate_EveryRuleOfRfc9449(Row row)
    {
        var maker = new ProofMaker();
        var validator = row.Name == "AlgNotAllowed" ? Validator(o => o.DpopAlgorithms = ["RS256"]) : Validator();
        var proof = row.Proof(maker);
        var (result, error) = await validator.ValidateAsync(proof, (row.On ?? Request) with { Proof = proof }, AccessToken);
        error.Should().Be(row.Error, row.Name);
        if (row.Error is null)
        {
            result.Should().NotBeNull();
            result!.Jti.Should().NotBeNullOrEmpty();
            if (row.Name != "ValidRs256")
            {
                result.Thumbprint.Should().Be(maker.Thumbprint);
            }
        }
        else
        {
            result.Should().BeNull();
        }
    }

    [Fact]
    public void SymmetricAlgorithms_CannotBeAllowed()
    {
        Validator(o => o.DpopAlgorithms = ["HS256", "none", "ES256"]).Algorithms.Should().BeEquivalentTo(["ES256"]);
    }

    private static string MakeWithoutJwk(ProofMaker m)
    {
        var parts = m.Make(AccessToken).Split('.');
        var header = JsonSerializer.Deserialize<Dictionary<string, object>>(Base64UrlEncoder.Decode(parts[0]))!;
        header.Remove("jwk");
        var newHeader = Base64UrlEncoder.Encode(JsonSerializer.Serialize(header));
        var signature = ((ECDsaSecurityKey)m.Key).ECDsa.SignData(Encoding.ASCII.GetBytes(newHeader + "." + parts[1]), HashAlgorithmName.SHA256);
        return $"{newHeader}.{parts[1]}.{Base64UrlEncoder.Encode(signature)}";
    }

    private static Dictionary<string, object> WithPrivate(ProofMaker m)
    {
        var members = m.PublicMembers();
        members["d"] = Base64UrlEncoder.Encode(((ECDsaSecurityKey)m.Key).ECDsa.ExportParameters(true).D);
        return members;
    }
}

public sealed class DpopBehaviorTests
{
    private const string Uri = "https://mcp.example.com/mcp";

    private static (DpopBehavior Behavior, FakeTimeProvider Clock, DpopNonces Nonces) Create(Action<McpAuthOptions>? configure = null)
    {
        var options = Opt.Of(o =>
        {
            o.Dpop = DpopMode.Allowed;
            configure?.Invoke(o);
        });
        var clock = Opt.Clock();
        var keys = new CacheKeys();
        var nonces = new DpopNonces(keys, options, clock);
        return (new DpopBehavior(options, new DpopProofValidator(options, clock), new InProcessDpopReplayCache(clock), nonces, keys), clock, nonces);
    }

    private static AuthenticateRequest Request(string token, AuthorizationScheme scheme, string? proof)
    {
        var request = new AuthenticateRequest((scheme == AuthorizationScheme.DPoP ? "DPoP " : "Bearer ") + token)
        {
            Dpop = new DpopRequest(proof, "POST", Uri),
        };
        request.State.Token = Tokens.Parse(token);
        request.State.Scheme = scheme;
        return request;
    }

    private static string Bound(ProofMaker maker) =>
        Tokens.Create(Tokens.Valid(("cnf", new Dictionary<string, object> { ["jkt"] = maker.Thumbprint })));

    private static async Task<AuthenticationOutcome> Run(DpopBehavior behavior, AuthenticateRequest request, Next next) =>
        await behavior.Handle(request, CancellationToken.None, next.Delegate);

    [Fact]
    public async Task BoundTokenWithItsProof_Passes_AndTheThumbprintIsRecorded()
    {
        var (behavior, _, _) = Create();
        var maker = new ProofMaker();
        var token = Bound(maker);
        var request = Request(token, AuthorizationScheme.DPoP, maker.Make(token));
        var next = new Next();
        (await Run(behavior, request, next)).Should().BeSameAs(Next.Passed);
        next.Calls.Should().Be(1);
        request.State.ProofKeyThumbprint.Should().Be(maker.Thumbprint);
    }

    public static TheoryData<string, AuthenticationErrorCode, string> Refusals => new()
    {
        { "BoundTokenAsBearer", AuthenticationErrorCode.InvalidToken, "The token is bound to a key (DPoP) and must be sent with the DPoP scheme and a proof." },
        { "UnboundTokenWithTheDpopScheme", AuthenticationErrorCode.InvalidToken, "The token is not bound to a key, so it cannot be sent with the DPoP scheme." },
        { "ProofOfAnotherKey", AuthenticationErrorCode.InvalidDpopProof, "The DPoP proof is signed with another key than the one the token is bound to." },
        { "ReplayedProof", AuthenticationErrorCode.InvalidDpopProof, "The DPoP proof was already used." },
        { "BearerWhenRequired", AuthenticationErrorCode.InvalidToken, "This server accepts DPoP-bound tokens only." },
        { "NoHttpFacts", AuthenticationErrorCode.Unavailable, "The server cannot check DPoP proofs here." },
        { "MissingProof", AuthenticationErrorCode.InvalidDpopProof, "The request has no DPoP proof." },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Refusal_StopsThePipeline(string name, AuthenticationErrorCode code, string description)
    {
        var (behavior, _, _) = Create(o => o.Dpop = name == "BearerWhenRequired" ? DpopMode.Required : DpopMode.Allowed);
        var maker = new ProofMaker();
        var bound = Bound(maker);
        AuthenticateRequest request = name switch
        {
            "BoundTokenAsBearer" => Request(bound, AuthorizationScheme.Bearer, null),
            "UnboundTokenWithTheDpopScheme" => Request(Tokens.Create(), AuthorizationScheme.DPoP, maker.Make(Tokens.Create())),
            "ProofOfAnotherKey" => Request(bound, AuthorizationScheme.DPoP, new ProofMaker().Make(bound)),
            "BearerWhenRequired" => Request(Tokens.Create(), AuthorizationScheme.Bearer, null),
            "MissingProof" => Request(bound, AuthorizationScheme.DPoP, null),
            _ => Request(bound, AuthorizationScheme.DPoP, maker.Make(bound)),
        };
        if (name == "NoHttpFacts")
        {
            request = new AuthenticateRequest("DPoP " + bound);
            request.State.Token = Tokens.Parse(bound);
            request.State.Scheme = AuthorizationScheme.DPoP;
        }

        if (name == "ReplayedProof")
        {
            var proof = maker.Make(bound, jti: "once");
            (await Run(behavior, Request(bound, AuthorizationScheme.DPoP, proof), new Next())).Should().BeSameAs(Next.Passed);
            request = Request(bound, AuthorizationScheme.DPoP, proof);
        }

        var next = new Next();
        var outcome = await Run(behavior, request, next);
        outcome.Error!.Code.Should().Be(code, name);
        outcome.Error.Description.Should().Be(description);
        outcome.Error.Stage.Should().Be("Dpop");
        next.Calls.Should().Be(0);
    }

    [Fact]
    public async Task UnboundBearer_WhenAllowed_PassesWithoutAProof()
    {
        var (behavior, _, _) = Create();
        var next = new Next();
        (await Run(behavior, Request(Tokens.Create(), AuthorizationScheme.Bearer, null), next)).Should().BeSameAs(Next.Passed);
    }

    [Fact]
    public async Task TheSameJti_FromAnotherKey_IsNotAReplay()
    {
        var (behavior, _, _) = Create();
        var a = new ProofMaker();
        var b = new ProofMaker();
        var ta = Bound(a);
        var tb = Bound(b);
        (await Run(behavior, Request(ta, AuthorizationScheme.DPoP, a.Make(ta, jti: "same")), new Next())).Should().BeSameAs(Next.Passed);
        (await Run(behavior, Request(tb, AuthorizationScheme.DPoP, b.Make(tb, jti: "same")), new Next())).Should().BeSameAs(Next.Passed);
    }

    [Fact]
    public async Task Nonces_MissingOrStaleIsUseDpopNonce_CurrentAndPreviousAreAccepted()
    {
        var (behavior, clock, nonces) = Create(o => o.DpopNonces = true);
        var maker = new ProofMaker();
        var token = Bound(maker);
        (await Run(behavior, Request(token, AuthorizationScheme.DPoP, maker.Make(token)), new Next())).Error!.Code.Should().Be(AuthenticationErrorCode.UseDpopNonce);
        var current = nonces.Current();
        (await Run(behavior, Request(token, AuthorizationScheme.DPoP, maker.Make(token, nonce: current)), new Next())).Should().BeSameAs(Next.Passed);

        clock.Advance(TimeSpan.FromMinutes(5)); // next window: the previous nonce is still accepted
        nonces.Current().Should().NotBe(current, "nonces rotate");
        (await Run(behavior, Request(token, AuthorizationScheme.DPoP, maker.Make(token, iat: clock.GetUtcNow(), nonce: current)), new Next())).Should().BeSameAs(Next.Passed);

        clock.Advance(TimeSpan.FromMinutes(5)); // two windows later: stale
        (await Run(behavior, Request(token, AuthorizationScheme.DPoP, maker.Make(token, iat: clock.GetUtcNow(), nonce: current)), new Next())).Error!.Code.Should().Be(AuthenticationErrorCode.UseDpopNonce);
    }
}
