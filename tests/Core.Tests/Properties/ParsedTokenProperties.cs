using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using McpAuth.Tokens;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Xunit.Abstractions;

namespace McpAuth.Core.Tests.Properties;

/// <summary>Properties of the token pre-parser <see cref="ParsedToken.TryParse"/>.</summary>
[Trait("Category", "Property")]
public sealed class ParsedTokenProperties(ITestOutputHelper output)
{
    private const int Cases = 600;
    private const int MaxTokenBytes = 16 * 1024;

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>Tokens made by IdentityModel itself (HMAC-signed, so cheap), with random well-typed claims.</summary>
    private static readonly Gen<string> RealJwt =
        from payload in JwtGen.WellTypedPayload
        from alg in Gen.Elements(SecurityAlgorithms.HmacSha256, SecurityAlgorithms.HmacSha384, SecurityAlgorithms.HmacSha512)
        from typ in Gen.Elements("at+jwt", "JWT", null)
        from key in Gen.Choose(0, int.MaxValue)
        let credentials = new SigningCredentials(new SymmetricSecurityKey(Key(key)), alg)
        select typ is null
            ? Handler.CreateToken(payload, credentials)
            : Handler.CreateToken(payload, credentials, new Dictionary<string, object> { [JwtHeaderParameterNames.Typ] = typ });

    private static readonly Gen<string> AnyToken = Gen.Frequency(
        (2, TextGen.String),
        (2, JwtGen.ThreeParts),
        (4, JwtGen.Hostile),
        (2, RealJwt.SelectMany(JwtGen.Mutate)),
        (1, JwtGen.WellFormed));

    private static readonly Gen<int> MaxLength = Gen.Frequency((8, Gen.Constant(MaxTokenBytes)), (2, Gen.Choose(0, 400)));

    [Fact]
    public void TryParse_NeverThrows_ReturnsATokenOrASafeError()
    {
        var cases = Arb.From(Gen.Zip(AnyToken, MaxLength), c => TextGen.Shrink(c.Item1).Select(t => (t, c.Item2)));
        PropertyRun.Check(output, Prop.ForAll(cases, c =>
        {
            var (token, maxLength) = c;
            var parsed = ParsedToken.TryParse(token, maxLength, out var error);
            Expect.That(parsed is null == error is not null, $"result {(parsed is null ? "null" : "set")} but error {PropertyRun.Show(error)}");
            if (error is not null)
            {
                Expect.That(error.Length <= 160, $"error of {error.Length} chars");
                Expect.That(!SharesLongRun(error, token), $"error {PropertyRun.Show(error)} repeats part of the token");
            }
            else
            {
                Expect.That(parsed!.Raw == token && token.Length <= maxLength, "the parsed token is the input, within maxLength");
                Expect.That(ParsedToken.SupportedAlgorithms.Contains(parsed.Jwt!.Alg), $"alg {PropertyRun.Show(parsed.Jwt!.Alg)} accepted");
                Expect.That(ParsedToken.IsAccessTokenType(parsed.Jwt.Typ), $"typ {PropertyRun.Show(parsed.Jwt.Typ)} accepted");
                Expect.That(!parsed.Jwt.TryGetHeaderValue<object>("crit", out _), "crit accepted");
                _ = parsed.Claims.Count + parsed.Scopes.Count + parsed.Audiences.Count; // every derived value is readable
            }

            return Prop.ToProperty(true).Collect(error is null ? "accepted" : "refused: " + Regex.Replace(error, @"\b[0-9]+\b", "N"));
        }), Cases);
    }

    [Fact]
    public void TryParse_AlwaysRefuses_AlgNone_Crit_AndAnyTypOtherThanAnAccessTokenType()
    {
        var nameOf = (string name) => JsonGen.Literal(name);
        var algNone =
            from name in nameOf("alg")
            from value in Gen.Elements("none", "None", "NONE", "nOnE", "none ", " none", "", "none\u0000")
            from typ in JwtGen.AllowedTyp
            select ("alg " + PropertyRun.Show(value), $"{{{name}:\"{value.Replace("\0", "\\u0000")}\"{typ}}}");
        var crit =
            from alg in Gen.Elements(JwtGen.Algorithms)
            from name in nameOf("crit")
            from value in Gen.Frequency((3, Gen.Elements("[\"exp\"]", "[\"b64\"]", "[]", "null", "\"b64\"", "{}", "0", "[\"\"]")), (1, JsonGen.Value(2)))
            from typ in JwtGen.AllowedTyp
            from first in Gen.Elements(true, false)
            select ("crit " + value, first ? $"{{{name}:{value},\"alg\":\"{alg}\"{typ}}}" : $"{{\"alg\":\"{alg}\"{typ},{name}:{value}}}");
        var foreignTyp =
            from alg in Gen.Elements(JwtGen.Algorithms)
            from name in nameOf("typ")
            from value in Gen.Frequency(
                (3, Gen.Elements("id_token", "JWT+dpop", "dpop+jwt", "logout+jwt", "secevent+jwt", "at+jwt ", " JWT", "at+jwt\\u0000", "JW T",
                    "application/jwt", "application/at+jwt;q=1", "jwt\\u212a", "at\\u002bjwt2", "JOSE", "at+jw\\u0074x").SelectMany(JsonGen.Literal)),
                (2, TextGen.String.Where(s => s.Length > 0 && !ParsedToken.IsAccessTokenType(s)).SelectMany(JsonGen.Literal)),
                (2, Gen.Elements("1", "0", "true", "false", "[\"at+jwt\"]", "[]", "{}", "{\"typ\":\"JWT\"}", "1.5")))
            select ("typ " + value, $"{{\"alg\":\"{alg}\",{name}:{value}}}");
        var cases = Arb.From(
            from header in Gen.OneOf(algNone, crit, foreignTyp)
            from payload in JwtGen.WellTypedPayload
            from signature in Gen.Frequency((1, Gen.Constant(string.Empty)), (4, JwtGen.Signature))
            select new Case(header.Item1, JwtGen.Token(header.Item2, payload, signature)));

        PropertyRun.Check(output, Prop.ForAll(cases, c =>
        {
            var parsed = ParsedToken.TryParse(c.Token, MaxTokenBytes, out var error);
            Expect.That(parsed is null && error is not null, $"{c.Label}: accepted");
            return Prop.ToProperty(true).Collect($"{c.Label.Split(' ')[0]} -> {error}");
        }), Cases);
    }

    [Fact]
    public void TryParse_RefusesEveryTokenLongerThanMaxLength_AndAcceptsItWithin()
    {
        var cases = Arb.From(
            from token in Gen.Frequency((3, JwtGen.WellFormed), (1, RealJwt))
            from under in Gen.Choose(1, 100000)
            from over in Gen.Choose(0, 100000)
            select (Token: token, Short: Math.Max(0, token.Length - under), Enough: token.Length + over));

        PropertyRun.Check(output, Prop.ForAll(cases, c =>
        {
            Expect.That(ParsedToken.TryParse(c.Token, c.Short, out var error) is null && error is not null, $"a {c.Token.Length}-char token passed maxLength {c.Short}");
            Expect.That(ParsedToken.TryParse(c.Token, c.Enough, out error) is not null, $"refused within maxLength: {error}");
        }), Cases);
    }

    [Fact]
    public void TryParse_AcceptsWellFormedAccessTokens_AndReadsTheirClaims()
    {
        var cases = Arb.From(Gen.Frequency((3, JwtGen.WellFormed), (1, RealJwt)));
        PropertyRun.Check(output, Prop.ForAll(cases, token =>
        {
            var parsed = ParsedToken.TryParse(token, MaxTokenBytes, out var error);
            Expect.That(parsed is not null, $"refused: {error} {PropertyRun.Show(Decoded(token), 2000)}");
            Expect.That(parsed!.Raw == token && parsed.Issuer == "https://issuer.test" && parsed.ExpiresAt is not null, "claims read");
            Expect.That(parsed.Scopes.All(s => s.Length > 0 && !s.Any(char.IsWhiteSpace)), "scopes are split on whitespace");
        }), Cases);
    }

    /// <summary>A generated case with a label shown in counterexamples.</summary>
    public sealed record Case(string Label, string Token)
    {
        public override string ToString() => $"{Label}: {PropertyRun.Show(Decoded(Token), 600)}";
    }

    private static byte[] Key(int seed)
    {
        var key = new byte[64];
        new Random(seed).NextBytes(key);
        return key;
    }

    // The header and payload as text, for counterexamples.
    private static string Decoded(string token)
    {
        var parts = token.Split('.');
        return string.Join(" . ", parts.Take(2).Select(p =>
        {
            try
            {
                return System.Text.Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(p));
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException)
            {
                return p;
            }
        })) + (parts.Length > 2 ? " . " + parts[2] : string.Empty);
    }

    // True when the error repeats a run of more than 8 characters of the token.
    private static bool SharesLongRun(string error, string token)
    {
        for (var i = 0; i + 9 <= error.Length; i++)
        {
            if (token.AsSpan().IndexOf(error.AsSpan(i, 9), StringComparison.Ordinal) >= 0)
            {
                return true;
            }
        }

        return false;
    }
}
