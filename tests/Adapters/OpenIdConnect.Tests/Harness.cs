using McpAuth.Adapters.Oidc;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace McpAuth.Adapters.Tests;

/// <summary>The real pipeline with the real adapters, configured per test.</summary>
internal sealed class Harness : IDisposable
{
    public const string Resource = "https://mcp.test/mcp";
    public const string Es256Resource = "https://mcp.test/es256/mcp";

    private readonly ServiceProvider _provider;

    public Harness(Action<McpAuthOptions> configure, Action<McpAuthBuilder>? adapters = null, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        collection.AddLogging();
        var builder = collection.AddMcpAuth(o =>
        {
            o.RequireOAuth = true;
            configure(o);
        });
        (adapters ?? (b => b.AddDefaultAdapters()))(builder);
        services?.Invoke(collection);
        _provider = collection.BuildServiceProvider();
    }

    public T Get<T>() where T : notnull => _provider.GetRequiredService<T>();

    public Task<AuthenticationOutcome> SendAsync(string token, string? target = null) =>
        Get<IMediator>().Send(new AuthenticateRequest("Bearer " + token, target));

    public Task<Ports.OidcValidationResult> ValidateDirectAsync(string token) =>
        Get<Ports.IOidcTokenValidator>().ValidateAsync(new JsonWebToken(token), CancellationToken.None).AsTask();

    public IssuerMetadataStore Store => Get<IssuerMetadataStore>();

    public void Dispose() => _provider.Dispose();
}

internal static class Claims
{
    public static Dictionary<string, object> For(string issuer, string audience = Harness.Resource, int expiresInSeconds = 600, int notBeforeInSeconds = -60)
    {
        var now = DateTimeOffset.UtcNow;
        return new Dictionary<string, object>
        {
            ["iss"] = issuer,
            ["sub"] = "alice",
            ["aud"] = audience,
            ["exp"] = now.AddSeconds(expiresInSeconds).ToUnixTimeSeconds(),
            ["nbf"] = now.AddSeconds(notBeforeInSeconds).ToUnixTimeSeconds(),
            ["iat"] = now.AddSeconds(-60).ToUnixTimeSeconds(),
            ["scope"] = "read",
        };
    }
}
