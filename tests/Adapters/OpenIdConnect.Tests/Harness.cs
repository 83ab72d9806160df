using McpAuth.Ports;
using McpAuth.Tokens;
using MediatR;
using Microsoft.Extensions.DependencyInjection;

namespace McpAuth.OpenIdConnect.Tests;

/// <summary>
/// The real pipeline with the real adapters, configured per test. A plain <see cref="ServiceProvider"/>: options are
/// validated when first read (as <c>ValidateOnStart</c> would at start).
/// </summary>
internal sealed class Harness : IDisposable
{
    public const string Resource = "https://mcp.test/mcp";
    public const string Es256Resource = "https://mcp.test/es256/mcp";

    private readonly ServiceProvider _provider;

    /// <param name="configure">The pipeline's settings.</param>
    /// <param name="adapters">The adapters; default: the OIDC provider adapter only.</param>
    /// <param name="services">Anything else (a fake clock, a recording HTTP handler).</param>
    public Harness(Action<McpAuthOptions> configure, Action<McpAuthBuilder>? adapters = null, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        collection.AddLogging();
        var builder = collection.AddMcpAuth(configure);
        (adapters ?? (b => b.AddOidcProvider()))(builder);
        services?.Invoke(collection);
        _provider = collection.BuildServiceProvider();
    }

    public T Get<T>() where T : notnull => _provider.GetRequiredService<T>();

    /// <summary>Sends the token as a request addressed to <paramref name="target"/> (calls supplied, so every stage can run).</summary>
    public Task<AuthenticationOutcome> SendAsync(string token, string target = "") =>
        Get<IMediator>().Send(AuthenticateRequest.ForTarget("Bearer " + token, target));

    /// <summary>The validator port directly, with the token parsed as the parse stage would.</summary>
    public Task<OidcValidationResult> ValidateDirectAsync(string token)
    {
        var parsed = ParsedToken.TryParse(token, 16384, out var error) ?? throw new ArgumentException("not a parseable token: " + error, nameof(token));
        return Get<IOidcTokenValidator>().ValidateAsync(parsed, CancellationToken.None).AsTask();
    }

    public IssuerMetadataStore Store => Get<IssuerMetadataStore>();

    public IPeerHealthProbe Probe(string name) => Get<IEnumerable<IPeerHealthProbe>>().Single(p => p.Name == name);

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
