using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

// Shared by the property tests of Core.Tests and AspNetCore.Tests (linked into both projects).
namespace McpAuth.Tests.Properties;

/// <summary>Generators of hostile text: Unicode whitespace, controls, lone surrogates, case-folding look-alikes.</summary>
internal static class TextGen
{
    /// <summary>Every UTF-16 code unit that <see cref="char.IsWhiteSpace(char)"/> accepts (what <c>Trim()</c> removes).</summary>
    public static readonly char[] Whitespace = Enumerable.Range(0, 0x10000).Select(i => (char)i).Where(char.IsWhiteSpace).ToArray();

    /// <summary>Characters that fold to ASCII letters under some case mapping, invisible ones, a BOM.</summary>
    public static readonly char[] LookAlikes = ['\u0130', '\u0131', '\u017F', '\u212A', '\u0392', '\u0395', '\u0391', '\uFF22', '\uFEFF', '\u200B', '\u00A0', '\u2028', '\0'];

    public const string Base64UrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    public static Gen<char> Char { get; } = Gen.Frequency(
        (40, Gen.Choose(0x20, 0x7E).Select(i => (char)i)),
        (8, Gen.Elements(Whitespace)),
        (4, Gen.Choose(0, 0x1F).Select(i => (char)i)),
        (4, Gen.Choose(0x7F, 0x2FF).Select(i => (char)i)),
        (4, Gen.Choose(0xD800, 0xDFFF).Select(i => (char)i)),
        (4, Gen.Choose(0x300, 0xFFFF).Select(i => (char)i)),
        (4, Gen.Elements(LookAlikes)));

    /// <summary>Any string of <see cref="Char"/>, its length growing with the size.</summary>
    public static Gen<string> String { get; } = Char.ArrayOf().Select(a => new string(a));

    public static Gen<char> Base64UrlChar { get; } = Gen.Elements(Base64UrlAlphabet.ToCharArray());

    public static Gen<string> Base64Url(int min, int max) =>
        Gen.Choose(min, max).SelectMany(n => Base64UrlChar.ArrayOf(n)).Select(a => new string(a));

    /// <summary><paramref name="word"/> with each letter's case chosen at random.</summary>
    public static Gen<string> RandomCase(string word) =>
        Gen.Elements(true, false).ArrayOf(word.Length).Select(upper =>
            new string(word.Select((c, i) => upper[i] ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c)).ToArray()));

    /// <summary>Runs of whitespace: spaces, tabs, or any Unicode whitespace.</summary>
    public static Gen<string> Spaces(int max) => Gen.Frequency(
            (4, Gen.Constant(' ')),
            (1, Gen.Constant('\t')),
            (2, Gen.Elements(Whitespace)))
        .ArrayOf().Select(a => new string(a.Take(max).ToArray()));

    /// <summary>The shrinker of FsCheck's own strings (shorter, simpler characters).</summary>
    public static IEnumerable<string> Shrink(string value) =>
        value is null ? [] : ArbMap.Default.ArbFor<string>().Shrinker(value).Where(s => s is not null);

    public static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string B64(string text) => B64(Encoding.UTF8.GetBytes(text));
}

/// <summary>Bounded lists: FsCheck's <c>ListOf()</c> grows with the size (up to 100 elements), too many for nested values.</summary>
internal static class GenExtensions
{
    /// <summary>A list of <paramref name="min"/> to <paramref name="max"/> elements.</summary>
    public static Gen<List<T>> Between<T>(this Gen<T> gen, int min, int max) =>
        Gen.Choose(min, max).SelectMany(n => gen.ListOf(n)).Select(l => l.ToList());

    /// <summary>A list of at most <paramref name="max"/> elements.</summary>
    public static Gen<List<T>> UpTo<T>(this Gen<T> gen, int max) => gen.Between(0, max);
}

/// <summary>Raw JSON text, hostile on purpose: escapes (lone surrogates too), huge numbers, deep nesting, duplicates.</summary>
internal static class JsonGen
{
    public static Gen<string> Number { get; } = Gen.OneOf(
        Gen.Choose(-1000, 1000).Select(i => i.ToString(CultureInfo.InvariantCulture)),
        Gen.Choose(int.MinValue, int.MaxValue).Select(i => ((long)i * 1_000_003L).ToString(CultureInfo.InvariantCulture)),
        Gen.Elements(
            "0", "-0", "1.5", "-1.5", "1e3", "1E+2", "1.5e308", "-1.5e308", "1e400", "-1e400", "5e-324", "1e-400",
            "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551616",
            "253402300799", "253402300800", "123456789012345678901234567890", "0.0000000000000000000001",
            "79228162514264337593543950336", "1.0", "4102444800", "-62135596800"));

    /// <summary>A JSON string literal (quotes included) of <paramref name="text"/>, escaping characters at random.</summary>
    public static Gen<string> Literal(string text) =>
        Gen.Choose(0, 3).SelectMany(style => Gen.Choose(0, int.MaxValue).Select(seed => Quote(text, style, seed)));

    /// <summary>A string literal of random text with random escapes, including escapes of lone surrogates.</summary>
    public static Gen<string> StringLiteral { get; } = Gen.Frequency(
            (6, TextGen.String),
            (2, Gen.Elements("tools/call", "at+jwt", "JWT", "none", "RS256", "alice", "read write", "https://issuer.test", "")),
            (1, Gen.Choose(1000, 12000).Select(n => new string('x', n))))
        .SelectMany(Literal);

    public static Gen<string> Value(int depth) =>
        depth <= 0
            ? Leaf
            : Gen.Frequency(
                (5, Leaf),
                (2, Value(depth - 1).UpTo(6).Select(items => "[" + string.Join(",", items) + "]")),
                (2, Object(depth - 1)),
                (1, Gen.Choose(1, 80).Select(n => new string('[', n) + "1" + new string(']', n))));

    /// <summary>Values any JSON reader takes: no lone surrogates, numbers within long/double range, shallow.</summary>
    public static Gen<string> SafeValue(int depth) =>
        depth <= 0
            ? SafeLeaf
            : Gen.Frequency(
                (5, SafeLeaf),
                (2, SafeValue(depth - 1).UpTo(6).Select(items => "[" + string.Join(",", items) + "]")),
                (2, Gen.Zip(SafeName, SafeValue(depth - 1)).UpTo(6).Select(m => ObjectOf(m.DistinctBy(x => x.Item1).Select(x => (x.Item1, x.Item2))))));

    public static Gen<string> SafeText { get; } = TextGen.String.Select(s => new string(s.Where(c => !char.IsSurrogate(c)).ToArray()));

    public static Gen<string> SafeLeaf { get; } = Gen.Frequency(
        (3, SafeText.SelectMany(Literal)),
        (3, Gen.Choose(int.MinValue, int.MaxValue).Select(i => i.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.Elements("1.5", "-0.25", "1e3", "0")),
        (1, Gen.Elements("null", "true", "false")));

    public static Gen<string> SafeName { get; } = SafeText.Select(s => "\"x-" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"")
        .Select(n => new string(n.Select(c => c < 0x20 ? ' ' : c).ToArray()));

    public static Gen<string> Leaf { get; } = Gen.Frequency(
        (3, StringLiteral),
        (3, Number),
        (1, Gen.Elements("null", "true", "false")));

    public static Gen<string> Object(int depth) =>
        Gen.Zip(Name, Value(depth)).UpTo(6).Select(members => ObjectOf(members.Select(m => (m.Item1, m.Item2))));

    /// <summary>A member name literal: registered claim names, case variants, escaped forms, random text.</summary>
    public static Gen<string> Name { get; } = Gen.Frequency(
            (4, Gen.Elements("iss", "sub", "aud", "exp", "nbf", "iat", "scope", "scp", "roles", "jti", "alg", "typ", "kid", "crit", "cty", "x5u", "jku")),
            (1, Gen.Elements("Exp", "EXP", "Scope", "Typ", "ALG", "Crit", "")),
            (2, TextGen.String))
        .SelectMany(Literal);

    /// <summary>An object from members whose names and values are raw JSON already.</summary>
    public static string ObjectOf(IEnumerable<(string Name, string Value)> members) =>
        "{" + string.Join(",", members.Select(m => m.Name + ":" + m.Value)) + "}";

    /// <summary>Escapes: style 0 plain (only what JSON requires), 1 every char as \uXXXX, 2 random mix, 3 plain with "\/".</summary>
    public static string Quote(string text, int style, int seed)
    {
        var random = new Random(seed);
        var builder = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            var escape = style == 1 || (style == 2 && random.Next(3) == 0);
            if (escape || c < 0x20 || c == '"' || c == '\\' || char.IsSurrogate(c))
            {
                switch (c)
                {
                    case '"' when !escape: builder.Append("\\\""); break;
                    case '\\' when !escape: builder.Append("\\\\"); break;
                    case '\n' when !escape: builder.Append("\\n"); break;
                    default: builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                }
            }
            else if (c == '/' && style == 3)
            {
                builder.Append("\\/");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.Append('"').ToString();
    }
}
