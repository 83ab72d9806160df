using System.Net;
using System.Net.Sockets;

namespace McpAuth.AspNetCore.Tests.FaultMatrix;

/// <summary>
/// A port on 127.0.0.1 in front of one of the fault peer's listeners, so that one peer can refuse connections on one
/// URL while its other URLs answer. Open: it accepts and forwards bytes both ways (plain HTTP or TLS alike). Closed:
/// the port stays bound but does not listen, so a connection attempt is refused (RST, <c>ECONNREFUSED</c>) and no other
/// process can take the port; closing also drops every forwarded connection, so a client's pooled keep-alive
/// connections die with it.
/// </summary>
internal sealed class TcpGate : IDisposable
{
    private readonly IPEndPoint _backend;
    private readonly Lock _lock = new();
    private readonly HashSet<Socket> _connections = [];
    private Socket _socket;
    private bool _open;
    private bool _disposed;
    private int _accepted;

    public TcpGate(IPEndPoint backend)
    {
        _backend = backend;
        _socket = Bind(0);
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
    }

    public int Port { get; }

    /// <summary>Connections accepted since the last <see cref="ResetCount"/>.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    public bool IsOpen
    {
        get
        {
            lock (_lock)
            {
                return _open;
            }
        }
    }

    public void ResetCount() => Interlocked.Exchange(ref _accepted, 0);

    public void Open()
    {
        lock (_lock)
        {
            if (_open || _disposed)
            {
                return;
            }

            _socket.Listen(128);
            _open = true;
            _ = AcceptLoopAsync(_socket);
        }
    }

    /// <summary>Stops listening (new connections are refused) and drops the connections already forwarded.</summary>
    public void Close()
    {
        lock (_lock)
        {
            DropConnections();
            if (!_open)
            {
                return;
            }

            _open = false;
            _socket.Dispose();
            _socket = Bind(Port); // held, not listening: refused, and nobody else gets the port
        }
    }

    /// <summary>Drops every forwarded connection (the client must connect again, e.g. to see a new certificate).</summary>
    public void DropConnections()
    {
        Socket[] connections;
        lock (_lock)
        {
            connections = [.. _connections];
            _connections.Clear();
        }

        foreach (var connection in connections)
        {
            connection.Dispose();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _open = false;
            _socket.Dispose();
        }

        DropConnections();
    }

    private static Socket Bind(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
        return socket;
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return; // closed
            }

            Interlocked.Increment(ref _accepted);
            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        var backend = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        lock (_lock)
        {
            if (!_open)
            {
                client.Dispose();
                backend.Dispose();
                return;
            }

            _connections.Add(client);
            _connections.Add(backend);
        }

        Task[] copies = [];
        try
        {
            await backend.ConnectAsync(_backend).ConfigureAwait(false);
            var up = new NetworkStream(client, ownsSocket: false);
            var down = new NetworkStream(backend, ownsSocket: false);
            copies = [up.CopyToAsync(down), down.CopyToAsync(up)];
            await Task.WhenAny(copies).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
        {
            // a side went away: close both
        }
        finally
        {
            lock (_lock)
            {
                _connections.Remove(client);
                _connections.Remove(backend);
            }

            client.Dispose();
            backend.Dispose();
        }

        try
        {
            await Task.WhenAll(copies).ConfigureAwait(false); // observe the other direction's end
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }
}
