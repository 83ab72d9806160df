using FsCheck;
using FsCheck.Fluent;
using McpAuth.Tokens;
using Xunit.Abstractions;

namespace McpAuth.Core.Tests.Properties;

/// <summary>Properties of the Authorization-header parser <see cref="BearerToken.TryGet"/>.</summary>
[Trait("Category", "Property")]
public sealed class BearerTokenProperties(ITestOutputHelper output)
{
    private const int Cases = 2000;

    /// <summary>Header values: FsCheck's strings (null included), hostile text, and near-misses of "Bearer &lt;token&gt;".</summary>
    private static readonly Arbitrary<string?> Headers = Arb.From(
        Gen.Frequency(
            (2, ArbMap.Default.GeneratorFor<string?>()),
            (2, TextGen.String.Select(s => (string?)s)),
            (6, from lead in TextGen.Spaces(3)
                from scheme in Gen.Frequency(
                    (6, TextGen.RandomCase("Bearer")),
                    (2, Gen.Elements("Bear", "Bearerx", "Basic", "B\u0435arer", "Bearer\u0131", "BEARER\0", "\uFEFFBearer", "Be arer", "")),
                    (1, TextGen.RandomCase("Bearer").SelectMany(s => Gen.Choose(0, 5).Select(i => s.Remove(i, 1).Insert(i, "\u212A")))))
                from separator in Gen.Elements("", " ", "  ", "\t", "\u00A0", ",", "=", "\u3000", " \t ")
                from body in Gen.Frequency((3, TextGen.Base64Url(0, 60)), (2, TextGen.String))
                from trail in TextGen.Spaces(3)
                select (string?)(lead + scheme + separator + body + trail))),
        s => s is null ? [] : TextGen.Shrink(s));

    [Fact]
    public void TryGet_NeverThrows_AndAcceptsExactlyTrimmedBearerFollowedByEndOrSpace()
    {
        PropertyRun.Check(output, Prop.ForAll(Headers, header =>
        {
            var accepted = BearerToken.TryGet(header, out var span);
            var token = span.ToString();
            var expected = Expected(header, out var expectedToken);
            Expect.That(accepted == expected, $"TryGet returned {accepted}, the rule says {expected}");
            Expect.That(!accepted || token == expectedToken, $"token {PropertyRun.Show(token)}, expected {PropertyRun.Show(expectedToken)}");
            Expect.That(accepted || token.Length == 0, "a refused header yields no token");
            Expect.That(!token.StartsWith(' ') && !token.EndsWith(' '), $"token {PropertyRun.Show(token)} has a leading or trailing space");
            return Prop.ToProperty(true).Collect(!accepted ? "refused" : token.Length == 0 ? "accepted, empty token" : "accepted");
        }), Cases);
    }

    [Fact]
    public void TryGet_RoundTrips_Base64UrlTokens_UnderAnySchemeCasingAndSpacing()
    {
        var cases = Arb.From(
            from token in Gen.Frequency(
                (3, TextGen.Base64Url(1, 200)),
                (2, Gen.Three(TextGen.Base64Url(1, 80)).Select(p => $"{p.Item1}.{p.Item2}.{p.Item3}")),
                (1, Gen.Constant(string.Empty)))
            from lead in TextGen.Spaces(4)
            from scheme in TextGen.RandomCase("Bearer")
            from gap in Gen.Choose(1, 6).Select(n => new string(' ', n))
            from trail in TextGen.Spaces(4)
            select (Token: token, Header: lead + scheme + gap + token + trail));

        PropertyRun.Check(output, Prop.ForAll(cases, c =>
        {
            Expect.That(BearerToken.TryGet(c.Header, out var token), $"refused {PropertyRun.Show(c.Header)}");
            Expect.That(token.SequenceEqual(c.Token), $"{PropertyRun.Show(c.Header)} gave {PropertyRun.Show(token.ToString())}, not {PropertyRun.Show(c.Token)}");
        }), Cases);
    }

    // The rule, written independently: trim (Unicode whitespace), an ASCII "Bearer" in any case, then the end or a space;
    // the token is the rest without surrounding spaces.
    private static bool Expected(string? header, out string token)
    {
        token = string.Empty;
        var value = header?.Trim();
        if (value is null || value.Length < 6 || !value[..6].All(char.IsAscii) || !value[..6].Equals("bearer", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (value.Length > 6 && value[6] != ' ')
        {
            return false;
        }

        token = value[6..].Trim(' ');
        return true;
    }
}
