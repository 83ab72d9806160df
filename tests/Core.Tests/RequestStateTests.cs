namespace McpAuth.Core.Tests;

public class AuthenticationStateTests
{
    [Fact]
    public void Empty_HasNoTokenAndEmptyViews()
    {
        var state = new AuthenticationState();
        state.Token.Should().BeNull();
        state.RawToken.Should().BeNull();
        state.Scopes.Should().BeEmpty();
        state.Audiences.Should().BeEmpty();
        state.EffectiveToken.Should().BeNull();
        state.EffectiveTokenExpiresAt.Should().BeNull();
        state.Exchanged.Should().BeFalse();
        state.VerifiedByIssuer.Should().BeFalse();
        state.ClusterUsers.Should().BeEmpty();
    }

    [Fact]
    public void Token_ViewsReadTheParsedToken_AndItBecomesTheEffectiveToken()
    {
        var raw = Tokens.Create(Tokens.Valid(("aud", new[] { "a", "b" })));
        var token = Tokens.Parse(raw);
        var state = new AuthenticationState { Token = token };
        state.RawToken.Should().Be(raw);
        state.Scopes.Should().BeSameAs(token.Scopes);
        state.Audiences.Should().Equal("a", "b");
        state.EffectiveToken.Should().Be(raw);
        state.EffectiveTokenExpiresAt.Should().Be(Tokens.Now.AddMinutes(10));
        state.Exchanged.Should().BeFalse();
    }

    [Fact]
    public void SetExchangedToken_ReplacesTheEffectiveTokenOnly()
    {
        var raw = Tokens.Create();
        var state = new AuthenticationState { Token = Tokens.Parse(raw) };
        state.SetExchangedToken("exchanged", Tokens.Now.AddMinutes(1));
        state.EffectiveToken.Should().Be("exchanged");
        state.EffectiveTokenExpiresAt.Should().Be(Tokens.Now.AddMinutes(1));
        state.Exchanged.Should().BeTrue();
        state.RawToken.Should().Be(raw, "the caller's token is still the parsed one");
        state.Scopes.Should().Equal("read", "write");
    }

    [Fact]
    public void SettingTheTokenAgain_UndoesAnExchange()
    {
        var state = new AuthenticationState { Token = Tokens.Parse(Tokens.Create()) };
        state.SetExchangedToken("exchanged", null);
        var other = Tokens.Create(Tokens.Valid(("sub", "bob")));
        state.Token = Tokens.Parse(other);
        state.EffectiveToken.Should().Be(other);
        state.Exchanged.Should().BeFalse();
        state.Token = null;
        state.EffectiveToken.Should().BeNull();
        state.RawToken.Should().BeNull();
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void SetExchangedToken_Empty_Throws(string? token)
    {
        var state = new AuthenticationState();
        var act = () => state.SetExchangedToken(token!, null);
        act.Should().Throw<ArgumentException>();
        state.Exchanged.Should().BeFalse();
    }

    [Fact]
    public void AddClusterUser_KeepsOnePerTarget_InOrder()
    {
        var state = new AuthenticationState();
        var alice = new ClusterUser("alice", null, [], new Dictionary<string, IReadOnlyList<string>>());
        var bob = new ClusterUser("bob", null, [], new Dictionary<string, IReadOnlyList<string>>());
        state.AddClusterUser("prod", alice);
        state.AddClusterUser("", bob);
        state.AddClusterUser("prod", bob);
        state.ClusterUsers.Keys.Should().Equal("prod", "");
        state.ClusterUsers["prod"].Should().BeSameAs(bob);
    }
}

public class AuthenticationOutcomeTests
{
    [Fact]
    public void Success_RequiresAPrincipal()
    {
        var act = () => AuthenticationOutcome.Success(null!);
        act.Should().Throw<ArgumentNullException>();
        Next.Passed.Succeeded.Should().BeTrue();
        Next.Passed.Error.Should().BeNull();
        Next.Passed.ToString().Should().Be("Success");
    }

    [Fact]
    public void NoCredentials_IsNeitherSuccessNorFailure()
    {
        AuthenticationOutcome.NoCredentials.Kind.Should().Be(AuthenticationOutcomeKind.NoCredentials);
        AuthenticationOutcome.NoCredentials.Succeeded.Should().BeFalse();
        AuthenticationOutcome.NoCredentials.Error.Should().BeNull();
        AuthenticationOutcome.NoCredentials.ToString().Should().Be("NoCredentials");
    }

    [Fact]
    public void Failure_CarriesTheError()
    {
        var outcome = AuthenticationOutcome.Failure(AuthenticationErrorCode.RequestTimeout, "slow", "McpBody");
        outcome.Error.Should().Be(new AuthenticationError(AuthenticationErrorCode.RequestTimeout, "slow", "McpBody"));
        outcome.ToString().Should().Be("Failure(RequestTimeout at McpBody: slow)");
        var act = () => AuthenticationOutcome.Failure((AuthenticationError)null!);
        act.Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void McpPrincipal_ToString_ShowsNoToken()
    {
        var principal = new McpPrincipal("alice", "https://issuer.test", [], [], [], "secret-effective-token", true, null, new Dictionary<string, ClusterUser>());
        principal.ToString().Should().Be("McpPrincipal { Subject = alice, Issuer = https://issuer.test, Exchanged = True }");
    }
}
