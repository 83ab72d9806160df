using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using Xunit.Abstractions;

namespace McpAuth.AspNetCore.Tests.Properties;

/// <summary>
/// "No token not signed by the issuer is ever accepted", through the real pipeline (<c>AddMcpAuth().AddOidcProvider()</c>)
/// against an in-memory issuer with one RSA key. Each case may sign with RSA, so the case counts are moderate: in fuzz
/// mode these properties run <c>MCPAUTH_FUZZ_CASES / 10</c> cases (about 5 ms each: RSA signatures and key refreshes).
/// </summary>
[Trait("Category", "Property")]
public sealed class IssuerSignatureProperties(IssuerSignatureProperties.Fixture fixture, ITestOutputHelper output)
    : IClassFixture<IssuerSignatureProperties.Fixture>
{
    private const int FuzzDivisor = 10;

    /// <summary>The issuer, and keys that are not the issuer's.</summary>
    public sealed class Fixture : IDisposable
    {
        public Fixture()
        {
            // Keys are made lazily, on first use: make them now, outside the timed properties, and fetch the issuer's keys.
            foreach (var key in OtherRsa.Prepend(Issuer.Rsa))
            {
                _ = key.ExportParameters(false);
            }

            _ = Issuer.Authenticate("warm.up.token");
        }

        public TestIssuer Issuer { get; } = new();

        public RSA[] OtherRsa { get; } = [.. Enumerable.Range(0, 3).Select(_ => RSA.Create(2048))];

        public ECDsa[] OtherEc { get; } =
        [
            ECDsa.Create(ECCurve.NamedCurves.nistP256), ECDsa.Create(ECCurve.NamedCurves.nistP384), ECDsa.Create(ECCurve.NamedCurves.nistP521),
        ];

        public void Dispose()
        {
            Issuer.Dispose();
            foreach (var key in OtherRsa)
            {
                key.Dispose();
            }

            foreach (var key in OtherEc)
            {
                key.Dispose();
            }
        }
    }

    /// <summary>One generated token and how it was made (shown in counterexamples).</summary>
    public sealed record Case(string Kind, string Token, string? Family = null)
    {
        public override string ToString() => $"{Kind}: {Describe(Token)}";
    }

    private static readonly string[] RsaAlgs = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];

    private TestIssuer Issuer => fixture.Issuer;

    [Fact]
    public void Pipeline_NeverAcceptsATokenTheIssuerDidNotSign()
    {
        var forgeries = Arb.From(Gen.OneOf(
            OtherRsaSigned(), OtherEcSigned(), HmacKeyedByThePublicKey(), AlgNone(), ValidPayloadResigned(),
            ValidTokenTampered(), PartsSwapped(), EmbeddedKey()));
        PropertyRun.Check(output, Prop.ForAll(forgeries, c =>
        {
            var outcome = Issuer.Authenticate(c.Token);
            Expect.That(outcome.Kind == AuthenticationOutcomeKind.Failure, $"{c.Kind}: {outcome}");
            Expect.That(outcome.Error!.Code == AuthenticationErrorCode.InvalidToken, $"{c.Kind}: {outcome} (a forged token is invalid, not a fault)");
            return Prop.ToProperty(true).Collect($"{c.Family ?? c.Kind} -> {outcome.Error.Stage}");
        }), normalCases: 100, FuzzDivisor);
    }

    [Fact]
    public void Pipeline_AcceptsTokensTheIssuerSigned_WithValidClaims()
    {
        var tokens = Arb.From(
            from alg in Gen.Elements(RsaAlgs)
            from kid in Gen.Elements(true, false)
            from typ in Gen.Elements("at+jwt", "JWT", "application/at+jwt", null)
            from claims in Claims
            select new Case($"issuer {alg}{(kid ? " kid" : string.Empty)} typ {typ ?? "-"}", IssuerSigned(alg, claims, kid ? TestIssuer.Kid : null, typ)));
        PropertyRun.Check(output, Prop.ForAll(tokens, c =>
        {
            var outcome = Issuer.Authenticate(c.Token);
            Expect.That(outcome.Succeeded, $"{c.Kind}: {outcome}");
            Expect.That(outcome.Principal!.Subject == "alice", "the principal is the token's subject");
        }), normalCases: 30, FuzzDivisor);
    }

    [Fact]
    public void Pipeline_RefusesIssuerSignedTokens_WithAnInvalidClaimOrHeader()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var bad = Gen.Elements<(string Kind, Func<Dictionary<string, object>, Dictionary<string, object>> Edit, string? Typ, bool Crit)>(
            ("expired", c => With(c, "exp", now - 3600), "at+jwt", false),
            ("not yet valid", c => With(c, "nbf", now + 3600), "at+jwt", false),
            ("no exp", c => Without(c, "exp"), "at+jwt", false),
            ("other issuer", c => With(c, "iss", "https://issuer.properties.evil"), "at+jwt", false),
            ("issuer with trailing slash", c => With(c, "iss", TestIssuer.Issuer + "/"), "at+jwt", false),
            ("other audience", c => With(c, "aud", "https://mcp.properties/other"), "at+jwt", false),
            ("no audience", c => Without(c, "aud"), "at+jwt", false),
            ("audience case", c => With(c, "aud", TestIssuer.Audience.ToUpperInvariant()), "at+jwt", false),
            ("id token typ", c => c, "id_token+jwt", false),
            ("dpop typ", c => c, "dpop+jwt", false),
            ("crit", c => c, "at+jwt", true));
        var tokens = Arb.From(
            from b in bad
            from alg in Gen.Elements(RsaAlgs)
            from claims in Claims
            select new Case(b.Kind, IssuerSigned(alg, b.Edit(claims), TestIssuer.Kid, b.Typ, b.Crit)));
        PropertyRun.Check(output, Prop.ForAll(tokens, c =>
        {
            var outcome = Issuer.Authenticate(c.Token);
            Expect.That(outcome.Kind == AuthenticationOutcomeKind.Failure && outcome.Error!.Code == AuthenticationErrorCode.InvalidToken, $"{c.Kind}: {outcome}");
            return Prop.ToProperty(true).Collect($"{c.Kind} -> {outcome.Error!.Stage}");
        }), normalCases: 30, FuzzDivisor);
    }

    // ---- Claims -------------------------------------------------------------------------------------------------------

    /// <summary>Claims the issuer could have put in a token for this server: valid lifetime and audience, random extras.</summary>
    private static Gen<Dictionary<string, object>> Claims { get; } =
        from lifetime in Gen.Choose(120, 86400)
        from audienceArray in Gen.Elements(true, false)
        from scope in Gen.Elements("read", "read write", "mcp:admin", "")
        from extras in Gen.Zip(JsonGen.SafeText, JsonGen.SafeText).UpTo(5)
        select Valid(lifetime, audienceArray, scope, extras);

    private static Dictionary<string, object> Valid(int lifetime, bool audienceArray, string scope, IEnumerable<(string, string)> extras)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new Dictionary<string, object>
        {
            ["iss"] = TestIssuer.Issuer,
            ["sub"] = "alice",
            ["aud"] = audienceArray ? new[] { "https://other.example", TestIssuer.Audience } : TestIssuer.Audience,
            ["exp"] = now + lifetime,
            ["nbf"] = now - 30,
            ["iat"] = now - 30,
            ["scope"] = scope,
        };
        foreach (var (name, value) in extras)
        {
            claims["x-" + name] = value;
        }

        return claims;
    }

    private static Dictionary<string, object> With(Dictionary<string, object> claims, string name, object value)
    {
        claims[name] = value;
        return claims;
    }

    private static Dictionary<string, object> Without(Dictionary<string, object> claims, string name)
    {
        claims.Remove(name);
        return claims;
    }

    private static string Json(object value) => JsonSerializer.Serialize(value);

    private static string Header(string alg, string? kid, string? typ = "at+jwt", bool crit = false, IDictionary<string, object>? more = null)
    {
        var header = new Dictionary<string, object> { ["alg"] = alg };
        if (typ is not null)
        {
            header["typ"] = typ;
        }

        if (kid is not null)
        {
            header["kid"] = kid;
        }

        if (crit)
        {
            header["crit"] = new[] { "exp" };
            header["exp"] = 0;
        }

        foreach (var (name, value) in more ?? new Dictionary<string, object>())
        {
            header[name] = value;
        }

        return Json(header);
    }

    private string IssuerSigned(string alg, Dictionary<string, object> claims, string? kid, string? typ = "at+jwt", bool crit = false) =>
        TestIssuer.Jws(Header(alg, kid, typ, crit), Json(claims), TestIssuer.Signer(alg, Issuer.Rsa));

    // ---- Forgeries ----------------------------------------------------------------------------------------------------

    /// <summary>The kids a forger would try: the issuer's, none, look-alikes, others.</summary>
    private static Gen<string?> ForgedKid { get; } = Gen.Frequency(
        (4, Gen.Constant<string?>(TestIssuer.Kid)),
        (3, Gen.Constant<string?>(null)),
        (1, Gen.Elements<string?>("RSA-1", "rsa-1 ", " rsa-1", "rsa-1\0", "rsa-\u0131", "../rsa-1", "", "rsa-2", "ec-1")));

    private Gen<Case> OtherRsaSigned() =>
        from key in Gen.Choose(0, fixture.OtherRsa.Length - 1)
        from alg in Gen.Elements(RsaAlgs)
        from kid in ForgedKid
        from claims in Claims
        select new Case($"other RSA key, {alg}, kid {Show(kid)}", TestIssuer.Jws(Header(alg, kid), Json(claims), TestIssuer.Signer(alg, fixture.OtherRsa[key])), "other RSA key");

    private Gen<Case> OtherEcSigned() =>
        from fresh in Gen.Elements(true, false)
        from key in Gen.Choose(0, fixture.OtherEc.Length - 1)
        from alg in Gen.Elements("ES256", "ES384", "ES512")
        from kid in ForgedKid
        from claims in Claims
        select new Case($"other EC key, {alg}, kid {Show(kid)}", TestIssuer.Jws(Header(alg, kid), Json(claims),
            TestIssuer.Signer(alg, fresh ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : fixture.OtherEc[key])), "other EC key");

    /// <summary>The classic key confusion: an HMAC whose secret is the issuer's public key, in every encoding it has.</summary>
    private Gen<Case> HmacKeyedByThePublicKey()
    {
        var rsa = Issuer.Rsa;
        var jwk = Issuer.PublicJwk;
        (string Name, byte[] Secret)[] secrets =
        [
            ("SubjectPublicKeyInfo", rsa.ExportSubjectPublicKeyInfo()),
            ("RSAPublicKey", rsa.ExportRSAPublicKey()),
            ("PEM", Encoding.ASCII.GetBytes(rsa.ExportSubjectPublicKeyInfoPem())),
            ("PEM with newline", Encoding.ASCII.GetBytes(rsa.ExportSubjectPublicKeyInfoPem() + "\n")),
            ("PKCS#1 PEM", Encoding.ASCII.GetBytes(rsa.ExportRSAPublicKeyPem())),
            ("JWKS", Encoding.UTF8.GetBytes(Issuer.Jwks())),
            ("modulus", rsa.ExportParameters(false).Modulus!),
            ("n", Encoding.ASCII.GetBytes(jwk.N)),
        ];
        return
            from secret in Gen.Elements(secrets)
            from alg in Gen.Elements("HS256", "HS384", "HS512")
            from kid in ForgedKid
            from claims in Claims
            select new Case($"{alg} keyed by the public key ({secret.Name}), kid {Show(kid)}", TestIssuer.Jws(Header(alg, kid), Json(claims), TestIssuer.Signer(alg, secret.Secret)),
                "HMAC keyed by the public key");
    }

    private Gen<Case> AlgNone() =>
        from alg in Gen.Elements("none", "None", "NONE", "nOnE")
        from kid in ForgedKid
        from claims in Claims
        from signature in Gen.Elements("empty", "valid token's", "random")
        let valid = IssuerSigned("RS256", claims, TestIssuer.Kid)
        let input = $"{TextGen.B64(Header(alg, kid))}.{TextGen.B64(Json(claims))}"
        select new Case($"alg {alg}, kid {Show(kid)}, {signature} signature", signature switch
        {
            "empty" => input + ".",
            "valid token's" => input + "." + valid.Split('.')[2],
            _ => input + "." + TextGen.B64(RandomNumberGenerator.GetBytes(256)),
        }, "alg none");

    /// <summary>A valid token's payload, signed again by a key that is not the issuer's, under the issuer's header.</summary>
    private Gen<Case> ValidPayloadResigned() =>
        from claims in Claims
        from alg in Gen.Elements(RsaAlgs)
        from key in Gen.Choose(0, fixture.OtherRsa.Length - 1)
        let valid = IssuerSigned(alg, claims, TestIssuer.Kid)
        let parts = valid.Split('.')
        let input = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1])
        select new Case($"valid {alg} token re-signed by another key", $"{parts[0]}.{parts[1]}.{TextGen.B64(TestIssuer.Signer(alg, fixture.OtherRsa[key])(input))}",
            "valid payload re-signed");

    /// <summary>A valid token with its payload or header changed and the issuer's signature kept.</summary>
    private Gen<Case> ValidTokenTampered() =>
        from claims in Claims
        from alg in Gen.Elements(RsaAlgs)
        from edit in Gen.Elements("sub", "scope", "exp", "aud", "header alg", "header kid", "payload bit", "signature bit", "whitespace")
        from seed in Gen.Choose(0, int.MaxValue)
        let valid = IssuerSigned(alg, claims, TestIssuer.Kid)
        select new Case($"valid {alg} token, {edit} changed", Tamper(valid, claims, alg, edit, new Random(seed)), $"valid token, {edit} changed");

    private string Tamper(string valid, Dictionary<string, object> claims, string alg, string edit, Random random)
    {
        var parts = valid.Split('.');
        string Payload(string name, object value) => TextGen.B64(Json(With(new Dictionary<string, object>(claims), name, value)));
        switch (edit)
        {
            case "sub": parts[1] = Payload("sub", "admin"); break;
            case "scope": parts[1] = Payload("scope", claims["scope"] + " mcp:admin"); break;
            case "exp": parts[1] = Payload("exp", (long)claims["exp"] + 1); break;
            case "aud": parts[1] = Payload("aud", new[] { TestIssuer.Audience, "https://else" }); break;
            case "header alg": parts[0] = TextGen.B64(Header(RsaAlgs.Where(a => a != alg).ElementAt(random.Next(RsaAlgs.Length - 1)), TestIssuer.Kid)); break;
            case "header kid": parts[0] = TextGen.B64(Header(alg, null)); break;
            case "whitespace": parts[1] = TextGen.B64(Json(claims) + " "); break;
            default:
                {
                    var i = edit == "payload bit" ? 1 : 2;
                    var chars = parts[i].ToCharArray();
                    var at = random.Next(chars.Length - 1); // not the last char: its low bits may be padding
                    var index = TextGen.Base64UrlAlphabet.IndexOf(chars[at]);
                    chars[at] = TextGen.Base64UrlAlphabet[index ^ (1 << random.Next(6))];
                    parts[i] = new string(chars);
                    break;
                }
        }

        return string.Join('.', parts);
    }

    /// <summary>Parts of two valid tokens put together wrongly.</summary>
    private Gen<Case> PartsSwapped() =>
        from a in Claims
        from b in Claims
        from alg in Gen.Elements(RsaAlgs)
        from swap in Gen.Elements("payload.header.signature", "header.header.signature", "A header, B payload, A signature", "A header, A payload, B signature")
        let ta = IssuerSigned(alg, With(a, "sub", "alice"), TestIssuer.Kid).Split('.')
        let tb = IssuerSigned(alg, With(b, "sub", "mallory"), TestIssuer.Kid).Split('.')
        select new Case($"{alg}: {swap}", Swap(ta, tb, swap), swap);

    private static string Swap(string[] ta, string[] tb, string swap) => swap switch
    {
        "payload.header.signature" => $"{ta[1]}.{ta[0]}.{ta[2]}",
        "header.header.signature" => $"{ta[0]}.{ta[0]}.{ta[2]}",
        "A header, B payload, A signature" => $"{ta[0]}.{tb[1]}.{ta[2]}",
        _ => $"{ta[0]}.{ta[1]}.{tb[2]}",
    };

    /// <summary>The forger's own key carried in the header (jwk), or pointed at (jku, x5u), signed by that key.</summary>
    private Gen<Case> EmbeddedKey() =>
        from key in Gen.Choose(0, fixture.OtherRsa.Length - 1)
        from alg in Gen.Elements(RsaAlgs)
        from kid in ForgedKid
        from how in Gen.Elements("jwk", "jku", "x5u")
        from claims in Claims
        let forger = fixture.OtherRsa[key]
        let p = forger.ExportParameters(false)
        let more = new Dictionary<string, object>
        {
            [how] = how == "jwk"
                ? new { kty = "RSA", kid = kid ?? "forger", n = TextGen.B64(p.Modulus!), e = TextGen.B64(p.Exponent!) }
                : "https://forger.example/keys",
        }
        select new Case($"{how} header, {alg}, kid {Show(kid)}", TestIssuer.Jws(Header(alg, kid, more: more), Json(claims), TestIssuer.Signer(alg, forger)), $"forger's key in {how}");

    private static string Show(string? kid) => kid is null ? "none" : PropertyRun.Show(kid);

    private static string Describe(string token)
    {
        var parts = token.Split('.');
        return string.Join(" . ", parts.Take(2).Select(p =>
        {
            try
            {
                return Encoding.UTF8.GetString(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(p));
            }
            catch (FormatException)
            {
                return p;
            }
        })) + " . <signature>";
    }
}
