using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace McpAuth.TestPeers;

/// <summary>
/// An HTTP fake of a kube-apiserver on 127.0.0.1 that speaks the real TokenReview and SelfSubjectReview JSON
/// (authentication.k8s.io/v1). No kube-apiserver can be installed here. <see cref="StartAsync(string)"/> serves plain
/// HTTP; <see cref="StartHttpsAsync"/> serves HTTPS with a certificate for 127.0.0.1 issued by a CA made for it
/// (<see cref="CaCertificatePem"/>, what a pod finds in its service-account folder as <c>ca.crt</c>).
/// </summary>
public sealed class FakeKubeApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeKubeApiServer(WebApplication app, string name)
    {
        _app = app;
        Name = name;
    }

    public string Name { get; }

    public string Url { get; private set; } = "";

    /// <summary>The port it listens on (127.0.0.1).</summary>
    public int Port => new Uri(Url).Port;

    /// <summary>With <see cref="StartHttpsAsync"/>: the PEM of the CA that issued the server's certificate; else null.</summary>
    public string? CaCertificatePem { get; private set; }

    /// <summary>The token the server itself must present (its service account).</summary>
    public string ServerToken { get; set; } = "server-sa-token";

    /// <summary>
    /// Tokens the server presented before a rotation that are still accepted besides <see cref="ServerToken"/> (the
    /// kubelet replaces a projected service-account token at 80% of its lifetime, so the old one keeps working).
    /// </summary>
    public ConcurrentBag<string> PreviousServerTokens { get; } = new();

    /// <summary>Tokens this cluster authenticates, with the user it maps them to.</summary>
    public ConcurrentDictionary<string, string> Users { get; } = new(StringComparer.Ordinal);

    /// <summary>Decides who a token is (null: not authenticated). Default: <see cref="Users"/>.</summary>
    public Func<string, string?>? Authenticator { get; set; }

    private string? Authenticate(string token) =>
        Authenticator is { } authenticate ? authenticate(token) : Users.TryGetValue(token, out var user) ? user : null;

    /// <summary>When set, status.audiences is this instead of the intersection with spec.audiences.</summary>
    public string[]? AudiencesOverride { get; set; }

    /// <summary>When set, every request answers this status code.</summary>
    public int? FailWith { get; set; }

    public TimeSpan Delay { get; set; }

    public ConcurrentQueue<RecordedReview> TokenReviews { get; } = new();

    public ConcurrentQueue<RecordedReview> SelfSubjectReviews { get; } = new();

    /// <summary>The Authorization header of every GET /version.</summary>
    public ConcurrentQueue<string> VersionRequests { get; } = new();

    /// <summary>Starts a fake on plain HTTP (http://127.0.0.1:&lt;port&gt;).</summary>
    public static Task<FakeKubeApiServer> StartAsync(string name) => StartAsync(name, tls: null);

    /// <summary>
    /// Starts a fake on HTTPS (https://127.0.0.1:&lt;port&gt;) whose certificate (SAN IP 127.0.0.1, server auth) is issued
    /// by a new CA; <see cref="CaCertificatePem"/> is that CA. Every recorded review says whether it came over TLS.
    /// </summary>
    public static async Task<FakeKubeApiServer> StartHttpsAsync(string name)
    {
        using var ca = TestCertificateAuthority.Create("fake-kube-ca " + name);
        return await StartAsync(name, ca);
    }

    private static async Task<FakeKubeApiServer> StartAsync(string name, TestCertificateAuthority? tls)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (tls is null)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }
        else
        {
            var certificate = tls.IssueServerCertificate(IPAddress.Loopback);
            builder.WebHost.UseKestrelHttpsConfiguration();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        }

        var app = builder.Build();
        var server = new FakeKubeApiServer(app, name);
        app.MapPost("/apis/authentication.k8s.io/v1/tokenreviews", (Delegate)server.TokenReview);
        app.MapPost("/apis/authentication.k8s.io/v1/selfsubjectreviews", (Delegate)server.SelfSubjectReview);
        app.MapGet("/version/{**rest}", (Delegate)server.Version);
        await app.StartAsync();
        server.Url = app.Urls.First();
        server.CaCertificatePem = tls?.CertificatePem;
        return server;
    }

    private async Task<IResult> TokenReview(HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body);
        var spec = body!["spec"]!;
        var token = spec["token"]?.GetValue<string>() ?? "";
        var audiencesNode = spec["audiences"];
        var audiences = audiencesNode?.AsArray().Select(a => a!.GetValue<string>()).ToArray();
        TokenReviews.Enqueue(new RecordedReview(context.Request.Headers.Authorization.ToString(), token, audiences, body.ToJsonString()) { OverTls = context.Request.IsHttps });
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay);
        }

        if (FailWith is { } code)
        {
            return Results.Json(Status(code, "injected failure"), statusCode: code);
        }

        var credential = context.Request.Headers.Authorization.ToString();
        if (credential != "Bearer " + ServerToken && !PreviousServerTokens.Any(t => credential == "Bearer " + t))
        {
            return Results.Json(Status(401, "Unauthorized"), statusCode: 401);
        }

        var status = new JsonObject();
        if (Authenticate(token) is { } user)
        {
            status["authenticated"] = true;
            status["user"] = new JsonObject
            {
                ["username"] = user,
                ["uid"] = "uid-" + user,
                ["groups"] = new JsonArray("system:authenticated", Name + "-users"),
                ["extra"] = new JsonObject { ["cluster"] = new JsonArray(Name) },
            };
            var returned = AudiencesOverride ?? audiences ?? [];
            status["audiences"] = new JsonArray(returned.Select(a => (JsonNode)JsonValue.Create(a)!).ToArray());
        }
        else
        {
            status["authenticated"] = false;
            status["error"] = "invalid bearer token";
        }

        return Results.Json(new JsonObject
        {
            ["kind"] = "TokenReview",
            ["apiVersion"] = "authentication.k8s.io/v1",
            ["metadata"] = new JsonObject { ["creationTimestamp"] = null },
            ["spec"] = body["spec"]!.DeepClone(),
            ["status"] = status,
        });
    }

    private async Task<IResult> SelfSubjectReview(HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body);
        var authorization = context.Request.Headers.Authorization.ToString();
        var token = authorization.StartsWith("Bearer ", StringComparison.Ordinal) ? authorization["Bearer ".Length..] : "";
        SelfSubjectReviews.Enqueue(new RecordedReview(authorization, token, null, body?.ToJsonString() ?? "") { OverTls = context.Request.IsHttps });
        if (Authenticate(token) is not { } user)
        {
            return Results.Json(Status(401, "Unauthorized"), statusCode: 401);
        }

        return Results.Json(new JsonObject
        {
            ["kind"] = "SelfSubjectReview",
            ["apiVersion"] = "authentication.k8s.io/v1",
            ["metadata"] = new JsonObject { ["creationTimestamp"] = null },
            ["status"] = new JsonObject
            {
                ["userInfo"] = new JsonObject
                {
                    ["username"] = user,
                    ["uid"] = "uid-" + user,
                    ["groups"] = new JsonArray("system:authenticated", Name + "-users"),
                },
            },
        });
    }

    private IResult Version(HttpContext context)
    {
        VersionRequests.Enqueue(context.Request.Headers.Authorization.ToString());
        if (FailWith is { } code)
        {
            return Results.Json(Status(code, "injected failure"), statusCode: code);
        }

        return Results.Json(new JsonObject
        {
            ["major"] = "1", ["minor"] = "31", ["gitVersion"] = "v1.31.0", ["gitCommit"] = "fake", ["gitTreeState"] = "clean",
            ["buildDate"] = "2026-01-01T00:00:00Z", ["goVersion"] = "go1.23", ["compiler"] = "gc", ["platform"] = "linux/amd64",
        });
    }

    private static JsonObject Status(int code, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["status"] = "Failure",
        ["message"] = message,
        ["code"] = code,
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>A kubeconfig with one context per server (context name = server name), the first one current.</summary>
    public static string WriteKubeconfig(string path, params FakeKubeApiServer[] servers)
    {
        var lines = new List<string> { "apiVersion: v1", "kind: Config", $"current-context: {servers[0].Name}", "clusters:" };
        lines.AddRange(servers.SelectMany(s => new[] { $"- name: {s.Name}-cluster", "  cluster:", $"    server: {s.Url}" }));
        lines.Add("contexts:");
        lines.AddRange(servers.SelectMany(s => new[] { $"- name: {s.Name}", "  context:", $"    cluster: {s.Name}-cluster", $"    user: {s.Name}-user" }));
        lines.Add("users:");
        lines.AddRange(servers.SelectMany(s => new[] { $"- name: {s.Name}-user", "  user:", $"    token: {s.ServerToken}" }));
        File.WriteAllLines(path, lines);
        return path;
    }
}

public sealed record RecordedReview(string Authorization, string Token, string[]? Audiences, string Body)
{
    /// <summary>True when the request came over HTTPS (only a fake started with <see cref="FakeKubeApiServer.StartHttpsAsync"/>).</summary>
    public bool OverTls { get; init; }
}

/// <summary>
/// A certificate authority made for a test (ECDSA P-256, valid from an hour ago for a day), which issues server
/// certificates for an IP address. The CA's PEM is what a client is told to trust (a pod's <c>ca.crt</c>).
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private readonly X509Certificate2 _certificate;

    private TestCertificateAuthority(X509Certificate2 certificate) => _certificate = certificate;

    /// <summary>The CA certificate as PEM.</summary>
    public string CertificatePem => _certificate.ExportCertificatePem();

    /// <summary>A new self-signed CA named <c>CN=<paramref name="name"/></c>.</summary>
    public static TestCertificateAuthority Create(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        return new TestCertificateAuthority(request.CreateSelfSigned(now.AddHours(-1), now.AddDays(1)));
    }

    /// <summary>A server certificate for <paramref name="address"/> (SAN IP and <c>localhost</c>), with its private key.</summary>
    public X509Certificate2 IssueServerCertificate(IPAddress address)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={address}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(address);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var now = DateTimeOffset.UtcNow;
        using var issued = request.Create(_certificate, now.AddMinutes(-5), now.AddHours(12), RandomNumberGenerator.GetBytes(16));
        using var withKey = issued.CopyWithPrivateKey(key);
        // Through PKCS#12, so the key is usable by the TLS stack on every platform (an ephemeral key is not on Windows).
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <inheritdoc />
    public void Dispose() => _certificate.Dispose();
}
