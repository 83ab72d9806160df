using System.Net;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace McpAuth.AspNetCore.Tests;

/// <summary>What downstream code sees: the token's claims as in the token, one claim per scope, the feature, the header.</summary>
public sealed class PrincipalTests
{
    private static void Probe(WebApplication app) =>
        app.MapPost("/probe", (HttpContext c) => Results.Json(new
        {
            authorization = c.Request.Headers.Authorization.ToString(),
            effective = c.Features.Get<McpAuthFeature>()!.EffectiveToken,
            name = c.User.Identity!.Name,
            claims = c.User.Claims.Select(x => new[] { x.Type, x.Value }).ToArray(),
            isAdminRole = c.User.IsInRole("admin"),
        })).RequireMcpAuth().WithMetadata(McpAuthEndpointMetadata.NotMcp);

    private static async Task<JsonElement> CallProbe(EmbeddedApp app, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/probe") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        using var response = await app.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    [Fact]
    public async Task Claims_KeepTheirTypesFromTheToken_AndEachScopeIsAClaim()
    {
        await using var app = await EmbeddedApp.StartAsync(endpoints: Probe);
        var token = EmbeddedApp.Token("read write", extra: new Dictionary<string, object> { ["tenant"] = "acme", ["roles"] = new[] { "admin", "ops" }, ["email"] = "a@x" });
        var json = await CallProbe(app, token);
        var claims = json.GetProperty("claims").EnumerateArray().Select(c => (c[0].GetString()!, c[1].GetString()!)).ToList();
        claims.Should().Contain(("sub", "alice")).And.Contain(("iss", "https://issuer.test")).And.Contain(("tenant", "acme"))
            .And.Contain(("email", "a@x")).And.Contain(("aud", EmbeddedApp.Resource)).And.Contain(("roles", "admin")).And.Contain(("roles", "ops"));
        claims.Where(c => c.Item1 == "scope").Select(c => c.Item2).Should().Equal("read", "write");
        claims.Should().NotContain(c => c.Item1.StartsWith("http://schemas", StringComparison.Ordinal), "no inbound claim mapping");
        json.GetProperty("name").GetString().Should().Be("alice");
        json.GetProperty("isAdminRole").GetBoolean().Should().BeTrue();
        json.GetProperty("authorization").GetString().Should().Be("Bearer " + token, "not exchanged: the header is left as sent");
    }

    [Fact]
    public async Task RequireClaimPolicies_WorkOnTheTokensClaims()
    {
        await using var app = await EmbeddedApp.StartAsync(
            services: b => b.Services.AddAuthorizationBuilder().AddPolicy("acme", p => p.RequireClaim("tenant", "acme").RequireClaim("scope", "write")),
            endpoints: a => a.MapGet("/acme", () => "ok").RequireMcpAuth().RequireAuthorization("acme").WithMetadata(McpAuthEndpointMetadata.NotMcp));
        async Task<HttpStatusCode> Get(string token)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/acme");
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            using var response = await app.Client.SendAsync(request);
            return response.StatusCode;
        }

        (await Get(EmbeddedApp.Token("read write", extra: new Dictionary<string, object> { ["tenant"] = "acme" }))).Should().Be(HttpStatusCode.OK);
        (await Get(EmbeddedApp.Token("read", extra: new Dictionary<string, object> { ["tenant"] = "acme" }))).Should().Be(HttpStatusCode.Forbidden);
        (await Get(EmbeddedApp.Token("read write", extra: new Dictionary<string, object> { ["tenant"] = "other" }))).Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task AfterAnExchange_DownstreamSeesTheExchangedTokenInTheHeaderAndTheFeature()
    {
        await using var app = await EmbeddedApp.StartAsync(o => { o.StsClientId = "c"; o.StsAudience = "k8s"; }, endpoints: Probe);
        var json = await CallProbe(app, EmbeddedApp.Token());
        json.GetProperty("authorization").GetString().Should().Be("Bearer exchanged-token");
        json.GetProperty("effective").GetString().Should().Be("exchanged-token");
        app.Exchange.Calls.Should().Be(1);
    }

    [Fact]
    public async Task RepeatedToken_IsVerifiedOnce_AndGetsAFreshIdentityEachTime()
    {
        var identities = new List<ClaimsIdentity>();
        await using var app = await EmbeddedApp.StartAsync(endpoints: a => a.MapGet("/id", (HttpContext c) =>
        {
            lock (identities)
            {
                identities.Add((ClaimsIdentity)c.User.Identity!);
            }

            ((ClaimsIdentity)c.User.Identity!).AddClaim(new Claim("added-by-app", "x"));
            return "ok";
        }).RequireMcpAuth().WithMetadata(McpAuthEndpointMetadata.NotMcp));
        var token = EmbeddedApp.Token();
        for (var i = 0; i < 3; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/id");
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            (await app.Client.SendAsync(request)).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        app.Oidc.Calls.Should().Be(1, "the validated-token cache answers the repeats");
        identities.Should().HaveCount(3).And.OnlyHaveUniqueItems();
        identities.Should().OnlyContain(i => i.Claims.Count(c => c.Type == "added-by-app") == 1, "what an app adds to one request's identity never leaks into the next");
    }
}
