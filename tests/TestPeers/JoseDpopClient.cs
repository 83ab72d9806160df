using System.Diagnostics;
using System.Text.Json;

namespace McpAuth.TestPeers;

/// <summary>
/// A DPoP client made of a real client library: an ES256 key pair and RFC 9449 proofs from npm <c>jose</c>
/// (tests/peers/dpop-client.mjs), run with the repository's Node.
/// </summary>
public sealed class JoseDpopClient
{
    private JoseDpopClient(string thumbprint, string privateJwk)
    {
        Thumbprint = thumbprint;
        PrivateJwk = privateJwk;
    }

    /// <summary>The RFC 7638 thumbprint of the public key: the <c>cnf.jkt</c> of tokens bound to it.</summary>
    public string Thumbprint { get; }

    private string PrivateJwk { get; }

    /// <summary>Makes a new key pair.</summary>
    public static async Task<JoseDpopClient> CreateAsync()
    {
        var json = JsonDocument.Parse(await RunAsync("key")).RootElement;
        return new JoseDpopClient(json.GetProperty("jkt").GetString()!, json.GetProperty("jwk").GetRawText());
    }

    /// <summary>A proof for a request to a resource with <paramref name="accessToken"/> (with <c>ath</c>).</summary>
    public Task<string> ProofAsync(string method, string uri, string accessToken, string? nonce = null) =>
        nonce is null ? RunAsync("proof", PrivateJwk, method, uri, accessToken) : RunAsync("proof", PrivateJwk, method, uri, accessToken, nonce);

    /// <summary>A proof for a token request (no access token yet, so no <c>ath</c>).</summary>
    public Task<string> TokenRequestProofAsync(string tokenEndpoint) => RunAsync("proof", PrivateJwk, "POST", tokenEndpoint, "-");

    private static async Task<string> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo(Repo.Node) { WorkingDirectory = Repo.Peers, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("dpop-client.mjs");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("node did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("dpop-client.mjs failed: " + await error);
        }

        return (await output).Trim();
    }
}
