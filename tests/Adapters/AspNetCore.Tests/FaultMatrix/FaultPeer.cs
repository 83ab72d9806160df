using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using McpAuth.TestPeers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.AspNetCore.Tests.FaultMatrix;

/// <summary>The five services McpAuth calls, all served by one <see cref="FaultPeer"/>.</summary>
public enum PeerRole
{
    /// <summary><c>/.well-known/openid-configuration</c> and <c>/.well-known/oauth-authorization-server</c>.</summary>
    Discovery,

    /// <summary><c>/jwks</c>, the <c>jwks_uri</c> the discovery document publishes.</summary>
    Jwks,

    /// <summary><c>/token</c>, the RFC 8693 <c>token_endpoint</c> the discovery document publishes.</summary>
    Sts,

    /// <summary><c>/apis/authentication.k8s.io/v1/tokenreviews</c> (and <c>/version</c>), the kubeconfig's server.</summary>
    ApiServer,

    /// <summary><c>/introspect</c>, the RFC 7662 <c>introspection_endpoint</c> the discovery document publishes.</summary>
    Introspection,
}

/// <summary>
/// One programmable misbehaving peer: a Kestrel app on 127.0.0.1 that serves OIDC discovery, a JWKS, an RFC 8693 token
/// endpoint, an RFC 7662 introspection endpoint and the kube-apiserver TokenReview endpoint, each switchable at runtime
/// into one <see cref="Fault"/>.
/// <list type="bullet">
/// <item>Each role has its own URL: a <see cref="TcpGate"/> in front of the one plain-http listener, so one role can
/// refuse connections while the others answer.</item>
/// <item>An HTTPS listener (behind a gate too) presents a self-signed certificate nobody trusts, or, when
/// <see cref="PresentCaIssuedCertificate"/> is set, a leaf issued by <see cref="CaPemPath"/>'s CA.</item>
/// <item><see cref="Fault.UntrustedTls"/> makes the role's URL the https one; <see cref="Fault.Refused"/> closes its
/// gate; the other faults are how the listener answers that role's paths.</item>
/// </list>
/// </summary>
public sealed class FaultPeer : IAsyncDisposable
{
    public const string ServerToken = "server-sa-token";

    /// <summary>The client McpAuth introspects as (<c>IntrospectionClientId</c>, <c>IntrospectionClientSecret</c>).</summary>
    public const string IntrospectionClientId = "mcp-server";

    /// <summary>The secret of <see cref="IntrospectionClientId"/>.</summary>
    public const string IntrospectionClientSecret = "introspection-secret";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<PeerRole, Fault> _faults = new();
    private readonly ConcurrentDictionary<PeerRole, int> _hits = new();
    private readonly ConcurrentDictionary<string, ECDsaSecurityKey> _unknownKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<PeerRole, TcpGate> _gates = [];
    private readonly X509Certificate2 _selfSigned;
    private readonly X509Certificate2 _caIssued;
    private TcpGate _httpsGate = null!;
    private int _tlsHandshakes;
    private int _exchanges;

    private FaultPeer(WebApplication app, X509Certificate2 selfSigned, X509Certificate2 caIssued, string caPemPath)
    {
        _app = app;
        _selfSigned = selfSigned;
        _caIssued = caIssued;
        CaPemPath = caPemPath;
    }

    /// <summary>The issuer's signing keys (RSA <c>rsa-1</c> is published).</summary>
    public TestKeys Keys { get; } = new();

    /// <summary>A PEM file with the CA that issued the "trusted" leaf (for <c>CertificateAuthority</c>).</summary>
    public string CaPemPath { get; }

    /// <summary>When set, the HTTPS listener presents the CA-issued leaf instead of the self-signed certificate.</summary>
    public bool PresentCaIssuedCertificate { get; set; }

    /// <summary>How long <see cref="Fault.Slow"/> waits before answering.</summary>
    public TimeSpan SlowDelay { get; set; } = MatrixSettings.SlowDelay;

    /// <summary>
    /// How long <see cref="Fault.Hang"/> and <see cref="Fault.StalledBody"/> wait (unless the client gives up first) before
    /// they answer, or close the connection: 3 × T, so that a client without a working timeout is seen to wait for it.
    /// </summary>
    public TimeSpan HangFor { get; set; } = MatrixSettings.PeerGivesUpAfter;

    /// <summary>When it returns a body for a role, that role answers 200 with it (exploration).</summary>
    public Func<PeerRole, string?>? BodyOverride { get; set; }

    /// <summary>TLS handshakes started on the HTTPS listener.</summary>
    public int TlsHandshakes => Volatile.Read(ref _tlsHandshakes);

    public string HttpsUrl => $"https://127.0.0.1:{_httpsGate.Port}";

    public static async Task<FaultPeer> StartAsync()
    {
        var (selfSigned, caIssued, caPem) = Certificates();
        var caPemPath = Path.Combine(Path.GetTempPath(), $"mcpauth-faultpeer-ca-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(caPemPath, caPem);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        FaultPeer? peer = null;
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Use(next => connection =>
                {
                    Interlocked.Increment(ref peer!._tlsHandshakes);
                    return next(connection);
                });
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificateSelector = (_, _) => peer!.PresentCaIssuedCertificate ? peer._caIssued : peer._selfSigned,
                });
            });
        });
        var app = builder.Build();
        peer = new FaultPeer(app, selfSigned, caIssued, caPemPath);
        app.Run(peer.HandleAsync);
        await app.StartAsync();
        var ports = app.Urls.Select(u => new Uri(u)).ToList();
        var http = new IPEndPoint(IPAddress.Loopback, ports.Single(u => u.Scheme == "http").Port);
        var https = new IPEndPoint(IPAddress.Loopback, ports.Single(u => u.Scheme == "https").Port);
        foreach (var role in Enum.GetValues<PeerRole>())
        {
            peer._gates[role] = new TcpGate(http);
        }

        peer._httpsGate = new TcpGate(https);
        peer.Reset();
        return peer;
    }

    /// <summary>Every role answers normally, every gate is open, counters are zero, the self-signed certificate is presented.</summary>
    public void Reset()
    {
        _faults.Clear();
        PresentCaIssuedCertificate = false;
        SlowDelay = MatrixSettings.SlowDelay;
        HangFor = MatrixSettings.PeerGivesUpAfter;
        BodyOverride = null;
        foreach (var gate in _gates.Values.Append(_httpsGate))
        {
            gate.Open();
            gate.DropConnections();
        }

        ResetCounters();
    }

    /// <summary>Zeroes <see cref="Hits"/>, <see cref="Connections"/> and <see cref="TlsHandshakes"/>.</summary>
    public void ResetCounters()
    {
        _hits.Clear();
        Interlocked.Exchange(ref _tlsHandshakes, 0);
        foreach (var gate in _gates.Values.Append(_httpsGate))
        {
            gate.ResetCount();
        }
    }

    /// <summary>Switches <paramref name="role"/> into <paramref name="fault"/> (<see cref="Fault.Refused"/> closes its gate).</summary>
    public void Set(PeerRole role, Fault fault)
    {
        _faults[role] = fault;
        if (fault == Fault.Refused)
        {
            _gates[role].Close();
        }
    }

    /// <summary>The role answers normally again.</summary>
    public void Clear(PeerRole role)
    {
        _faults.TryRemove(role, out _);
        _gates[role].Open();
    }

    public Fault? FaultOf(PeerRole role) => _faults.TryGetValue(role, out var fault) ? fault : null;

    /// <summary>Requests that reached the listener for <paramref name="role"/> (over http or https).</summary>
    public int Hits(PeerRole role) => _hits.TryGetValue(role, out var n) ? n : 0;

    /// <summary>Connections the role's gate accepted.</summary>
    public int Connections(PeerRole role) => _gates[role].Accepted;

    /// <summary>Drops the open connections to the HTTPS listener, so that the next request makes a new TLS handshake.</summary>
    public void DropHttpsConnections() => _httpsGate.DropConnections();

    /// <summary>The URL McpAuth is given (or discovers) for <paramref name="role"/>: https when its fault is <see cref="Fault.UntrustedTls"/>.</summary>
    public string UrlFor(PeerRole role) => FaultOf(role) == Fault.UntrustedTls ? HttpsUrl : $"http://127.0.0.1:{_gates[role].Port}";

    /// <summary>The issuer URL (the discovery role's URL, as configured in McpAuth).</summary>
    public string Issuer => UrlFor(PeerRole.Discovery);

    /// <summary>
    /// A token the issuer <paramref name="issuer"/> signed with the published key, for <paramref name="audience"/>, unique per
    /// call; with <paramref name="unknownKid"/>, signed by a key under that kid which the issuer does not publish.
    /// </summary>
    public string Token(string issuer, string audience, string? unknownKid = null)
    {
        var claims = new Dictionary<string, object>
        {
            ["iss"] = issuer,
            ["sub"] = "alice",
            ["aud"] = audience,
            ["exp"] = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds(),
            ["iat"] = DateTimeOffset.UtcNow.AddSeconds(-10).ToUnixTimeSeconds(),
            ["scope"] = "read",
            ["jti"] = Guid.NewGuid().ToString("N"),
        };
        if (unknownKid is not null)
        {
            var unknown = _unknownKeys.GetOrAdd(unknownKid, kid => new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = kid });
            return TestKeys.Sign(unknown, "ES256", claims, kid: unknownKid);
        }

        return TestKeys.Sign(Keys.Rsa, "RS256", claims, kid: Keys.Rsa.KeyId);
    }

    /// <summary>
    /// A new opaque token (an RFC 6750 b64token without dots: 32 random bytes, base64url), which the introspection role
    /// says is active for <see cref="MatrixApp.Resource"/>.
    /// </summary>
    public static string OpaqueToken() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    /// <summary>A kubeconfig whose one context's server is the API server role's URL (as it is now).</summary>
    public string WriteKubeconfig(string path)
    {
        File.WriteAllLines(path,
        [
            "apiVersion: v1", "kind: Config", "current-context: fault",
            "clusters:", "- name: fault-cluster", "  cluster:", $"    server: {UrlFor(PeerRole.ApiServer)}",
            "contexts:", "- name: fault", "  context:", "    cluster: fault-cluster", "    user: fault-user",
            "users:", "- name: fault-user", "  user:", $"    token: {ServerToken}",
        ]);
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var gate in _gates.Values.Append(_httpsGate))
        {
            gate.Dispose();
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
        File.Delete(CaPemPath);
        _selfSigned.Dispose();
        _caIssued.Dispose();
    }

    private static PeerRole? RoleOf(PathString path) => path.Value switch
    {
        "/.well-known/openid-configuration" or "/.well-known/oauth-authorization-server" => PeerRole.Discovery,
        "/jwks" => PeerRole.Jwks,
        "/token" => PeerRole.Sts,
        "/apis/authentication.k8s.io/v1/tokenreviews" or "/version" => PeerRole.ApiServer,
        "/introspect" => PeerRole.Introspection,
        _ => null,
    };

    private async Task HandleAsync(HttpContext context)
    {
        if (RoleOf(context.Request.Path) is not { } role)
        {
            context.Response.StatusCode = 404;
            return;
        }

        _hits.AddOrUpdate(role, 1, (_, n) => n + 1);
        var aborted = context.RequestAborted;
        try
        {
            switch (FaultOf(role))
            {
                case Fault.Http500:
                    context.Response.StatusCode = 500;
                    await context.Response.WriteAsync("""{"error":"server_error"}""", aborted);
                    return;
                case Fault.Hang:
                    await Task.Delay(HangFor, aborted);
                    break;
                case Fault.Slow:
                    await Task.Delay(SlowDelay, aborted);
                    break;
                case Fault.GarbageJson:
                    context.Response.ContentType = "application/json";
                    await context.Response.WriteAsync(Garbage, aborted);
                    return;
                case Fault.EmptyJson:
                    context.Response.ContentType = "application/json";
                    await context.Response.WriteAsync("{}", aborted);
                    return;
            }

            if (BodyOverride is { } bodyOverride && bodyOverride(role) is { } custom)
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(custom, aborted);
                return;
            }

            var body = await AnswerAsync(role, context);
            context.Response.ContentType = "application/json";
            if (FaultOf(role) == Fault.Oversized)
            {
                await WritePaddedAsync(context.Response, body, MatrixSettings.OversizedBytes(role), aborted);
                return;
            }

            if (FaultOf(role) is Fault.Truncated or Fault.StalledBody)
            {
                // Headers and half of the promised body; then the connection is cut, or nothing more comes.
                var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
                context.Response.ContentLength = bytes.Length;
                await context.Response.Body.WriteAsync(bytes.AsMemory(0, bytes.Length / 2), aborted);
                await context.Response.Body.FlushAsync(aborted);
                if (FaultOf(role) == Fault.Truncated)
                {
                    await Task.Delay(50, aborted); // let the client read the first half
                    context.Abort();
                }
                else
                {
                    await Task.Delay(HangFor, aborted);
                }

                return;
            }

            await context.Response.WriteAsync(body.ToJsonString(), aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // the client gave up (its timeout): nothing to answer
        }
    }

    /// <summary>Not JSON: what a proxy's error page or a truncated answer looks like to a JSON reader.</summary>
    public const string Garbage = """{"issuer": "http://127.0.0.1", "keys": [ {"kty": <html>502 Bad Gateway</html>""";

    private async Task<JsonObject> AnswerAsync(PeerRole role, HttpContext context)
    {
        switch (role)
        {
            case PeerRole.Discovery:
                return new JsonObject
                {
                    ["issuer"] = $"{context.Request.Scheme}://{context.Request.Host}",
                    ["jwks_uri"] = UrlFor(PeerRole.Jwks) + "/jwks",
                    ["token_endpoint"] = UrlFor(PeerRole.Sts) + "/token",
                    ["introspection_endpoint"] = UrlFor(PeerRole.Introspection) + "/introspect",
                    ["response_types_supported"] = new JsonArray("code"),
                    ["subject_types_supported"] = new JsonArray("public"),
                    ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
                };
            case PeerRole.Jwks:
                var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(Keys.Rsa.Rsa.ExportParameters(false)) { KeyId = Keys.Rsa.KeyId });
                return new JsonObject
                {
                    ["keys"] = new JsonArray(new JsonObject { ["kty"] = "RSA", ["kid"] = jwk.Kid, ["use"] = "sig", ["alg"] = "RS256", ["n"] = jwk.N, ["e"] = jwk.E }),
                };
            case PeerRole.Sts:
                return new JsonObject
                {
                    ["access_token"] = "exchanged-" + Interlocked.Increment(ref _exchanges),
                    ["issued_token_type"] = "urn:ietf:params:oauth:token-type:access_token",
                    ["token_type"] = "Bearer",
                    ["expires_in"] = 300,
                };
            case PeerRole.Introspection:
                // Only this server's own client, with a token in the form, gets an answer about it (RFC 7662 §2.1).
                var form = await context.Request.ReadFormAsync(context.RequestAborted);
                var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{IntrospectionClientId}:{IntrospectionClientSecret}"));
                if (context.Request.Headers.Authorization != "Basic " + basic || string.IsNullOrEmpty(form["token"]))
                {
                    context.Response.StatusCode = 401;
                    return new JsonObject { ["error"] = "invalid_client" };
                }

                return new JsonObject
                {
                    ["active"] = true,
                    ["iss"] = Issuer,
                    ["aud"] = MatrixApp.Resource,
                    ["scope"] = "read",
                    ["exp"] = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds(),
                };
            default:
                if (context.Request.Path == "/version")
                {
                    return new JsonObject { ["major"] = "1", ["minor"] = "31", ["gitVersion"] = "v1.31.0", ["platform"] = "linux/amd64" };
                }

                var request = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
                var audiences = request?["spec"]?["audiences"]?.DeepClone() as JsonArray ?? [];
                return new JsonObject
                {
                    ["kind"] = "TokenReview",
                    ["apiVersion"] = "authentication.k8s.io/v1",
                    ["metadata"] = new JsonObject { ["creationTimestamp"] = null },
                    ["spec"] = request?["spec"]?.DeepClone(),
                    ["status"] = new JsonObject
                    {
                        ["authenticated"] = true,
                        ["user"] = new JsonObject { ["username"] = "alice", ["uid"] = "uid-alice", ["groups"] = new JsonArray("system:authenticated") },
                        ["audiences"] = audiences,
                    },
                };
        }
    }

    // A valid JSON document of at least `size` bytes (the answer plus an extra member), streamed without Content-Length.
    private static async Task WritePaddedAsync(HttpResponse response, JsonObject body, int size, CancellationToken cancellationToken)
    {
        var json = body.ToJsonString();
        var head = Encoding.UTF8.GetBytes(json[..^1] + ",\"x_padding\":\"");
        var tail = "\"}"u8.ToArray();
        await response.Body.WriteAsync(head, cancellationToken);
        var chunk = Encoding.ASCII.GetBytes(new string('a', 16 * 1024));
        for (var written = head.Length + tail.Length; written < size; written += chunk.Length)
        {
            await response.Body.WriteAsync(chunk, cancellationToken);
        }

        await response.Body.WriteAsync(tail, cancellationToken);
    }

    // A CA, a leaf it issued, and a self-signed leaf, all for 127.0.0.1 (ECDSA P-256: fast to make).
    private static (X509Certificate2 SelfSigned, X509Certificate2 CaIssued, string CaPem) Certificates()
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=McpAuth fault-matrix CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        var selfSigned = Leaf("CN=127.0.0.1 (self-signed)", leaf => leaf.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1)));
        var caIssued = Leaf("CN=127.0.0.1", leaf => leaf.Create(ca, now.AddMinutes(-5), now.AddHours(23), RandomNumberGenerator.GetBytes(8)));
        return (selfSigned, caIssued, ca.ExportCertificatePem());
    }

    private static X509Certificate2 Leaf(string subject, Func<CertificateRequest, X509Certificate2> make)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var made = make(request);
        using var withKey = made.HasPrivateKey ? made : made.CopyWithPrivateKey(key);
        // Through PKCS#12 so that SslStream gets a certificate with a persisted private key.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
