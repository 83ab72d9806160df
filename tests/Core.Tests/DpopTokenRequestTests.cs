using McpAuth.Dpop;

namespace McpAuth.Core.Tests;

/// <summary>
/// <see cref="DpopProofValidator.ValidateTokenRequestAsync"/>: a proof sent to a token endpoint (RFC 9449 §5) has no
/// access token to hash, so no <c>ath</c> is needed; every other rule still holds.
/// </summary>
public sealed class DpopTokenRequestTests
{
    private const string TokenEndpoint = "https://as.example.com/token";
    private static readonly DpopRequest Request = new(null, "POST", TokenEndpoint);

    [Fact]
    public async Task ProofWithoutAth_IsAccepted_WithTheKeysThumbprint()
    {
        var maker = new ProofMaker();
        var proof = maker.Make("unused", htu: TokenEndpoint, edit: c => c.Remove("ath"));

        var (result, error) = await new DpopProofValidator(Opt.Of(), Opt.Clock()).ValidateTokenRequestAsync(proof, Request with { Proof = proof });

        error.Should().BeNull();
        result!.Thumbprint.Should().Be(maker.Thumbprint);
    }

    [Fact]
    public async Task TheSameProof_IsRefusedByTheResourceCheck_WhichNeedsAth()
    {
        var maker = new ProofMaker();
        var proof = maker.Make("unused", htu: TokenEndpoint, edit: c => c.Remove("ath"));

        var (_, error) = await new DpopProofValidator(Opt.Of(), Opt.Clock()).ValidateAsync(proof, Request with { Proof = proof }, "an-access-token");

        error.Should().Be("The DPoP proof's ath is not the hash of this access token.");
    }

    public static TheoryData<string, Func<ProofMaker, string>, string> Refusals => new()
    {
        { "OtherEndpoint", m => m.Make("x", htu: "https://as.example.com/authorize", edit: c => c.Remove("ath")), "The DPoP proof's htu is not this request's URI." },
        { "GetMethod", m => m.Make("x", htm: "GET", htu: TokenEndpoint, edit: c => c.Remove("ath")), "The DPoP proof's htm is not this request's method." },
        { "TypJwt", m => m.Make("x", htu: TokenEndpoint, typ: "JWT", edit: c => c.Remove("ath")), "The DPoP proof's typ is not dpop+jwt." },
        { "Old", m => m.Make("x", htu: TokenEndpoint, iat: Tokens.Now.AddMinutes(-6), edit: c => c.Remove("ath")), "The DPoP proof's iat is outside the accepted window." },
        { "SignedByAnotherKey", m => m.Make("x", htu: TokenEndpoint, signWith: new ProofMaker().Key, edit: c => c.Remove("ath")), "The DPoP proof's signature is not valid under its jwk." },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task OtherRules_StillHold(string row, Func<ProofMaker, string> make, string expected)
    {
        var proof = make(new ProofMaker());

        var (result, error) = await new DpopProofValidator(Opt.Of(), Opt.Clock()).ValidateTokenRequestAsync(proof, Request with { Proof = proof });

        result.Should().BeNull(row);
        error.Should().Be(expected, row);
    }
}
