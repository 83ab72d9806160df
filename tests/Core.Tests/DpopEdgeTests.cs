using McpAuth.Dpop;
using Microsoft.Extensions.Options;

namespace McpAuth.Core.Tests;

/// <summary>
/// The DPoP proof rules at their boundaries, and the defaults the proof check depends on: rows written for the mutants
/// a full Stryker run left alive in DpopProofValidator and McpAuthOptions.
/// </summary>
public sealed class DpopEdgeTests
{
    private const string Uri = "https://mcp.example.com/mcp";
    private static readonly DpopRequest Request = new(null, "POST", Uri);
    private static readonly string AccessToken = Tokens.Create();

    private static DpopProofValidator Validator(Action<McpAuthOptions>? configure = null) => new(Opt.Of(configure), Opt.Clock());

    private static async Task<string?> ErrorOf(string proof, DpopProofValidator? validator = null) =>
        (await (validator ?? Validator()).ValidateAsync(proof, Request with { Proof = proof }, AccessToken)).Error;

    [Theory]
    [InlineData("d")]
    [InlineData("p")]
    [InlineData("q")]
    [InlineData("dp")]
    [InlineData("dq")]
    [InlineData("qi")]
    [InlineData("oth")]
    [InlineData("k")]
    public async Task JwkWithAnyPrivateMember_IsRefused(string member)
    {
        var maker = new ProofMaker();
        var jwk = maker.PublicMembers();
        jwk[member] = "AQAB";

        (await ErrorOf(maker.Make(AccessToken, jwk: jwk))).Should().Be("The DPoP proof has no public jwk header (a private key member is refused).");
    }

    [Fact]
    public async Task JwkThatIsNotAnObject_IsRefused()
    {
        var maker = new ProofMaker();

        (await ErrorOf(maker.Make(AccessToken, jwk: "not-a-key"))).Should().Be("The DPoP proof has no public jwk header (a private key member is refused).");
    }

    [Fact]
    public void EverySymmetricAlgorithmAndNone_CanNeverBeAllowed()
    {
        Validator(o => o.DpopAlgorithms = ["none", "HS256", "HS384", "HS512", "ES256", "PS256"]).Algorithms.Should().BeEquivalentTo(["ES256", "PS256"]);
    }

    [Fact]
    public void DefaultAlgorithms_AreTheAsymmetricOnes()
    {
        new McpAuthOptions().DpopAlgorithms.Should().Equal("ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512");
    }

    [Fact]
    public async Task ProofAtExactlyMaxLength_IsRead_OneMoreIsRefused()
    {
        var maker = new ProofMaker();
        // Base64url grows in steps of 4 characters per 3 bytes; varying the jti's length as well reaches every length.
        var exact = (from n in Enumerable.Range(5400, 800)
                     from j in Enumerable.Range(8, 4)
                     select maker.Make(AccessToken, jti: new string('j', j), edit: c => c["pad"] = new string('x', n)))
            .FirstOrDefault(p => p.Length == DpopProofValidator.MaxProofLength);
        exact.Should().NotBeNull("some padding gives a signed proof of exactly MaxProofLength characters");

        (await ErrorOf(exact!)).Should().BeNull("a proof of exactly MaxProofLength characters is read and valid");
        (await ErrorOf(exact + "A")).Should().Be("The DPoP proof is not one compact JWS.", "one character more is refused before parsing");
    }

    [Fact]
    public async Task IatAtExactlyTheFutureEdge_IsAccepted_OneSecondMoreIsNot()
    {
        var maker = new ProofMaker();

        (await ErrorOf(maker.Make(AccessToken, iat: Tokens.Now.AddMinutes(5)))).Should().BeNull();
        (await ErrorOf(maker.Make(AccessToken, iat: Tokens.Now.AddMinutes(5).AddSeconds(1)))).Should().Be("The DPoP proof's iat is outside the accepted window.");
    }

    [Theory]
    [InlineData(256, null)]
    [InlineData(257, "The DPoP proof has no usable jti.")]
    [InlineData(0, "The DPoP proof has no usable jti.")]
    public async Task JtiLength_UpTo256(int length, string? expected)
    {
        var maker = new ProofMaker();

        (await ErrorOf(maker.Make(AccessToken, jti: new string('j', length)))).Should().Be(expected);
    }

    [Fact]
    public async Task JtiThatIsNotAString_IsRefused()
    {
        var maker = new ProofMaker();

        (await ErrorOf(maker.Make(AccessToken, edit: c => c["jti"] = 12345))).Should().Be("The DPoP proof is not a valid JWS.", "IdentityModel refuses a non-string jti when it reads the proof");
    }

    [Theory]
    [InlineData("ftp://mcp.example.com/mcp")]
    [InlineData("wss://mcp.example.com/mcp")]
    public async Task HtuWithAnotherScheme_IsRefused_EvenWhenTheRequestHasIt(string uri)
    {
        var maker = new ProofMaker();
        var proof = maker.Make(AccessToken, htu: uri);

        var (_, error) = await Validator().ValidateAsync(proof, new DpopRequest(proof, "POST", uri), AccessToken);

        error.Should().Be("The DPoP proof's htu is not this request's URI.");
    }

    [Fact]
    public void PrimaryIssuer_IsTheAuthorizationUrl_ElseTheFirstIssuer_ElseNone()
    {
        new McpAuthOptions { AuthorizationUrl = "https://one.test", Issuers = [new IssuerOptions { Url = "https://two.test" }] }.PrimaryIssuerUrl.Should().Be("https://one.test");
        new McpAuthOptions { AuthorizationUrl = " ", Issuers = [new IssuerOptions { Url = "https://two.test" }] }.PrimaryIssuerUrl.Should().Be("https://two.test");
        new McpAuthOptions { Issuers = [new IssuerOptions { Url = "https://two.test" }, new IssuerOptions { Url = "https://three.test" }] }.PrimaryIssuerUrl.Should().Be("https://two.test");
        new McpAuthOptions().PrimaryIssuerUrl.Should().BeNull();
        new McpAuthOptions { AuthorizationUrl = "" }.HasIssuer.Should().BeFalse();
    }
}
