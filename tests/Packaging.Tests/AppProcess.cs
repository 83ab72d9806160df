using System.Diagnostics;
using System.Net;
using System.Text;

namespace McpAuth.Packaging.Tests;

/// <summary>A built web app run as `dotnet &lt;dll&gt;` on a loopback port, its output captured; killed on dispose.</summary>
public sealed class AppProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AppProcess(Process process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

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

    /// <summary>Starts <paramref name="dll"/> on <paramref name="port"/> and waits until <c>/healthz</c> answers 200.</summary>
    public static async Task<AppProcess> StartAsync(string dll, int port, IDictionary<string, string> environment)
    {
        var baseUrl = $"http://127.0.0.1:{port}";
        var env = new Dictionary<string, string>(environment) { ["ASPNETCORE_URLS"] = baseUrl };
        var info = ChildProcess.StartInfo("dotnet", Path.GetDirectoryName(dll)!, [dll], env);
        var process = new Process { StartInfo = info };
        var app = new AppProcess(process, baseUrl);
        process.OutputDataReceived += (_, e) => ChildProcess.Append(app._output, e.Data);
        process.ErrorDataReceived += (_, e) => ChildProcess.Append(app._output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(baseUrl + "/healthz");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return app;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        await app.DisposeAsync();
        throw new InvalidOperationException($"{Path.GetFileName(dll)} did not become live at {baseUrl}/healthz (exited: {process.HasExited}). Output:\n{app.Output}");
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
    }
}
