using FsCheck;
using FsCheck.Fluent;
using McpAuth.Tokens;
using Xunit.Abstractions;

namespace McpAuth.AspNetCore.Tests.Properties;

/// <summary>Properties of the <c>WWW-Authenticate</c> builder <see cref="ChallengeMapper"/> for any configured or reported text.</summary>
[Trait("Category", "Property")]
public sealed class ChallengeMapperProperties(ITestOutputHelper output)
{
    private const int Cases = 800;

    /// <summary>Text as configuration or an error could carry it: anything, quotes and backslashes, CR/LF, 10k characters.</summary>
    private static readonly Gen<string> Text = Gen.Frequency(
        (5, TextGen.String),
        (2, Gen.Elements("\"", "\\", "\r\n", "a\"b\\c", "x\r\nSet-Cookie: a=b", "\u00e9t\u00e9", "\ud83d\ude00", "\0", "", " ", "Bearer realm=\"x\"", "\", error=\"none")
            .UpTo(8).Select(string.Concat)),
        (1, Gen.Choose(199, 202).Select(n => new string('a', n))),
        (1, Gen.Choose(1, 3).Select(n => new string('"', 10000 / n))),
        (1, TextGen.String.Select(s => s.Length == 0 ? s : string.Concat(Enumerable.Repeat(s, 10000 / s.Length + 1))[..10000])));

    public sealed record Input(
        string Realm, string? Audience, string[] RequiredScopes, string Description, string ResourceMetadata, string[] StepUpScopes, int Outcome,
        DpopMode Dpop, string[] DpopAlgorithms, AuthorizationScheme Scheme)
    {
        public override string ToString() =>
            $"realm {PropertyRun.Show(Realm, 80)}, audience {PropertyRun.Show(Audience, 80)}, scopes [{string.Join(", ", RequiredScopes.Select(s => PropertyRun.Show(s, 40)))}], "
            + $"description {PropertyRun.Show(Description, 80)}, resource_metadata {PropertyRun.Show(ResourceMetadata, 80)}, "
            + $"step-up [{string.Join(", ", StepUpScopes.Select(s => PropertyRun.Show(s, 40)))}], outcome {Outcome}, "
            + $"DPoP {Dpop} algs [{string.Join(", ", DpopAlgorithms.Select(s => PropertyRun.Show(s, 40)))}], request scheme {Scheme}";
    }

    private static readonly Arbitrary<Input> Inputs = Arb.From(
        from realm in Text
        from audience in Gen.Frequency((1, Gen.Constant<string?>(null)), (4, Text.Select(s => (string?)s)))
        from scopes in Text.UpTo(6).Select(l => l.ToArray())
        from description in Text
        from metadata in Gen.Frequency((2, Gen.Constant("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")), (3, Text))
        from stepUp in Text.Between(1, 4).Select(l => l.ToArray())
        from outcome in Gen.Choose(0, 8)
        from dpop in Gen.Elements(DpopMode.Off, DpopMode.Allowed, DpopMode.Required)
        from algs in Gen.Frequency((2, Gen.Constant<string[]>(["ES256", "RS256"])), (1, Text.UpTo(3).Select(l => l.ToArray())))
        from scheme in Gen.Elements(AuthorizationScheme.None, AuthorizationScheme.Bearer, AuthorizationScheme.DPoP)
        select new Input(realm, audience, scopes, description, metadata, stepUp, outcome, dpop, algs, scheme),
        input => TextGen.Shrink(input.Realm).Select(r => input with { Realm = r })
            .Concat(TextGen.Shrink(input.Description).Select(d => input with { Description = d }))
            .Concat(TextGen.Shrink(input.ResourceMetadata).Select(m => input with { ResourceMetadata = m }))
            .Concat(input.Audience is null ? [] : TextGen.Shrink(input.Audience).Select(a => input with { Audience = a }))
            .Concat(input.RequiredScopes.Length == 0 ? [] : [input with { RequiredScopes = input.RequiredScopes[1..] }])
            .Concat(input.DpopAlgorithms.Length == 0 ? [] : [input with { DpopAlgorithms = input.DpopAlgorithms[1..] }]));

    [Fact]
    public void Map_AlwaysWritesRfc6750Challenges_WithQuotedSafeValues_EachParameterOnce()
    {
        PropertyRun.Check(output, Prop.ForAll(Inputs, input =>
        {
            var mapper = new ChallengeMapper(input.Realm, input.Audience, input.RequiredScopes, retryAfterSeconds: 5, input.Dpop, input.DpopAlgorithms, () => "nonce");
            var (outcome, error) = Outcome(input);
            var challenge = mapper.Map(outcome, input.ResourceMetadata, input.Scheme);
            if (error is "none")
            {
                Expect.That(challenge.WwwAuthenticate is null, $"status {challenge.Status} has a challenge");
                return Prop.ToProperty(true).Collect($"{challenge.Status}, no challenge");
            }

            // One challenge per scheme the server takes (RFC 9449 §7.1): Bearer unless DPoP is required, DPoP unless off.
            string[] schemes = input.Dpop switch { DpopMode.Off => ["Bearer"], DpopMode.Allowed => ["Bearer", "DPoP"], _ => ["DPoP"] };
            Expect.That(challenge.WwwAuthenticate is { } all && all.Length == schemes.Length, $"{challenge.WwwAuthenticate?.Length ?? 0} challenges for DPoP {input.Dpop}");
            var errors = 0;
            for (var i = 0; i < schemes.Length; i++)
            {
                var parameters = Parse(challenge.WwwAuthenticate![i], schemes[i]);
                Expect.That(parameters.ContainsKey("realm") && parameters.ContainsKey("resource_metadata"), "realm and resource_metadata are always there");
                Expect.That(parameters.ContainsKey("audience") == !string.IsNullOrEmpty(input.Audience), "audience exactly when one is configured");
                Expect.That(schemes[i] == "DPoP" || !parameters.ContainsKey("algs"), "algs only on the DPoP challenge");
                Expect.That(parameters.ContainsKey("error_description") == parameters.ContainsKey("error"), "error_description exactly with an error");
                if (parameters.TryGetValue("error", out var code))
                {
                    Expect.That(code == error, $"error {code}, expected {error ?? "none"}");
                    errors++;
                }
            }

            Expect.That(errors == (error is null ? 0 : 1), $"{errors} challenges carry the error {error ?? "(none expected)"}");
            return Prop.ToProperty(true).Collect($"{challenge.Status} {error ?? "no error"}, DPoP {input.Dpop}");
        }), Cases);
    }

    [Fact]
    public void Sanitize_IsIdempotent_Safe_AndKeepsSafeText()
    {
        var texts = Arb.From(Gen.Frequency(
                (4, Text),
                (1, Gen.Elements(Enumerable.Range(0x20, 0x5F).Select(i => (char)i).Where(c => c is not '"' and not '\\').ToArray()).ArrayOf().Select(a => new string(a)))),
            TextGen.Shrink);
        PropertyRun.Check(output, Prop.ForAll(texts, text =>
        {
            var once = ChallengeMapper.Sanitize(text);
            Expect.That(ChallengeMapper.Sanitize(once) == once, $"not idempotent: {PropertyRun.Show(once)}");
            Expect.That(once.Length <= 200 && once.All(IsQdtext), $"unsafe: {PropertyRun.Show(once)}");
            var clean = text.Length <= 200 && text.All(IsQdtext);
            Expect.That(!clean || once == text, "safe text is kept as it is");
            return Prop.ToProperty(true).Collect(clean ? "already safe" : text.Length > 200 ? "too long" : "cleaned");
        }), Cases * 2);
    }

    // NoCredentials, every failure code; the expected error parameter ("none": no challenge at all).
    private static (AuthenticationOutcome Outcome, string? Error) Outcome(Input input) => input.Outcome switch
    {
        0 => (AuthenticationOutcome.NoCredentials, null),
        1 => (AuthenticationOutcome.Failure(AuthenticationErrorCode.InvalidToken, input.Description, "Stage"), "invalid_token"),
        2 => (AuthenticationOutcome.Failure(AuthenticationErrorCode.InsufficientScope, input.Description, "Stage", input.StepUpScopes), "insufficient_scope"),
        3 => (AuthenticationOutcome.Failure(AuthenticationErrorCode.InvalidRequest, input.Description, "Stage"), "invalid_request"),
        4 => (AuthenticationOutcome.Failure(AuthenticationErrorCode.InvalidDpopProof, input.Description, "Stage"), "invalid_dpop_proof"),
        5 => (AuthenticationOutcome.Failure(AuthenticationErrorCode.UseDpopNonce, input.Description, "Stage"), "use_dpop_nonce"),
        6 => (AuthenticationOutcome.Failure(AuthenticationErrorCode.RequestTooLarge, input.Description, "Stage"), "none"),
        7 => (AuthenticationOutcome.Failure(AuthenticationErrorCode.RequestTimeout, input.Description, "Stage"), "none"),
        _ => (AuthenticationOutcome.Failure(AuthenticationErrorCode.Unavailable, input.Description, "Stage"), "none"),
    };

    // RFC 6750 §3 value characters: %x20-21 / %x23-5B / %x5D-7E.
    private static bool IsQdtext(char c) => c is >= ' ' and <= '~' and not '"' and not '\\';

    // RFC 7230 tchar.
    private static bool IsTchar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);

    /// <summary>
    /// Parses <c>scheme 1*SP auth-param *( OWS "," OWS auth-param )</c> strictly (RFC 7235 §2.1), where every value must be
    /// a quoted-string of qdtext only (no quoted-pair) of at most 200 characters and no name may repeat (names compared
    /// case-insensitively). Throws on anything else.
    /// </summary>
    private static Dictionary<string, string> Parse(string? header, string scheme)
    {
        Expect.That(header is not null, "no WWW-Authenticate value");
        Expect.That(header!.StartsWith(scheme + " ", StringComparison.Ordinal), $"scheme {scheme} expected: {PropertyRun.Show(header, 40)}");
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = scheme.Length + 1;
        while (true)
        {
            var nameStart = i;
            while (i < header.Length && IsTchar(header[i]))
            {
                i++;
            }

            var name = header[nameStart..i];
            Expect.That(name.Length > 0, $"no parameter name at {i}: {PropertyRun.Show(header[nameStart..], 60)}");
            Expect.That(i + 1 < header.Length && header[i] == '=' && header[i + 1] == '"', $"{name}: not a quoted-string");
            i += 2;
            var valueStart = i;
            while (i < header.Length && header[i] != '"')
            {
                Expect.That(IsQdtext(header[i]), $"{name}: character U+{(int)header[i]:X4} in its value");
                i++;
            }

            Expect.That(i < header.Length, $"{name}: unterminated value");
            var value = header[valueStart..i];
            Expect.That(value.Length <= 200, $"{name}: {value.Length} characters");
            Expect.That(parameters.TryAdd(name, value), $"{name} appears twice");
            i++;
            if (i == header.Length)
            {
                return parameters;
            }

            while (i < header.Length && header[i] is ' ' or '\t')
            {
                i++;
            }

            Expect.That(i < header.Length && header[i] == ',', $"after {name}: {PropertyRun.Show(header[i..], 40)}");
            i++;
            while (i < header.Length && header[i] is ' ' or '\t')
            {
                i++;
            }
        }
    }
}
