using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace McpAuth.Core.Tests.Properties;

/// <summary>Compact JWS strings: well formed, hostile, and mutated.</summary>
internal static class JwtGen
{
    public static readonly string[] Algorithms = ["EdDSA", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"];

    public static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>Header or payload JSON into a part; sometimes the raw bytes get a byte that is not UTF-8.</summary>
    public static string Part(string json) => TextGen.B64(json);

    public static string Token(string headerJson, string payloadJson, string signature) => $"{Part(headerJson)}.{Part(payloadJson)}.{signature}";

    public static Gen<string> Signature { get; } = Gen.Frequency(
        (6, TextGen.Base64Url(43, 43)),
        (3, TextGen.Base64Url(342, 342)),
        (1, TextGen.Base64Url(1, 700).Select(s => s.Length % 4 == 1 ? s + "A" : s))); // a length of 4n+1 is never base64url

    public static Gen<string> AllowedTyp { get; } = Gen.Frequency(
        (1, Gen.Constant<string?>(null)),
        (2, TextGen.RandomCase("at+jwt").Select(s => (string?)s)),
        (1, TextGen.RandomCase("application/at+jwt").Select(s => (string?)s)),
        (2, TextGen.RandomCase("JWT").Select(s => (string?)s)))
        .Select(t => t is null ? string.Empty : $",\"typ\":\"{t}\"");

    /// <summary>Claims a parser must read: well-typed registered claims plus random ones.</summary>
    public static Gen<string> WellTypedPayload { get; } =
        from exp in Gen.Choose(-100000, 100000)
        from aud in Gen.Elements("\"mcp\"", "[\"mcp\",\"other\"]", "[]")
        from scope in Gen.Elements("\"read write\"", "\" a\\tb  c \"", "[\"read\",\"write\"]", "\"\"")
        from scp in Gen.Elements("", ",\"scp\":[\"x\",\"y\"]", ",\"scp\":\"x y\"")
        from sub in JsonGen.SafeText.SelectMany(JsonGen.Literal)
        from extra in Gen.Zip(JsonGen.SafeName, JsonGen.SafeValue(2)).UpTo(6).Select(m => m.DistinctBy(x => x.Item1).ToList())
        select $"{{\"iss\":\"https://issuer.test\",\"sub\":{sub},\"aud\":{aud},\"exp\":{Now + exp},\"nbf\":{Now - 10},\"iat\":{Now - 10},\"scope\":{scope}{scp}"
               + string.Concat(extra.Take(6).Select(m => "," + m.Item1 + ":" + m.Item2)) + "}";

    /// <summary>A token <see cref="McpAuth.Tokens.ParsedToken"/> must accept: supported alg, allowed typ, base64url JSON parts.</summary>
    public static Gen<string> WellFormed { get; } =
        from alg in Gen.Elements(Algorithms)
        from typ in AllowedTyp
        from kid in Gen.Elements("", ",\"kid\":\"k1\"", ",\"kid\":\"\"")
        from payload in WellTypedPayload
        from signature in Signature
        select Token($"{{\"alg\":\"{alg}\"{typ}{kid}}}", payload, signature);

    /// <summary>Any payload: claims of any type (numbers as strings, huge claims, nested arrays, duplicates).</summary>
    public static Gen<string> AnyPayload { get; } = Gen.Frequency(
        (3, WellTypedPayload),
        (3, Gen.Zip(JsonGen.Name, JsonGen.Value(4)).UpTo(12).Select(m => JsonGen.ObjectOf(m.Select(x => (x.Item1, x.Item2))))),
        (2, Gen.Elements("exp", "nbf", "iat", "scope", "scp", "aud", "sub", "iss", "roles")
            .SelectMany(name => JsonGen.Value(3).Select(v => $"{{\"{name}\":{v}}}"))),
        (1, Gen.Elements("exp", "nbf", "iat").Select(name => $"{{\"{name}\":\"{Now}\"}}")),
        (1, Gen.Choose(1, 200).Select(n => "{\"aud\":" + new string('[', n) + "\"mcp\"" + new string(']', n) + "}")),
        (1, Gen.Elements("{\"exp\":1,\"exp\":\"x\"}", "{\"scope\":[1,[2],{\"a\":null}]}", "{\"aud\":[null,1,true]}", "{}", "[]", "{\"a\":1}garbage", "null")));

    /// <summary>Any header: a supported alg or not, any typ, crit or not, random members.</summary>
    public static Gen<string> AnyHeader { get; } = Gen.Frequency(
        (4, from alg in Gen.Elements(Algorithms) from typ in AllowedTyp select $"{{\"alg\":\"{alg}\"{typ}}}"),
        (3, Gen.Zip(JsonGen.Name, JsonGen.Value(3)).UpTo(8).Select(m => JsonGen.ObjectOf(m.Select(x => (x.Item1, x.Item2))))),
        (2, from alg in JsonGen.Leaf from rest in JsonGen.Object(2) select "{\"alg\":" + alg + (rest.Length > 2 ? "," + rest[1..] : "}")));

    /// <summary>Any header and payload, then zero to three mutations.</summary>
    public static Gen<string> Hostile { get; } =
        from header in AnyHeader
        from payload in AnyPayload
        from signature in Signature
        from mutated in Mutate(Token(header, payload, signature))
        select mutated;

    /// <summary>Three random base64url parts (not necessarily JSON).</summary>
    public static Gen<string> ThreeParts { get; } =
        from a in TextGen.Base64Url(0, 120)
        from b in TextGen.Base64Url(0, 400)
        from c in TextGen.Base64Url(0, 120)
        from prefix in Gen.Elements("", "eyJ", "eyJh", "e30", "W10")
        select $"{prefix}{a}.{prefix}{b}.{c}";

    /// <summary>Zero to three of: bit flips, truncation, dots, Unicode, deletions, segment swaps, padding, byte-level damage.</summary>
    public static Gen<string> Mutate(string token) =>
        Gen.Choose(0, 3).SelectMany(n => Gen.Choose(0, int.MaxValue).ArrayOf(n)).Select(seeds =>
        {
            foreach (var seed in seeds)
            {
                token = MutateOnce(token, new Random(seed));
            }

            return token;
        });

    public static string MutateOnce(string token, Random random)
    {
        int At(int extra = 0) => random.Next(token.Length + extra);
        if (token.Length == 0)
        {
            return ".";
        }

        switch (random.Next(12))
        {
            case 0:
                {
                    var i = At();
                    var chars = token.ToCharArray();
                    chars[i] = (char)(chars[i] ^ (1 << random.Next(16)));
                    return new string(chars);
                }

            case 1: return token[..At()];
            case 2: return token.Insert(At(1), ".");
            case 3: return token.Insert(At(1), new string(TextGen.LookAlikes[random.Next(TextGen.LookAlikes.Length)], 1 + random.Next(3)));
            case 4:
                {
                    var i = At();
                    return token.Remove(i, random.Next(1, Math.Min(20, token.Length - i) + 1));
                }

            case 5:
                {
                    var parts = token.Split('.');
                    return string.Join('.', parts.OrderBy(_ => random.Next()));
                }

            case 6:
                {
                    var parts = token.Split('.');
                    var i = random.Next(parts.Length);
                    return string.Join('.', parts.Take(i + 1).Append(parts[i]).Concat(parts.Skip(i + 1)));
                }

            case 7: return token + new string('=', 1 + random.Next(2));
            case 8: return token.Replace('-', '+').Replace('_', '/');
            case 9:
                {
                    // Damage the decoded bytes of one part (invalid UTF-8, broken JSON), then encode again.
                    var parts = token.Split('.');
                    var i = random.Next(parts.Length);
                    var bytes = TryDecode(parts[i]);
                    if (bytes is { Length: > 0 })
                    {
                        bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                        if (random.Next(2) == 0)
                        {
                            bytes[random.Next(bytes.Length)] = (byte)random.Next(0x80, 0x100);
                        }

                        parts[i] = TextGen.B64(bytes);
                    }

                    return string.Join('.', parts);
                }

            case 10: return token.Insert(At(1), new string((char)random.Next(0x80, 0x10000), 1));
            default:
                {
                    var i = At();
                    var chars = token.ToCharArray();
                    chars[i] = TextGen.Base64UrlAlphabet[random.Next(64)];
                    return new string(chars);
                }
        }
    }

    private static byte[]? TryDecode(string part)
    {
        try
        {
            return Convert.FromBase64String(part.Replace('-', '+').Replace('_', '/').PadRight((part.Length + 3) / 4 * 4, '='));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
