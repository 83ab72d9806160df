using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace McpAuth.TestPeers;

/// <summary>
/// The real npm <c>oidc-provider</c> running under Node 22 on 127.0.0.1 (tests/peers/oidc-provider.mjs). Started and
/// stopped by the tests themselves.
/// </summary>
public sealed class OidcProviderProcess : IAsyncDisposable
{
    public const string ClientId = "mcp-client";
    public const string ClientSecret = "mcp-secret";

    private readonly Process _process;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(20) };
    private readonly StringBuilder _output = new();

    private OidcProviderProcess(Process process, int port, TestKeys keys)
    {
        _process = process;
        Port = port;
        Keys = keys;
    }

    public int Port { get; }

    public string Issuer => $"http://127.0.0.1:{Port}";

    public TestKeys Keys { get; private set; }

    public string Output => _output.ToString();

    public static async Task<OidcProviderProcess> StartAsync(TestKeys? keys = null, int? port = null)
    {
        keys ??= new TestKeys();
        var p = port ?? Repo.FreePort();
        var keysFile = Path.Combine(Path.GetTempPath(), $"mcpauth-jwks-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(keysFile, keys.PrivateJwks());
        var info = new ProcessStartInfo(Repo.Node)
        {
            WorkingDirectory = Repo.Peers,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("oidc-provider.mjs");
        info.ArgumentList.Add(p.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.ArgumentList.Add(keysFile);
        var process = Process.Start(info) ?? throw new InvalidOperationException("node did not start");
        var peer = new OidcProviderProcess(process, p, keys);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (peer._output)
            {
                peer._output.AppendLine(e.Data);
            }

            if (e.Data.StartsWith("listening", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (peer._output)
                {
                    peer._output.AppendLine(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(ready.Task, exited, Task.Delay(TimeSpan.FromSeconds(30)));
        File.Delete(keysFile);
        if (first != ready.Task)
        {
            await peer.DisposeAsync();
            throw new InvalidOperationException("oidc-provider did not start: " + peer.Output);
        }

        return peer;
    }

    /// <summary>A JWT access token from the provider (client_credentials, RFC 8707 resource = audience).</summary>
    public async Task<string> IssueTokenAsync(string resource, string scope = "read write")
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
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{ClientSecret}")));
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"token request failed: {(int)response.StatusCode} {body}");
        }

        return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    public async Task<ProviderStats> StatsAsync() =>
        (await _http.GetFromJsonAsync<ProviderStats>(Issuer + "/__control/stats"))!;

    public int Count(ProviderStats stats, string path) => stats.Counts.TryGetValue(path, out var n) ? n : 0;

    public Task ResetAsync() => _http.GetAsync(Issuer + "/__control/reset");

    public Task SetStsModeAsync(string mode) => _http.GetAsync(Issuer + "/__control/sts?mode=" + mode);

    public Task SetOidcDiscoveryAsync(bool enabled) => _http.GetAsync(Issuer + "/__control/oidc-discovery?enabled=" + (enabled ? "true" : "false"));

    /// <summary>Publishes a new key set (and signs with it from now on).</summary>
    public async Task RotateAsync(TestKeys keys)
    {
        using var response = await _http.PostAsync(Issuer + "/__control/rotate", new StringContent(keys.PrivateJwks()));
        response.EnsureSuccessStatusCode();
        Keys = keys;
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
}

public sealed record ProviderStats(Dictionary<string, int> Counts, List<ExchangeRecord> Exchanges, string StsMode);

public sealed record ExchangeRecord(
    [property: System.Text.Json.Serialization.JsonPropertyName("grant_type")] string? GrantType,
    [property: System.Text.Json.Serialization.JsonPropertyName("subject_token")] string? SubjectToken,
    [property: System.Text.Json.Serialization.JsonPropertyName("subject_token_type")] string? SubjectTokenType,
    [property: System.Text.Json.Serialization.JsonPropertyName("requested_token_type")] string? RequestedTokenType,
    [property: System.Text.Json.Serialization.JsonPropertyName("audience")] string? Audience,
    [property: System.Text.Json.Serialization.JsonPropertyName("scope")] string? Scope,
    [property: System.Text.Json.Serialization.JsonPropertyName("authorization")] string? Authorization,
    [property: System.Text.Json.Serialization.JsonPropertyName("client_id")] string? ClientId);
