using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using McpAuth.Host;
using McpAuth.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace McpAuth.Redis.Tests;

/// <summary>McpAuth:SharedCache off changes nothing; on, it needs a valid McpAuth:SharedCacheKey.</summary>
public sealed class ConfigurationTests(IssuerFixture issuer) : IClassFixture<IssuerFixture>
{
    [Fact]
    public async Task WithoutSharedCache_NoStoreConnectionIsAttempted_EvenByReadiness()
    {
        // Anything that tries the default store (localhost:6379) is seen here.
        var attempts = new ConcurrentQueue<EndPoint?>();
        using var v4 = Listen(IPAddress.Loopback, attempts);
        using var v6 = Listen(IPAddress.IPv6Loopback, attempts);
        await using var replicas = await Replicas.StartAsync(issuer);
        await replicas.AddAsync(store: null, sharedKey: null);

        (await replicas.WhoAmIAsync(0, await replicas.NewTokenAsync())).Status.Should().Be(HttpStatusCode.OK);
        var readiness = await replicas.ReadyzAsync(0);
        var shared = replicas[0].GetServices<IPeerHealthProbe>().Single(p => p.Name == "shared-cache");
        var health = await shared.CheckAsync(CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(1));

        readiness.Should().Be((HttpStatusCode.OK, "Healthy"));
        health.Status.Should().Be(PeerHealthStatus.Healthy);
        replicas[0].GetRequiredService<ISharedCache>().GetType().Name.Should().Be("NoSharedCache", "the caches stay in-process");
        attempts.Should().BeEmpty("without McpAuth:SharedCache no store connection is attempted");
    }

    public static TheoryData<string, string?> RefusedKeys => new()
    {
        { "Missing", null },
        { "Empty", "" },
        { "NotBase64", "this is not base64!" },
        { "TooShort31Bytes", Replicas.NewSecret(31) },
    };

    [Theory]
    [MemberData(nameof(RefusedKeys))]
    public void SharedCache_WithoutAValidSharedCacheKey_RefusesToStart_NamingTheKey(string row, string? key)
    {
        var result = Build("127.0.0.1:6379", key);

        result.App.Should().BeNull(row);
        result.ExitCode.Should().Be(2);
        result.Message.Should().Contain("McpAuth:SharedCacheKey").And.Contain("--shared-cache (McpAuth:SharedCache)");
        if (key is { Length: > 0 })
        {
            result.Message.Should().NotContain(key, "the refusal never repeats the secret");
        }
    }

    [Fact]
    public async Task SharedCache_With32ByteKey_Starts()
    {
        var result = Build("127.0.0.1:1", Replicas.NewSecret(32));

        result.App.Should().NotBeNull(result.Message);
        await result.App!.DisposeAsync();
    }

    [Fact]
    public void SharedCacheKey_ReadFromASecretFileWithATrailingNewline_IsTheSameSecret()
    {
        var secret = Replicas.NewSecret();

        SharedCacheSecrets.TryCreate(secret + "\n")!.KeyKey.Should().Equal(SharedCacheSecrets.TryCreate(secret)!.KeyKey);
        SharedCacheSecrets.TryCreate(" " + secret + "\r\n")!.ValueKey.Should().Equal(SharedCacheSecrets.TryCreate(secret)!.ValueKey);
    }

    [Fact]
    public async Task SharedCache_NotAConfigurationString_RefusesToStart_NamingTheSetting()
    {
        var result = Build("127.0.0.1:6379,nosuchoption=1", Replicas.NewSecret());
        Exception? atStart = null;
        if (result.App is { } app)
        {
            try
            {
                await app.StartAsync();
                await app.StopAsync();
            }
            catch (Exception ex)
            {
                atStart = ex;
            }

            await app.DisposeAsync();
        }

        atStart.Should().BeNull("a bad setting is refused with a reason, not thrown at start");
        result.ExitCode.Should().Be(2);
        result.Message.Should().Contain("McpAuth:SharedCache");
    }

    private static McpAuthHost.BuildResult Build(string store, string? key) =>
        McpAuthHost.Build(
            ["--port", "0", "--require-oauth", "--authorization-url", "https://issuer.example", "--server-url", "https://mcp.example.com", "--shared-cache", store],
            b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["McpAuth:SharedCacheKey"] = key }));

    private static TcpListener? Listen(IPAddress address, ConcurrentQueue<EndPoint?> attempts)
    {
        TcpListener listener;
        try
        {
            listener = new TcpListener(address, 6379);
            listener.Start();
        }
        catch (SocketException)
        {
            return null; // no such loopback here, or the port is taken
        }

        _ = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    using var client = await listener.AcceptTcpClientAsync();
                    attempts.Enqueue(client.Client.RemoteEndPoint);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
        });
        return listener;
    }
}
