using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using McpAuth.Behaviors;
using McpAuth.Caching;
using McpAuth.Ports;
using McpAuth.TestPeers;
using McpAuth.Tokens;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace McpAuth.OpenIdConnect.Tests;

internal static class Opaque
{
    public const string Token = "2YotnFZFEjr1zCsicMWpAA";

    public static ParsedToken Parse(string raw = Token) =>
        ParsedToken.TryParse(raw, 16 * 1024, allowOpaque: true, out var error) ?? throw new ArgumentException(error, nameof(raw));
}

/// <summary>
/// RFC 7662 introspection against the real oidc-provider (its introspection feature; opaque tokens for resources under
/// <c>/opaque/</c>; client <c>mcp-server</c> with client_secret_basic). One provider process per test.
/// </summary>
public sealed class IntrospectionProviderTests : IAsyncLifetime
{
    private const string Resource = "https://mcp.example/opaque/mcp";
    private const string ServerClient = "mcp-server";
    private const string ServerSecret = "server-secret";
    private const string IntrospectionPath = "/token/introspection";

    private OidcProviderProcess _idp = null!;

    public async Task InitializeAsync() => _idp = await OidcProviderProcess.StartAsync();

    public async Task DisposeAsync() => await _idp.DisposeAsync();

    private Harness Pipeline(Action<IntrospectionOptions>? introspection = null, string audience = Resource) =>
        new(
            o =>
            {
                o.AuthorizationUrl = _idp.Issuer;
                o.Audience = audience;
                o.IntrospectionClientId = ServerClient;
            },
            b => b.AddOidcProvider().AddTokenIntrospection(i =>
            {
                i.IntrospectionClientSecret = ServerSecret;
                introspection?.Invoke(i);
            }));

    private async Task<int> Introspections() => _idp.Count(await _idp.StatsAsync(), IntrospectionPath);

    [Fact]
    public async Task ActiveToken_IsActiveWithTheProvidersClaims()
    {
        using var pipeline = Pipeline();
        var raw = await _idp.IssueTokenAsync(Resource, "read");
        raw.Count(c => c == '.').Should().NotBe(2, "the provider issues opaque tokens for /opaque/ resources");
        var before = DateTimeOffset.UtcNow;

        var result = await pipeline.Get<TokenIntrospectionClient>().IntrospectAsync(Opaque.Parse(raw), CancellationToken.None);

        result.Status.Should().Be(PortStatus.Accepted, result.Reason);
        var token = result.Token!;
        token.Raw.Should().Be(raw);
        token.IsIntrospected.Should().BeTrue();
        token.Issuer.Should().Be(_idp.Issuer);
        token.Audiences.Should().Equal(Resource);
        token.Scopes.Should().Equal("read");
        token.ExpiresAt.Should().BeCloseTo(before.AddHours(1), TimeSpan.FromMinutes(1));
        token.IssuedAt.Should().BeCloseTo(before, TimeSpan.FromMinutes(1));
        token.Claims.Should().ContainSingle(c => c.Type == "client_id").Which.Value.Should().Be(OidcProviderProcess.ClientId);
        token.Claims.Should().ContainSingle(c => c.Type == "token_type").Which.Value.Should().Be("Bearer");
        token.Claims.Should().NotContain(c => c.Type == "active");
        (await Introspections()).Should().Be(1, "the discovered introspection_endpoint was called once");
    }

    [Fact]
    public async Task ThroughThePipeline_SucceedsAndTheAnswerIsCached()
    {
        using var pipeline = Pipeline();
        var raw = await _idp.IssueTokenAsync(Resource, "read write");

        var first = await pipeline.SendAsync(raw);
        var second = await pipeline.SendAsync(raw);

        first.Succeeded.Should().BeTrue(first.ToString());
        second.Succeeded.Should().BeTrue(second.ToString());
        first.Principal!.Issuer.Should().Be(_idp.Issuer);
        first.Principal.Audiences.Should().Equal(Resource);
        first.Principal.Scopes.Should().Equal("read", "write");
        first.Principal.EffectiveToken.Should().Be(raw);
        (await Introspections()).Should().Be(1);
        _idp.Count(await _idp.StatsAsync(), "/jwks").Should().Be(1, "metadata (with keys) is fetched once, not for each token");
    }

    [Fact]
    public async Task ThroughThePipeline_TokenForAnotherResource_IsRefusedOnItsAudience()
    {
        using var pipeline = Pipeline(audience: "https://mcp.example/opaque/other");
        var outcome = await pipeline.SendAsync(await _idp.IssueTokenAsync(Resource, "read"));
        outcome.Error.Should().Be(new AuthenticationError(
            AuthenticationErrorCode.InvalidToken, "The token's audience does not match this server.", StageName.Of<OfflineValidationBehavior>()));
    }

    [Fact]
    public async Task UnknownToken_IsInactive()
    {
        using var pipeline = Pipeline();
        var result = await pipeline.Get<TokenIntrospectionClient>().IntrospectAsync(Opaque.Parse("unknown-" + Guid.NewGuid().ToString("N")), CancellationToken.None);
        result.Should().Be(IntrospectionResult.Inactive("The token is not active."));
        (await Introspections()).Should().Be(1);

        var outcome = await pipeline.SendAsync("unknown-" + Guid.NewGuid().ToString("N"));
        outcome.Error.Should().Be(new AuthenticationError(AuthenticationErrorCode.InvalidToken, "The token is not active.", StageName.Of<IntrospectionBehavior>()));
    }

    [Fact]
    public async Task WrongSecret_IsUnavailable()
    {
        using var pipeline = Pipeline(i => i.IntrospectionClientSecret = "not-the-secret");
        var raw = await _idp.IssueTokenAsync(Resource, "read");

        var result = await pipeline.Get<TokenIntrospectionClient>().IntrospectAsync(Opaque.Parse(raw), CancellationToken.None);

        result.Should().Be(IntrospectionResult.Unavailable("HTTP 401"));
        var outcome = await pipeline.SendAsync(raw);
        outcome.Error!.Code.Should().Be(AuthenticationErrorCode.Unavailable, "our credentials are refused: not the caller's fault");
        outcome.Error.Stage.Should().Be(StageName.Of<IntrospectionBehavior>());
    }

    [Fact]
    public async Task ConfiguredEndpoint_IsUsed()
    {
        using var pipeline = Pipeline(i => i.IntrospectionEndpoint = _idp.Issuer + IntrospectionPath);
        var result = await pipeline.Get<TokenIntrospectionClient>().IntrospectAsync(Opaque.Parse(await _idp.IssueTokenAsync(Resource, "read")), CancellationToken.None);
        result.Status.Should().Be(PortStatus.Accepted, result.Reason);
        (await Introspections()).Should().Be(1);
    }

    [Fact]
    public async Task JwtAccessToken_ThroughThePipeline_IsNotIntrospected()
    {
        using var pipeline = Pipeline(audience: Harness.Resource);
        var outcome = await pipeline.SendAsync(await _idp.IssueTokenAsync(Harness.Resource, "read"));
        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        (await Introspections()).Should().Be(0);
    }
}

/// <summary>The introspection request and the reading of the answer, exactly, against a local fake endpoint.</summary>
public sealed class IntrospectionWireTests : IAsyncLifetime
{
    private const string ClientId = "mcp-server";
    private const string Secret = "test-secret";

    private FakeIntrospectionServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeIntrospectionServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Harness Client(Action<IntrospectionOptions>? introspection = null, string clientId = ClientId, Action<IServiceCollection>? services = null) =>
        new(
            o =>
            {
                o.AuthorizationUrl = _server.Issuer;
                o.Audience = "https://mcp.test/mcp";
                o.IntrospectionClientId = clientId;
            },
            b => b.AddOidcProvider().AddTokenIntrospection(i =>
            {
                i.IntrospectionClientSecret = Secret;
                introspection?.Invoke(i);
            }),
            services);

    private static Task<IntrospectionResult> Introspect(Harness harness, string raw = Opaque.Token) =>
        harness.Get<TokenIntrospectionClient>().IntrospectAsync(Opaque.Parse(raw), CancellationToken.None).AsTask();

    private static string FormEncode(string value) => Uri.EscapeDataString(value).Replace("%20", "+", StringComparison.Ordinal);

    private static string Basic(string id, string secret) =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(FormEncode(id) + ":" + FormEncode(secret)));

    [Fact]
    public async Task ClientSecretBasic_SendsExactlyTheTokenAndItsHint_WithBasicAuth()
    {
        using var client = Client();

        (await Introspect(client)).Status.Should().Be(PortStatus.Rejected);

        var sent = _server.Requests.Should().ContainSingle().Subject;
        sent.Authorization.Should().Be(Basic(ClientId, Secret));
        sent.ContentType.Should().StartWith("application/x-www-form-urlencoded");
        sent.Form.Should().Equal(
            new KeyValuePair<string, string>("token", Opaque.Token),
            new KeyValuePair<string, string>("token_type_hint", "access_token"));
    }

    [Fact]
    public async Task ClientSecretBasic_IdAndSecretAreFormEncodedBeforeBase64()
    {
        const string id = "mcp server:1";
        const string secret = "s p:c+%&=é/";
        using var client = Client(i => i.IntrospectionClientSecret = secret, clientId: id);

        await Introspect(client);

        var header = _server.Requests.Should().ContainSingle().Subject.Authorization;
        header.Should().Be(Basic(id, secret));
        var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..]));
        decoded.Count(c => c == ':').Should().Be(1, "a colon in the id or secret is encoded (RFC 6749 §2.3.1)");
        var parts = decoded.Split(':');
        System.Net.WebUtility.UrlDecode(parts[0]).Should().Be(id);
        System.Net.WebUtility.UrlDecode(parts[1]).Should().Be(secret);
    }

    [Fact]
    public async Task ClientSecretPost_SendsIdAndSecretInTheForm_NoAuthorizationHeader()
    {
        using var client = Client(i => i.IntrospectionClientAuth = IntrospectionClientAuthMethods.Post);

        await Introspect(client);

        var sent = _server.Requests.Should().ContainSingle().Subject;
        sent.Authorization.Should().BeEmpty();
        sent.ContentType.Should().StartWith("application/x-www-form-urlencoded");
        sent.Form.Should().Equal(
            new KeyValuePair<string, string>("client_id", ClientId),
            new KeyValuePair<string, string>("client_secret", Secret),
            new KeyValuePair<string, string>("token", Opaque.Token),
            new KeyValuePair<string, string>("token_type_hint", "access_token"));
    }

    [Fact]
    public async Task TokenWithB64TokenCharacters_ArrivesUnchanged()
    {
        const string raw = "a+b/c~d.e_f-g==";
        using var client = Client();
        await Introspect(client, raw);
        _server.Requests.Should().ContainSingle().Subject.Fields["token"].Should().Be(raw);
    }

    private const string Iss = "{ISS}";

    public static TheoryData<string, int, string, PortStatus, string?> Answers => new()
    {
        { "Active", 200, """{"active":true,"iss":"{ISS}","aud":"x","scope":"read"}""", PortStatus.Accepted, null },
        { "ActiveWithoutIss", 200, """{"active":true}""", PortStatus.Accepted, null },
        { "Inactive", 200, """{"active":false}""", PortStatus.Rejected, "The token is not active." },
        { "InactiveWithMalformedMembers", 200, """{"active":false,"aud":5,"exp":"x"}""", PortStatus.Rejected, "The token is not active." },
        { "Unauthorized401", 401, """{"error":"invalid_client"}""", PortStatus.Unavailable, "HTTP 401" },
        { "Forbidden403", 403, "", PortStatus.Unavailable, "HTTP 403" },
        { "BadRequest400", 400, """{"error":"invalid_request"}""", PortStatus.Unavailable, "HTTP 400" },
        { "ServerError500", 500, "oops", PortStatus.Unavailable, "HTTP 500" },
        { "ServerError500WithActiveTrue", 500, """{"active":true}""", PortStatus.Unavailable, "HTTP 500" },
        { "Created201", 201, """{"active":true}""", PortStatus.Unavailable, "HTTP 201" },
        { "NotJson", 200, "<html>hello</html>", PortStatus.Unavailable, "The introspection answer is not JSON." },
        { "Empty", 200, "", PortStatus.Unavailable, "The introspection answer is not JSON." },
        { "TruncatedJson", 200, """{"active":true""", PortStatus.Unavailable, "The introspection answer is not JSON." },
        { "ActiveIsAString", 200, """{"active":"true"}""", PortStatus.Unavailable, "The introspection answer is not an object with a boolean 'active'." },
        { "ActiveIsANumber", 200, """{"active":1}""", PortStatus.Unavailable, "The introspection answer is not an object with a boolean 'active'." },
        { "ActiveIsNull", 200, """{"active":null}""", PortStatus.Unavailable, "The introspection answer is not an object with a boolean 'active'." },
        { "NoActive", 200, """{"scope":"read"}""", PortStatus.Unavailable, "The introspection answer is not an object with a boolean 'active'." },
        { "Array", 200, """[{"active":true}]""", PortStatus.Unavailable, "The introspection answer is not an object with a boolean 'active'." },
        { "JsonString", 200, "\"active\"", PortStatus.Unavailable, "The introspection answer is not an object with a boolean 'active'." },
        { "JsonTrue", 200, "true", PortStatus.Unavailable, "The introspection answer is not an object with a boolean 'active'." },
        { "JsonNull", 200, "null", PortStatus.Unavailable, "The introspection answer is not an object with a boolean 'active'." },
        { "IssMismatch", 200, """{"active":true,"iss":"https://evil.test"}""", PortStatus.Rejected, "The token was not issued by the trusted authorization server." },
        { "IssWithTrailingSlash", 200, """{"active":true,"iss":"{ISS}/"}""", PortStatus.Rejected, "The token was not issued by the trusted authorization server." },
        { "TokenTypeRefreshToken", 200, """{"active":true,"token_type":"refresh_token"}""", PortStatus.Rejected, "The token is not an access token." },
        { "TokenTypeNA", 200, """{"active":true,"token_type":"N_A"}""", PortStatus.Rejected, "The token is not an access token." },
        { "TokenTypeIdToken", 200, """{"active":true,"token_type":"urn:ietf:params:oauth:token-type:id_token"}""", PortStatus.Rejected, "The token is not an access token." },
        { "TokenTypeBearer", 200, """{"active":true,"token_type":"Bearer"}""", PortStatus.Accepted, null },
        { "TokenTypeBearerLowerCase", 200, """{"active":true,"token_type":"bearer"}""", PortStatus.Accepted, null },
        { "TokenTypeDPoPWithItsKey", 200, """{"active":true,"token_type":"DPoP","cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}""", PortStatus.Accepted, null },
        { "TokenTypeDPoPWithoutKey", 200, """{"active":true,"token_type":"DPoP"}""", PortStatus.Rejected, "The token is DPoP-bound but its key is not known." },
        { "TokenTypeAccessToken", 200, """{"active":true,"token_type":"access_token"}""", PortStatus.Accepted, null },
        { "TokenTypeNumber", 200, """{"active":true,"token_type":1}""", PortStatus.Unavailable, "The introspection answer's 'token_type' is not a string." },
        { "TokenTypeObject", 200, """{"active":true,"token_type":{}}""", PortStatus.Unavailable, "The introspection answer's 'token_type' is not a string." },
        { "TokenTypeNull", 200, """{"active":true,"token_type":null}""", PortStatus.Accepted, null },
        { "DuplicateActive", 200, """{"active":false,"active":true}""", PortStatus.Unavailable, "The introspection answer is not JSON." },
        { "DuplicateIss", 200, """{"active":true,"iss":"https://evil.test","iss":"{ISS}"}""", PortStatus.Unavailable, "The introspection answer is not JSON." },
        { "DuplicateNestedMember", 200, """{"active":true,"cnf":{"jkt":"a","jkt":"b"}}""", PortStatus.Unavailable, "The introspection answer is not JSON." },
        { "Redirect302", 302, """{"active":true}""", PortStatus.Unavailable, "HTTP 302" },
        { "AudNumber", 200, """{"active":true,"aud":5}""", PortStatus.Unavailable, "The introspection answer's 'aud' is neither a string nor an array." },
        { "ExpString", 200, """{"active":true,"exp":"1700000000"}""", PortStatus.Unavailable, "The introspection answer's 'exp' is not a number." },
        { "IssNumber", 200, """{"active":true,"iss":1}""", PortStatus.Unavailable, "The introspection answer's 'iss' is not a string." },
        { "ScopeNumber", 200, """{"active":true,"scope":1}""", PortStatus.Unavailable, "The introspection answer's 'scope' is not a string." },
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public async Task Answer_IsReadAsRfc7662Says(string name, int status, string body, PortStatus expected, string? reason)
    {
        _server.Respond = context => FakeIntrospectionServer.Json(context, status, body.Replace(Iss, _server.Issuer, StringComparison.Ordinal));
        using var client = Client();

        var result = await Introspect(client);

        result.Status.Should().Be(expected, name);
        result.Reason.Should().Be(reason, name);
        if (expected == PortStatus.Accepted)
        {
            result.Token!.Raw.Should().Be(Opaque.Token);
            result.Token.IsIntrospected.Should().BeTrue();
        }
        else
        {
            result.Token.Should().BeNull(name);
        }

        _server.Requests.Should().ContainSingle(name);
    }

    [Fact]
    public async Task Redirect_IsNotFollowed()
    {
        _server.Respond = context =>
        {
            context.Response.Headers.Location = _server.Endpoint;
            return FakeIntrospectionServer.Json(context, 307, """{"active":true}""");
        };
        using var client = Client();

        (await Introspect(client)).Should().Be(IntrospectionResult.Unavailable("HTTP 307"));
        _server.Requests.Should().ContainSingle("the token and the secret are sent to the configured endpoint only");
    }

    [Fact]
    public async Task Active_ClaimsOfTheAnswerAreTheTokens()
    {
        var exp = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds();
        _server.Respond = context => FakeIntrospectionServer.Json(context, 200,
            $$$"""{"active":true,"iss":"{{{_server.Issuer}}}","sub":"alice","aud":["https://mcp.test/mcp","other"],"scope":"read write","exp":{{{exp}}},"client_id":"c1","cnf":{"jkt":"thumb"}}""");
        using var client = Client();

        var token = (await Introspect(client)).Token!;

        token.Subject.Should().Be("alice");
        token.Issuer.Should().Be(_server.Issuer);
        token.Audiences.Should().Equal("https://mcp.test/mcp", "other");
        token.Scopes.Should().Equal("read", "write");
        token.ExpiresAt.Should().Be(DateTimeOffset.FromUnixTimeSeconds(exp));
        token.ConfirmationThumbprint.Should().Be("thumb");
        token.Claims.Should().ContainSingle(c => c.Type == "client_id").Which.Value.Should().Be("c1");
    }

    [Fact]
    public async Task AnswerOverTheBound_IsUnavailable()
    {
        var pad = new string('x', TokenIntrospectionClient.MaxResponseBytes);
        _server.Respond = context => FakeIntrospectionServer.Json(context, 200, $$"""{"active":true,"pad":"{{pad}}"}""");
        using var client = Client();

        var result = await Introspect(client);

        result.Status.Should().Be(PortStatus.Unavailable);
        result.Token.Should().BeNull();
    }

    [Fact]
    public async Task AnswerJustUnderTheBound_IsRead()
    {
        var pad = new string('x', TokenIntrospectionClient.MaxResponseBytes - 100);
        _server.Respond = context => FakeIntrospectionServer.Json(context, 200, $$"""{"active":true,"pad":"{{pad}}"}""");
        using var client = Client();

        (await Introspect(client)).Status.Should().Be(PortStatus.Accepted);
    }

    [Fact]
    public async Task FloodOfDistinctTokens_AtMostMaxConcurrencyCallsInFlight_TheRestUnavailableAtOnce_ThenSlotsComeBack()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = 0;
        _server.Respond = async context =>
        {
            Interlocked.Increment(ref arrived);
            await release.Task.WaitAsync(context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            await FakeIntrospectionServer.Json(context, 200, """{"active":false}""");
        };
        using var client = Client(i => i.IntrospectionMaxConcurrency = 4);
        await client.Store.GetAsync(CancellationToken.None);
        var introspector = client.Get<TokenIntrospectionClient>();

        var held = Enumerable.Range(0, 4).Select(i => Introspect(client, "held-" + i)).ToList();
        while (Volatile.Read(ref arrived) < 4)
        {
            await Task.Delay(10);
        }

        var flood = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Introspect(client, "flood-" + i)));

        flood.Should().AllBeEquivalentTo(IntrospectionResult.Unavailable("Too many introspection calls are in flight."));
        introspector.InFlight.Should().Be(4);
        release.SetResult();
        (await Task.WhenAll(held)).Should().AllSatisfy(r => r.Status.Should().Be(PortStatus.Rejected));
        introspector.InFlight.Should().Be(0);
        (await Introspect(client, "after")).Status.Should().Be(PortStatus.Rejected, "the slots are free again");
        Volatile.Read(ref arrived).Should().Be(5, "the 40 refused calls never reached the endpoint");
    }

    [Fact]
    public async Task SlowAnswer_IsUnavailableWithinTheTimeout()
    {
        _server.Respond = async context =>
        {
            await Task.Delay(TimeSpan.FromSeconds(20), context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            await FakeIntrospectionServer.Json(context, 200, """{"active":true}""");
        };
        using var client = Client(i => i.IntrospectionTimeout = TimeSpan.FromSeconds(1));
        await client.Store.GetAsync(CancellationToken.None); // discovery outside the measured time

        var watch = Stopwatch.StartNew();
        var result = await Introspect(client);
        watch.Stop();

        result.Should().Be(IntrospectionResult.Unavailable("timed out after 1 s"));
        watch.Elapsed.Should().BeGreaterThan(TimeSpan.FromMilliseconds(900)).And.BeLessThan(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task SlowBody_IsUnavailableWithinTheTimeout()
    {
        _server.Respond = async context =>
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"active\":true,");
            await context.Response.Body.FlushAsync();
            await Task.Delay(TimeSpan.FromSeconds(20), context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        };
        using var client = Client(i => i.IntrospectionTimeout = TimeSpan.FromSeconds(1));
        await client.Store.GetAsync(CancellationToken.None);

        var watch = Stopwatch.StartNew();
        var result = await Introspect(client);
        watch.Stop();

        result.Status.Should().Be(PortStatus.Unavailable);
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task CallerCancellation_Throws()
    {
        _server.Respond = async context =>
        {
            await Task.Delay(TimeSpan.FromSeconds(20), context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        };
        using var client = Client();
        await client.Store.GetAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var act = async () => await client.Get<TokenIntrospectionClient>().IntrospectAsync(Opaque.Parse(), cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task EndpointDown_IsUnavailable()
    {
        using var client = Client(i => i.IntrospectionEndpoint = $"http://127.0.0.1:{Repo.FreePort()}/introspect");
        var result = await Introspect(client);
        result.Status.Should().Be(PortStatus.Unavailable);
        result.Reason.Should().Be(nameof(HttpRequestException));
    }

    [Fact]
    public async Task IssuerDown_IsUnavailable()
    {
        var issuer = _server.Issuer;
        await _server.DisposeAsync();
        _server = await FakeIntrospectionServer.StartAsync();
        using var client = new Harness(
            o =>
            {
                o.AuthorizationUrl = issuer;
                o.Audience = "https://mcp.test/mcp";
                o.IntrospectionClientId = ClientId;
            },
            b => b.AddOidcProvider().AddTokenIntrospection(i => i.IntrospectionClientSecret = Secret));

        (await Introspect(client)).Should().Be(IntrospectionResult.Unavailable("The issuer's metadata could not be fetched."));
    }

    [Fact]
    public async Task DiscoveredEndpoint_IsUsedWhenNoneIsConfigured()
    {
        using var client = Client();
        await Introspect(client);
        _server.Requests.Should().ContainSingle();
    }

    [Fact]
    public async Task NoEndpointPublishedOrConfigured_IsUnavailableWithoutACall()
    {
        _server.PublishIntrospectionEndpoint = false;
        using var client = Client();

        (await Introspect(client)).Should().Be(IntrospectionResult.Unavailable("The issuer publishes no introspection_endpoint and none is configured."));
        _server.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task ConfiguredEndpoint_WinsOverTheDiscoveredOne()
    {
        _server.PublishedEndpoint = "http://introspection.invalid/introspect";
        var sent = new ConcurrentQueue<Uri>();
        using var client = Client(
            i => i.IntrospectionEndpoint = _server.Endpoint,
            services: s => s.AddHttpClient(IssuerMetadataStore.HttpClientName).AddHttpMessageHandler(() => new RecordingHandler(sent)));

        await Introspect(client);

        _server.Requests.Should().ContainSingle();
        sent.Should().NotContain(u => u.Host == "introspection.invalid");
    }

    [Theory]
    [InlineData("Configured")]
    [InlineData("Discovered")]
    public async Task PlainHttpOffLoopback_IsUnavailableWithoutACall(string where)
    {
        const string offLoopback = "http://introspection.invalid/introspect";
        var sent = new ConcurrentQueue<Uri>();
        if (where == "Discovered")
        {
            _server.PublishedEndpoint = offLoopback;
        }

        using var client = Client(
            i => i.IntrospectionEndpoint = where == "Configured" ? offLoopback : null,
            services: s => s.AddHttpClient(IssuerMetadataStore.HttpClientName).AddHttpMessageHandler(() => new RecordingHandler(sent)));

        var result = await Introspect(client);

        result.Should().Be(IntrospectionResult.Unavailable("The introspection endpoint is not an allowed URL (https, or http on loopback)."));
        sent.Should().NotContain(u => u.Host == "introspection.invalid");
        sent.Should().NotBeEmpty("discovery went through the recording handler, so it would have seen the call");
        _server.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task SecretFile_IsReadAtEachCall()
    {
        var file = Path.Combine(Path.GetTempPath(), $"mcpauth-introspection-secret-{Guid.NewGuid():N}");
        try
        {
            await File.WriteAllTextAsync(file, "first-secret\n");
            using var client = Client(i =>
            {
                i.IntrospectionClientSecret = null;
                i.IntrospectionClientSecretFile = file;
            });

            await Introspect(client);
            await File.WriteAllTextAsync(file, "  second-secret  \n");
            await Introspect(client, "another-token");

            _server.Requests.Select(r => r.Authorization).Should().Equal(Basic(ClientId, "first-secret"), Basic(ClientId, "second-secret"));

            File.Delete(file);
            (await Introspect(client, "third-token")).Should().Be(IntrospectionResult.Unavailable("The introspection client secret cannot be read."));
            _server.Requests.Should().HaveCount(2, "nothing is sent without the secret");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Registration_PortIsTheCachingDecoratorAroundTheClient()
    {
        using var client = Client();
        var port = client.Get<ITokenIntrospector>();
        port.Should().BeOfType<CachingTokenIntrospector>();

        await port.IntrospectAsync(Opaque.Parse(), CancellationToken.None);
        await port.IntrospectAsync(Opaque.Parse(), CancellationToken.None);

        _server.Requests.Should().ContainSingle("an inactive answer is kept for a few seconds");
        ((CachingTokenIntrospector)port).Introspections.Should().Be(1);
    }

    [Fact]
    public async Task ThroughThePipeline_ActiveOpaqueToken_Succeeds()
    {
        var exp = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds();
        _server.Respond = context => FakeIntrospectionServer.Json(context, 200,
            $$"""{"active":true,"iss":"{{_server.Issuer}}","sub":"alice","aud":"https://mcp.test/mcp","scope":"read","exp":{{exp}}}""");
        using var client = Client();

        var outcome = await client.SendAsync(Opaque.Token);

        outcome.Succeeded.Should().BeTrue(outcome.ToString());
        outcome.Principal!.Subject.Should().Be("alice");
        outcome.Principal.Scopes.Should().Equal("read");
    }
}

/// <summary>The caching decorator: keys, lifetimes, coalescing, on a fake clock with a fake inner port.</summary>
public sealed class CachingTokenIntrospectorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _clock = new(Now);
    private readonly CountingIntrospector _inner = new();

    private CachingTokenIntrospector Cache(Action<IntrospectionOptions>? configure = null)
    {
        var options = new IntrospectionOptions();
        configure?.Invoke(options);
        return new CachingTokenIntrospector(_inner, Options.Create(options), new CacheKeys(), _clock);
    }

    private static IntrospectionResult ActiveUntil(ParsedToken token, DateTimeOffset? exp)
    {
        var json = exp is { } e ? $$"""{"active":true,"exp":{{e.ToUnixTimeSeconds()}}}""" : """{"active":true}""";
        using var document = JsonDocument.Parse(json);
        return IntrospectionResult.Active(ParsedToken.FromIntrospection(token.Raw, document.RootElement, out _)!);
    }

    private async Task<int> CallsAfter(CachingTokenIntrospector cache, TimeSpan elapsed, string raw = Opaque.Token)
    {
        _clock.SetUtcNow(Now + elapsed);
        await cache.IntrospectAsync(Opaque.Parse(raw), CancellationToken.None);
        return _inner.Calls;
    }

    [Fact]
    public async Task Active_ExpBeforeMaxAge_IsKeptUntilExpExactly()
    {
        _inner.Answer = t => ActiveUntil(t, Now.AddSeconds(60));
        var cache = Cache();

        (await CallsAfter(cache, TimeSpan.Zero)).Should().Be(1);
        (await CallsAfter(cache, TimeSpan.FromSeconds(60) - TimeSpan.FromTicks(1))).Should().Be(1);
        (await CallsAfter(cache, TimeSpan.FromSeconds(60))).Should().Be(2);
        cache.Introspections.Should().Be(2);
    }

    [Fact]
    public async Task Active_ExpAfterMaxAge_IsKeptForMaxAgeExactly()
    {
        _inner.Answer = t => ActiveUntil(t, Now.AddHours(1));
        var cache = Cache();

        (await CallsAfter(cache, TimeSpan.Zero)).Should().Be(1);
        (await CallsAfter(cache, TimeSpan.FromMinutes(2) - TimeSpan.FromTicks(1))).Should().Be(1);
        (await CallsAfter(cache, TimeSpan.FromMinutes(2))).Should().Be(2);
        (await CallsAfter(cache, TimeSpan.FromMinutes(4) - TimeSpan.FromTicks(1))).Should().Be(2, "kept for max age from the second call");
        (await CallsAfter(cache, TimeSpan.FromMinutes(4))).Should().Be(3);
    }

    [Fact]
    public async Task Active_WithoutExp_IsKeptForMaxAge()
    {
        _inner.Answer = t => ActiveUntil(t, null);
        var cache = Cache(o => o.IntrospectionCacheMaxAge = TimeSpan.FromSeconds(30));

        (await CallsAfter(cache, TimeSpan.Zero)).Should().Be(1);
        (await CallsAfter(cache, TimeSpan.FromSeconds(29))).Should().Be(1);
        (await CallsAfter(cache, TimeSpan.FromSeconds(30))).Should().Be(2);
    }

    [Fact]
    public async Task Active_AlreadyExpired_IsNotKept()
    {
        _inner.Answer = t => ActiveUntil(t, Now.AddSeconds(-5));
        var cache = Cache();

        (await CallsAfter(cache, TimeSpan.Zero)).Should().Be(1);
        (await CallsAfter(cache, TimeSpan.Zero)).Should().Be(2);
    }

    [Fact]
    public async Task Active_MaxAgeZero_IsNotKept()
    {
        _inner.Answer = t => ActiveUntil(t, Now.AddHours(1));
        var cache = Cache(o => o.IntrospectionCacheMaxAge = TimeSpan.Zero);

        (await CallsAfter(cache, TimeSpan.Zero)).Should().Be(1);
        (await CallsAfter(cache, TimeSpan.Zero)).Should().Be(2);
    }

    [Fact]
    public async Task Inactive_IsKeptForTenSeconds()
    {
        _inner.Answer = _ => IntrospectionResult.Inactive("The token is not active.");
        var cache = Cache();

        (await CallsAfter(cache, TimeSpan.Zero)).Should().Be(1);
        (await CallsAfter(cache, TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1))).Should().Be(1);
        (await CallsAfter(cache, TimeSpan.FromSeconds(10))).Should().Be(2);
    }

    [Fact]
    public async Task Inactive_TtlZero_IsNotKept()
    {
        _inner.Answer = _ => IntrospectionResult.Inactive("The token is not active.");
        var cache = Cache(o => o.IntrospectionInactiveCacheTtl = TimeSpan.Zero);

        (await CallsAfter(cache, TimeSpan.Zero)).Should().Be(1);
        (await CallsAfter(cache, TimeSpan.Zero)).Should().Be(2);
    }

    [Fact]
    public async Task Unavailable_IsNotKept()
    {
        _inner.Answer = _ => IntrospectionResult.Unavailable("HTTP 500");
        var cache = Cache();

        (await CallsAfter(cache, TimeSpan.Zero)).Should().Be(1);
        (await CallsAfter(cache, TimeSpan.Zero)).Should().Be(2);
        (await CallsAfter(cache, TimeSpan.Zero)).Should().Be(3);
    }

    [Fact]
    public async Task Revocation_IsSeenAfterMaxAge()
    {
        _inner.Answer = t => ActiveUntil(t, Now.AddHours(1));
        var cache = Cache();
        (await cache.IntrospectAsync(Opaque.Parse(), CancellationToken.None)).Status.Should().Be(PortStatus.Accepted);

        _inner.Answer = _ => IntrospectionResult.Inactive("The token is not active.");
        _clock.SetUtcNow(Now.AddMinutes(1));
        (await cache.IntrospectAsync(Opaque.Parse(), CancellationToken.None)).Status.Should().Be(PortStatus.Accepted, "still inside max age");
        _clock.SetUtcNow(Now.AddMinutes(2));
        (await cache.IntrospectAsync(Opaque.Parse(), CancellationToken.None)).Status.Should().Be(PortStatus.Rejected);
        _inner.Calls.Should().Be(2);
    }

    [Fact]
    public async Task DifferentTokens_AreDifferentEntries()
    {
        _inner.Answer = t => t.Raw == "token-a" ? ActiveUntil(t, Now.AddHours(1)) : IntrospectionResult.Inactive("The token is not active.");
        var cache = Cache();

        var a = await cache.IntrospectAsync(Opaque.Parse("token-a"), CancellationToken.None);
        var b = await cache.IntrospectAsync(Opaque.Parse("token-b"), CancellationToken.None);
        var a2 = await cache.IntrospectAsync(Opaque.Parse("token-a"), CancellationToken.None);
        var b2 = await cache.IntrospectAsync(Opaque.Parse("token-b"), CancellationToken.None);

        _inner.Calls.Should().Be(2);
        _inner.Seen.Should().Equal("token-a", "token-b");
        a.Status.Should().Be(PortStatus.Accepted);
        a2.Token!.Raw.Should().Be("token-a");
        b.Status.Should().Be(PortStatus.Rejected);
        b2.Status.Should().Be(PortStatus.Rejected);
    }

    [Fact]
    public async Task ConcurrentIdenticalCalls_RunOnce()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _inner.Answer = t => ActiveUntil(t, Now.AddHours(1));
        _inner.Gate = release.Task;
        var cache = Cache();

        var calls = Enumerable.Range(0, 50).Select(_ => cache.IntrospectAsync(Opaque.Parse(), CancellationToken.None).AsTask()).ToList();
        await Task.Delay(100);
        release.SetResult();
        var results = await Task.WhenAll(calls);

        _inner.Calls.Should().Be(1);
        results.Should().OnlyContain(r => r.Status == PortStatus.Accepted && r.Token!.Raw == Opaque.Token);
        cache.Introspections.Should().Be(1);
    }

    [Fact]
    public async Task MaxEntriesZero_KeepsNothing()
    {
        _inner.Answer = t => ActiveUntil(t, Now.AddHours(1));
        var cache = Cache(o => o.IntrospectionCacheMaxEntries = 0);

        (await CallsAfter(cache, TimeSpan.Zero)).Should().Be(1);
        (await CallsAfter(cache, TimeSpan.Zero)).Should().Be(2);
    }

    [Fact]
    public async Task CallerCancellation_DoesNotCancelTheSharedCall()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _inner.Answer = t => ActiveUntil(t, Now.AddHours(1));
        _inner.Gate = release.Task;
        var cache = Cache();
        using var cancel = new CancellationTokenSource();

        var cancelled = cache.IntrospectAsync(Opaque.Parse(), cancel.Token).AsTask();
        var other = cache.IntrospectAsync(Opaque.Parse(), CancellationToken.None).AsTask();
        await cancel.CancelAsync();
        await cancelled.Invoking(t => t).Should().ThrowAsync<OperationCanceledException>();
        release.SetResult();

        (await other).Status.Should().Be(PortStatus.Accepted);
        _inner.Calls.Should().Be(1);
        _inner.Tokens.Should().OnlyContain(t => !t.CanBeCanceled);
    }

    private sealed class CountingIntrospector : ITokenIntrospector
    {
        private int _calls;

        public Func<ParsedToken, IntrospectionResult> Answer { get; set; } = _ => IntrospectionResult.Unavailable("not set");

        public Task Gate { get; set; } = Task.CompletedTask;

        public int Calls => Volatile.Read(ref _calls);

        public ConcurrentQueue<string> Seen { get; } = new();

        public ConcurrentQueue<CancellationToken> Tokens { get; } = new();

        public async ValueTask<IntrospectionResult> IntrospectAsync(ParsedToken token, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            Seen.Enqueue(token.Raw);
            Tokens.Enqueue(cancellationToken);
            await Gate;
            return Answer(token);
        }
    }
}

/// <summary>The introspection adapter's settings: each wrong one refused with its configuration key.</summary>
public sealed class IntrospectionOptionsValidatorTests
{
    private static ValidateOptionsResult Validate(string? clientId, Action<IntrospectionOptions> configure)
    {
        var options = new IntrospectionOptions();
        configure(options);
        var mcpAuth = new McpAuthOptions { AuthorizationUrl = "https://issuer.test", Audience = "mcp", IntrospectionClientId = clientId };
        return new IntrospectionOptionsValidator(Options.Create(mcpAuth)).Validate(Options.DefaultName, options);
    }

    private static readonly string ExistingFile = typeof(IntrospectionOptionsValidatorTests).Assembly.Location;

    public static TheoryData<string, string?, Action<IntrospectionOptions>, string[]> Refused => new()
    {
        {
            "NoSecret", "mcp-server", _ => { },
            ["McpAuth:IntrospectionClientId is set without McpAuth:IntrospectionClientSecret or McpAuth:IntrospectionClientSecretFile: the introspection endpoint only answers an authenticated client (RFC 7662 §2.1)."]
        },
        {
            "SecretAndFile", "mcp-server", o => { o.IntrospectionClientSecret = "s"; o.IntrospectionClientSecretFile = ExistingFile; },
            ["Set one of McpAuth:IntrospectionClientSecret and McpAuth:IntrospectionClientSecretFile, not both."]
        },
        {
            "MissingFile", "mcp-server", o => o.IntrospectionClientSecretFile = "/nonexistent/introspection-secret",
            ["McpAuth:IntrospectionClientSecretFile names a file that does not exist: '/nonexistent/introspection-secret'."]
        },
        {
            "RelativeEndpoint", "mcp-server", o => { o.IntrospectionClientSecret = "s"; o.IntrospectionEndpoint = "/introspect"; },
            ["McpAuth:IntrospectionEndpoint must be an absolute http(s) URL."]
        },
        {
            "FtpEndpoint", "mcp-server", o => { o.IntrospectionClientSecret = "s"; o.IntrospectionEndpoint = "ftp://i.test/introspect"; },
            ["McpAuth:IntrospectionEndpoint must be an absolute http(s) URL."]
        },
        {
            "UnknownAuthMethod", "mcp-server", o => { o.IntrospectionClientSecret = "s"; o.IntrospectionClientAuth = "private_key_jwt"; },
            ["McpAuth:IntrospectionClientAuth must be client_secret_basic or client_secret_post, not 'private_key_jwt'."]
        },
        {
            "ZeroTimeout", "mcp-server", o => { o.IntrospectionClientSecret = "s"; o.IntrospectionTimeout = TimeSpan.Zero; },
            ["McpAuth:IntrospectionTimeout must be between 0 and 1 minute."]
        },
        {
            "HugeTimeout", "mcp-server", o => { o.IntrospectionClientSecret = "s"; o.IntrospectionTimeout = TimeSpan.FromMinutes(1) + TimeSpan.FromTicks(1); },
            ["McpAuth:IntrospectionTimeout must be between 0 and 1 minute."]
        },
        {
            "NegativeMaxAge", "mcp-server", o => { o.IntrospectionClientSecret = "s"; o.IntrospectionCacheMaxAge = TimeSpan.FromSeconds(-1); },
            ["McpAuth:IntrospectionCacheMaxAge, McpAuth:IntrospectionInactiveCacheTtl and McpAuth:IntrospectionCacheMaxEntries must not be negative."]
        },
        {
            "NegativeInactiveTtl", "mcp-server", o => { o.IntrospectionClientSecret = "s"; o.IntrospectionInactiveCacheTtl = TimeSpan.FromSeconds(-1); },
            ["McpAuth:IntrospectionCacheMaxAge, McpAuth:IntrospectionInactiveCacheTtl and McpAuth:IntrospectionCacheMaxEntries must not be negative."]
        },
        {
            "NegativeMaxEntries", "mcp-server", o => { o.IntrospectionClientSecret = "s"; o.IntrospectionCacheMaxEntries = -1; },
            ["McpAuth:IntrospectionCacheMaxAge, McpAuth:IntrospectionInactiveCacheTtl and McpAuth:IntrospectionCacheMaxEntries must not be negative."]
        },
        {
            "SecretWithoutClientId", null, o => o.IntrospectionClientSecret = "s",
            ["McpAuth:IntrospectionClientSecret have no effect without McpAuth:IntrospectionClientId: set it (and McpAuth:AuthorizationUrl), or remove them."]
        },
        {
            "EndpointAndFileWithoutClientId", " ", o => { o.IntrospectionClientSecretFile = ExistingFile; o.IntrospectionEndpoint = "https://i.test/introspect"; },
            ["McpAuth:IntrospectionClientSecretFile, McpAuth:IntrospectionEndpoint have no effect without McpAuth:IntrospectionClientId: set it (and McpAuth:AuthorizationUrl), or remove them."]
        },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Validate_WrongSetting_IsRefusedNamingItsKey(string name, string? clientId, Action<IntrospectionOptions> configure, string[] failures)
    {
        var result = Validate(clientId, configure);
        result.Failed.Should().BeTrue(name);
        result.Failures.Should().Equal(failures, name);
    }

    public static TheoryData<string, string?, Action<IntrospectionOptions>> Accepted => new()
    {
        { "Off", null, _ => { } },
        { "Secret", "mcp-server", o => o.IntrospectionClientSecret = "s" },
        { "SecretFile", "mcp-server", o => o.IntrospectionClientSecretFile = ExistingFile },
        { "PostAuth", "mcp-server", o => { o.IntrospectionClientSecret = "s"; o.IntrospectionClientAuth = IntrospectionClientAuthMethods.Post; } },
        { "HttpsEndpoint", "mcp-server", o => { o.IntrospectionClientSecret = "s"; o.IntrospectionEndpoint = "https://i.test/introspect"; } },
        { "CacheOff", "mcp-server", o => { o.IntrospectionClientSecret = "s"; o.IntrospectionCacheMaxAge = TimeSpan.Zero; o.IntrospectionInactiveCacheTtl = TimeSpan.Zero; o.IntrospectionCacheMaxEntries = 0; } },
        { "TimeoutOneMinute", "mcp-server", o => { o.IntrospectionClientSecret = "s"; o.IntrospectionTimeout = TimeSpan.FromMinutes(1); } },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void Validate_GoodSettings_Pass(string name, string? clientId, Action<IntrospectionOptions> configure)
    {
        Validate(clientId, configure).Should().BeSameAs(ValidateOptionsResult.Success, name);
    }

    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var o = new IntrospectionOptions();
        o.IntrospectionClientAuth.Should().Be("client_secret_basic");
        o.IntrospectionTimeout.Should().Be(TimeSpan.FromSeconds(5));
        o.IntrospectionCacheMaxAge.Should().Be(TimeSpan.FromMinutes(2));
        o.IntrospectionInactiveCacheTtl.Should().Be(TimeSpan.FromSeconds(10));
        o.IntrospectionCacheMaxEntries.Should().Be(10_000);
        o.IntrospectionEndpoint.Should().BeNull();
        TokenIntrospectionClient.MaxResponseBytes.Should().Be(64 * 1024);
    }

    [Fact]
    public void Registration_WrongSettings_FailWhenTheOptionsAreRead()
    {
        using var harness = new Harness(
            o =>
            {
                o.AuthorizationUrl = "https://issuer.test";
                o.Audience = "mcp";
                o.IntrospectionClientId = "mcp-server";
            },
            b => b.AddOidcProvider().AddTokenIntrospection());
        var act = () => harness.Get<IOptions<IntrospectionOptions>>().Value;
        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().ContainSingle()
            .Which.Should().StartWith("McpAuth:IntrospectionClientId is set without McpAuth:IntrospectionClientSecret");
    }
}
