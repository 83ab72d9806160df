using McpAuth.Behaviors;
using McpAuth.Caching;
using McpAuth.OpenIdConnect.Exchange;
using McpAuth.Ports;
using McpAuth.TestPeers;

namespace McpAuth.OpenIdConnect.Tests;

/// <summary>
/// The exchange strategies (#14) at the real oidc-provider: RFC 8693 with an <c>actor_token</c> (the provider verifies
/// it and names the actor in the issued token's <c>act</c>, nesting the subject token's own), Keycloak's dialect at a
/// plain RFC 8693 server, and the exchange cache's keys. Entra and Keycloak's own shapes: EntraFakeTests, KeycloakFakeTests.
/// </summary>
public sealed class ExchangeStrategyTests : IAsyncLifetime
{
    private const string McpAuthWorkload = "system:serviceaccount:mcp:mcpauth";
    private const string GatewayWorkload = "system:serviceaccount:mcp:gateway";

    private readonly WorkloadKeys _keys = new();
    private OidcProviderProcess _idp = null!;

    public async Task InitializeAsync()
    {
        _idp = await OidcProviderProcess.StartAsync();
        await _idp.SetUpExchangeClientsAsync(_keys);
    }

    public async Task DisposeAsync()
    {
        await _idp.DisposeAsync();
        _keys.Dispose();
    }

    private Harness PostClient(Action<TokenExchangeOptions>? more = null, string audience = "k8s-api", Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null) =>
        ExchangeTestKit.AtProvider(_idp, OidcProviderExchange.PostClientId, t =>
        {
            t.StsClientAuth = StsClientAuthMethods.ClientSecretPost;
            t.StsClientSecret = OidcProviderExchange.PostClientSecret;
            more?.Invoke(t);
        }, audience, services);

    private string ActorToken(string workload, TimeSpan? lifetime = null) =>
        _keys.PlatformToken(workload, "mcp-token-service", lifetime ?? TimeSpan.FromMinutes(10));

    [Fact]
    public async Task Rfc8693_ActorToken_IsSentWithItsType_AndTheActChainReachesTheResultAndThePrincipal()
    {
        var actor = ActorToken(McpAuthWorkload);
        using var pipeline = PostClient(t => t.StsActorTokenFile = _keys.Write(actor + "\n"));
        var token = await _idp.IssueTokenAsync(Harness.Resource);

        var outcome = await pipeline.SendAsync(token);

        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        outcome.Principal!.Actors.Should().Equal(new TokenActor(McpAuthWorkload, _keys.PlatformIssuer, null));
        var sent = (await _idp.ExchangeDetailsAsync()).Exchanges.Should().ContainSingle().Subject;
        sent.ActorToken.Should().Be(actor, "the file's content, trimmed");
        sent.ActorTokenType.Should().Be("urn:ietf:params:oauth:token-type:jwt");
        sent.FormKeys.Should().Equal(
            "actor_token", "actor_token_type", "audience", "client_id", "client_secret", "grant_type", "requested_token_type", "scope",
            "subject_token", "subject_token_type");
    }

    [Fact]
    public async Task Rfc8693_ExchangingAnExchangedToken_ActorsNest_CurrentActorFirst()
    {
        var gateway = ActorToken(GatewayWorkload);
        var mcpAuth = ActorToken(McpAuthWorkload);
        var actorFile = _keys.Write(gateway);
        using var pipeline = PostClient(t => t.StsActorTokenFile = actorFile);

        var first = await pipeline.ExchangeAsync(await _idp.IssueTokenAsync(Harness.Resource));
        first.Status.Should().Be(PortStatus.Accepted, first.Reason);
        first.Actors.Should().Equal(new TokenActor(GatewayWorkload, _keys.PlatformIssuer, null));

        // The next hop acts with its own identity on the token the gateway obtained.
        await File.WriteAllTextAsync(actorFile, mcpAuth);
        var second = await pipeline.ExchangeAsync(first.AccessToken!);

        second.Status.Should().Be(PortStatus.Accepted, second.Reason);
        second.Actors.Should().Equal(
            new TokenActor(McpAuthWorkload, _keys.PlatformIssuer, null),
            new TokenActor(GatewayWorkload, _keys.PlatformIssuer, null));
        (await _idp.ExchangeDetailsAsync()).Exchanges.Select(e => e.ActorToken).Should().Equal([gateway, mcpAuth], "each exchange reads the file anew");
    }

    [Fact]
    public async Task Rfc8693_ExpiredActorToken_IsNeverSent_Unavailable()
    {
        using var pipeline = PostClient(t => t.StsActorTokenFile = _keys.Write(ActorToken(McpAuthWorkload, TimeSpan.FromMinutes(-1))));

        var outcome = await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource));

        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable);
        outcome.Error.Stage.Should().Be(StageName.Of<TokenExchangeBehavior>());
        (await _idp.ExchangeDetailsAsync()).Exchanges.Should().BeEmpty();
    }

    [Fact]
    public async Task Rfc8693_ActorTheTokenServiceDoesNotTrust_IsRefused()
    {
        using var stranger = new WorkloadKeys("https://other-platform.test");
        using var pipeline = PostClient(t => t.StsActorTokenFile = _keys.Write(stranger.PlatformToken(McpAuthWorkload, "x", TimeSpan.FromMinutes(5))));

        var result = await pipeline.ExchangeAsync(await _idp.IssueTokenAsync(Harness.Resource));

        result.Status.Should().Be(PortStatus.Rejected);
        result.Reason.Should().Be("The token exchange service refused the token (invalid_grant).");
    }

    [Fact]
    public async Task Rfc8693_WithoutActorToken_SendsNoActorFields()
    {
        using var pipeline = PostClient();
        (await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource))).Succeeded.Should().BeTrue();
        var sent = (await _idp.ExchangeDetailsAsync()).Exchanges.Should().ContainSingle().Subject;
        sent.FormKeys.Should().NotContain(["actor_token", "actor_token_type"]);
        sent.ActorToken.Should().BeNull();
    }

    [Fact]
    public async Task Keycloak_AtAnRfc8693Server_PrivateKeyJwtWithoutClientId_IsAccepted()
    {
        // Keycloak's guide leaves client_id out next to a signed assertion; a standard server finds the client by its sub.
        using var pipeline = ExchangeTestKit.AtProvider(_idp, OidcProviderExchange.EcKeyClientId, t =>
        {
            t.StsStrategy = TokenExchangeStrategies.Keycloak;
            t.StsClientKeyFile = _keys.WriteJwk(_keys.ClientEc);
            t.StsScopes = [];
        });

        var outcome = await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource));

        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        var sent = (await _idp.ExchangeDetailsAsync()).Exchanges.Should().ContainSingle().Subject;
        sent.ClientAuthMethod.Should().Be("private_key_jwt");
        sent.ClientId.Should().Be(OidcProviderExchange.EcKeyClientId, "the provider identified the client from the assertion");
        sent.FormKeys.Should().Equal(
            "audience", "client_assertion", "client_assertion_type", "grant_type", "requested_token_type", "subject_token", "subject_token_type");
        sent.Audience.Should().Be("k8s-api");
    }

    [Fact]
    public async Task ExchangeCache_KeysOnStrategyAndAudience_TwoConfigurationsNeverShareAnEntry()
    {
        // Four replicas on one shared store with one key secret: only the one configured exactly like the first reuses its exchange.
        var shared = new InMemorySharedCache();
        using var keys = new CacheKeys(new byte[32]);
        using var first = PostClient(services: s => shared.Register(s, keys));
        using var sameConfiguration = PostClient(services: s => shared.Register(s, keys));
        using var otherAudience = PostClient(audience: "other-api", services: s => shared.Register(s, keys));
        using var otherStrategy = PostClient(t => t.StsStrategy = TokenExchangeStrategies.Keycloak, services: s => shared.Register(s, keys));
        var token = await _idp.IssueTokenAsync(Harness.Resource);

        var results = new List<TokenExchangeResult>();
        foreach (var pipeline in new[] { first, sameConfiguration, otherAudience, otherStrategy })
        {
            results.Add(await pipeline.ExchangeAsync(token));
        }

        results.Should().OnlyContain(r => r.Status == PortStatus.Accepted);
        // Compared, not printed: a failure message shows no token.
        (results[1].AccessToken == results[0].AccessToken).Should().BeTrue("the control: the same configuration shares the entry");
        (results[2].AccessToken == results[0].AccessToken).Should().BeFalse("another audience is another entry");
        (results[3].AccessToken == results[0].AccessToken).Should().BeFalse("another strategy is another entry");
        shared.Hits.Should().Be(1);
        var exchanges = (await _idp.ExchangeDetailsAsync()).Exchanges;
        exchanges.Should().HaveCount(3, "one exchange each for k8s-api/rfc8693, other-api/rfc8693 and k8s-api/keycloak");
        exchanges.Select(e => e.Audience).Should().Equal("k8s-api", "other-api", "k8s-api");
        exchanges[2].FormKeys.Should().NotContain("actor_token");

        // And within one replica: repeated requests are one exchange.
        ((await otherStrategy.ExchangeAsync(token)).AccessToken == results[3].AccessToken).Should().BeTrue();
        (await _idp.ExchangeDetailsAsync()).Exchanges.Should().HaveCount(3);
    }
}
