using McpAuth.Ports;
using MediatR;
using Microsoft.Extensions.DependencyInjection;

namespace McpAuth.Kubernetes.Tests;

/// <summary>
/// The real pipeline with the real adapters, configured per test. A plain <see cref="ServiceProvider"/>: options are
/// validated when first read (as <c>ValidateOnStart</c> would at start).
/// </summary>
internal sealed class Harness : IDisposable
{
    public const string Resource = "https://mcp.test/mcp";

    private readonly ServiceProvider _provider;

    public Harness(Action<McpAuthOptions> configure, Action<McpAuthBuilder> adapters, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        collection.AddLogging();
        adapters(collection.AddMcpAuth(configure));
        services?.Invoke(collection);
        _provider = collection.BuildServiceProvider();
    }

    public T Get<T>() where T : notnull => _provider.GetRequiredService<T>();

    /// <summary>
    /// Sends the token as a request addressed to <paramref name="target"/> ("" = the current context). The calls are
    /// supplied: without them the TokenReview stage refuses the request.
    /// </summary>
    public Task<AuthenticationOutcome> SendAsync(string token, string target = "") =>
        Get<IMediator>().Send(AuthenticateRequest.ForTarget("Bearer " + token, target));

    public Task<AuthenticationOutcome> SendAsync(AuthenticateRequest request) => Get<IMediator>().Send(request);

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
