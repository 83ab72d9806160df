using Garnet;
using McpAuth.TestPeers;

namespace McpAuth.Redis.Tests;

/// <summary>A real Redis-protocol server (Microsoft Garnet) in this process on 127.0.0.1, that a test can stop and start again.</summary>
public sealed class GarnetStore : IDisposable
{
    private GarnetServer? _server;

    public GarnetStore()
    {
        Port = Repo.FreePort();
        Start();
    }

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port}";

    public void Start()
    {
        _server = new GarnetServer(["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1"]);
        _server.Start();
    }

    public void Stop()
    {
        _server?.Dispose();
        _server = null;
    }

    public void Dispose() => Stop();
}
