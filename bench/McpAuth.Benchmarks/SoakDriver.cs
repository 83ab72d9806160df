using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace McpAuth.Benchmarks;

/// <summary>
/// <c>soak</c>: the traffic driver and sampler of <c>bench/soak.sh</c> (see docs/soak.md).
/// <list type="bullet">
/// <item><c>soak keys FILE</c> writes the issuer's first private JWKS (kids <c>rsa-1</c>, <c>ec-1</c>) for
/// tests/peers/oidc-provider.mjs. The driver keeps the private keys: it signs expired tokens with the issuer's real key
/// and installs every later key set itself through the provider's <c>/__control/rotate</c>.</item>
/// <item><c>soak run key=value…</c> sends a mixed, rate-limited (open-loop) load to the host for the whole duration,
/// rotates the issuer's keys, prints one line per report interval (responses by status, the host's managed heap from
/// a <c>dotnet-counters collect</c> CSV, RSS, socket fds, log bytes) and a summary, and exits 0 only when every check
/// passes: no unexpected response, a flat managed heap after warm-up, and log bytes per 1,000 refused requests under
/// the target.</item>
/// </list>
/// </summary>
public static class SoakDriver
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args is ["keys", var file])
        {
            await File.WriteAllTextAsync(file, KeyGeneration.Create(1, "rsa-1", "ec-1").PrivateJwks());
            return 0;
        }

        if (args is ["run", ..])
        {
            try
            {
                return await new Soak(SoakSettings.Parse(args[1..])).RunAsync();
            }
            catch (SoakSetupException ex)
            {
                Console.Error.WriteLine("soak: " + ex.Message);
                return 2;
            }
        }

        Console.Error.WriteLine("usage: soak keys FILE | soak run issuer=URL host=URL pid=N log=FILE counters=FILE jwks=FILE [minutes=10 rate=200 ...]");
        return 2;
    }
}

internal sealed class SoakSetupException(string message) : Exception(message);

/// <summary>Settings of <c>soak run</c>, as <c>key=value</c> arguments.</summary>
internal sealed record SoakSettings(
    string Issuer, string Host, int Pid, string Log, string Counters, string Jwks, string ApiServer,
    double Minutes, double Rate, int MaxInflight, int Tokens, double ReportSeconds, double RotateSeconds,
    double WarmupSeconds, double RefreshSeconds, double GraceSeconds, double HeapBoundPercent, double HeapBoundMiB,
    double LogBytesTarget, int ClockTicks)
{
    public static SoakSettings Parse(string[] args)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var a in args)
        {
            var eq = a.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new SoakSetupException($"argument '{a}' is not key=value");
            }

            d[a[..eq]] = a[(eq + 1)..];
        }

        string S(string k) => d.TryGetValue(k, out var v) && v.Length > 0 ? v : throw new SoakSetupException($"missing {k}=");
        double N(string k, double def) => d.TryGetValue(k, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : def;
        return new SoakSettings(
            S("issuer").TrimEnd('/'), S("host").TrimEnd('/'), (int)N("pid", 0), S("log"), S("counters"), S("jwks"), S("apiserver").TrimEnd('/'),
            N("minutes", 10), N("rate", 200), (int)N("inflight", 512), (int)N("tokens", 6), N("report", 30), N("rotate", 120),
            N("warmup", 60), N("refresh", 150), N("grace", 15), N("heap_pct", 10), N("heap_mib", 4), N("log_target", 100),
            (int)N("clk_tck", 100));
    }
}

/// <summary>One generation of the issuer's key set: an RSA and an EC key with their kids, private parts included.</summary>
internal sealed class KeyGeneration
{
    private KeyGeneration(int gen, RsaSecurityKey rsa, ECDsaSecurityKey ec)
    {
        Gen = gen;
        Rsa = rsa;
        Ec = ec;
    }

    public int Gen { get; }

    public RsaSecurityKey Rsa { get; }

    public ECDsaSecurityKey Ec { get; }

    public static KeyGeneration Create(int gen, string rsaKid, string ecKid) => new(gen,
        new RsaSecurityKey(RSA.Create(2048)) { KeyId = rsaKid },
        new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = ecKid });

    /// <summary>Reads a private JWKS written by <see cref="PrivateJwks"/> (or any RSA + EC private JWKS).</summary>
    public static KeyGeneration Load(int gen, string json)
    {
        RsaSecurityKey? rsa = null;
        ECDsaSecurityKey? ec = null;
        foreach (var k in JsonNode.Parse(json)!["keys"]!.AsArray())
        {
            byte[] B(string name) => Base64UrlEncoder.DecodeBytes(k![name]!.GetValue<string>());
            var kid = k!["kid"]!.GetValue<string>();
            switch (k["kty"]!.GetValue<string>())
            {
                case "RSA":
                    var r = RSA.Create();
                    r.ImportParameters(new RSAParameters
                    {
                        Modulus = B("n"), Exponent = B("e"), D = B("d"), P = B("p"), Q = B("q"), DP = B("dp"), DQ = B("dq"), InverseQ = B("qi"),
                    });
                    rsa = new RsaSecurityKey(r) { KeyId = kid };
                    break;
                case "EC":
                    var e = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = B("x"), Y = B("y") }, D = B("d") });
                    ec = new ECDsaSecurityKey(e) { KeyId = kid };
                    break;
            }
        }

        return new KeyGeneration(gen, rsa ?? throw new SoakSetupException("the JWKS has no RSA key"), ec ?? throw new SoakSetupException("the JWKS has no EC key"));
    }

    public string PrivateJwks()
    {
        var rsa = Rsa.Rsa.ExportParameters(true);
        var ec = Ec.ECDsa.ExportParameters(true);
        static string B(byte[]? b) => Base64UrlEncoder.Encode(b ?? []);
        return new JsonObject
        {
            ["keys"] = new JsonArray
            {
                new JsonObject
                {
                    ["kty"] = "RSA", ["kid"] = Rsa.KeyId, ["use"] = "sig", ["alg"] = "RS256", ["n"] = B(rsa.Modulus), ["e"] = B(rsa.Exponent),
                    ["d"] = B(rsa.D), ["p"] = B(rsa.P), ["q"] = B(rsa.Q), ["dp"] = B(rsa.DP), ["dq"] = B(rsa.DQ), ["qi"] = B(rsa.InverseQ),
                },
                new JsonObject
                {
                    ["kty"] = "EC", ["kid"] = Ec.KeyId, ["use"] = "sig", ["alg"] = "ES256", ["crv"] = "P-256",
                    ["x"] = B(ec.Q.X), ["y"] = B(ec.Q.Y), ["d"] = B(ec.D),
                },
            },
        }.ToJsonString();
    }

    /// <summary>The public half, for checking that the issuer's tokens come from this generation.</summary>
    public SecurityKey[] PublicKeys() =>
    [
        new RsaSecurityKey(Rsa.Rsa.ExportParameters(false)) { KeyId = Rsa.KeyId },
        new ECDsaSecurityKey(ECDsa.Create(Ec.ECDsa.ExportParameters(false))) { KeyId = Ec.KeyId },
    ];
}

/// <summary>What a request is, which decides what the host must answer.</summary>
internal enum Kind
{
    ValidCall,       // tools/call whoami {context: bench}, current-key token: 200 with exchanged=true
    ValidList,       // tools/list, current-key token: 200
    UnknownContext,  // tools/call whoami {context: nope-N}, current-key token: 400 (TokenReview routing)
    OldKey,          // a token of the key set before the last rotation: 200 or 401 within the grace, 401 after
    Forged,          // valid claims, signed by a random key under the issuer's current kid: 401
    UnknownKid,      // valid claims, signed by a random key under a kid the issuer never had: 401
    Expired,         // signed by the issuer's current key, exp 10 min ago: 401
    WrongAudience,   // a real issuer token for another resource: 401
    Garbage,         // not a token, or a token the parser or issuer check must refuse (alg none, crit, tampered, 17 KB…): 401
    NoToken,         // no Authorization header, Basic, or a bare "Bearer": 401
}

internal sealed record PoolToken(string Token, int Gen, DateTimeOffset Exp, DateTimeOffset RefreshAt);

/// <summary>The token pools of one key generation.</summary>
internal sealed record TokenSet(KeyGeneration Keys, PoolToken[] Valid, string[] Forged, string[] UnknownKid, string[] Expired, string[] WrongAudience, string[] Garbage);

internal sealed class Soak
{
    private static readonly (Kind Kind, int Weight)[] Mix =
    [
        (Kind.ValidCall, 32), (Kind.ValidList, 20), (Kind.UnknownContext, 2), (Kind.OldKey, 5), (Kind.Forged, 8), (Kind.UnknownKid, 7),
        (Kind.Expired, 7), (Kind.WrongAudience, 3), (Kind.Garbage, 9), (Kind.NoToken, 7),
    ];

    private static readonly int[] Buckets = [200, 401, 403, 400, 503];
    private const int Other = 5;
    private const string ExchangedMarker = "exchanged\\u0022:true";

    private readonly SoakSettings _s;
    private readonly HttpClient _http;
    private readonly HttpClient _ctl = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly SemaphoreSlim _poolLock = new(1, 1);
    private readonly RsaSecurityKey _forgerRsa = new(RSA.Create(2048));
    private readonly ECDsaSecurityKey _forgerEc = new(ECDsa.Create(ECCurve.NamedCurves.nistP256));
    private readonly Stopwatch _clock = new();
    private readonly ConcurrentDictionary<int, double> _rotatedAt = new(); // gen -> driver seconds when its key set was installed
    private readonly List<RotationRecord> _rotations = [];
    private readonly long[,] _byKind = new long[Enum.GetValues<Kind>().Length, Buckets.Length + 1];
    private readonly long[] _interval = new long[Buckets.Length + 1];
    private readonly long[] _total = new long[Buckets.Length + 1];
    private readonly ConcurrentDictionary<int, long> _exact = new();
    private readonly ConcurrentQueue<string> _unexpectedExamples = new();
    private readonly long[] _unexpectedByKind = new long[Enum.GetValues<Kind>().Length];
    private readonly Lock _latLock = new();
    private List<double> _latValid = [];
    private List<double> _latRefused = [];
    private readonly List<HeapSample> _heap = [];
    private readonly List<Sample> _samples = [];
    private string _resource = "";
    private volatile TokenSet _set = null!;
    private volatile PoolToken[] _retired = [];
    private long _unexpected;
    private long _inflight;
    private long _dropped;
    private long _sent;
    private long _refreshes;
    private long _notFromCurrentKey;
    private long _counterBytesRead;
    private string _counterRemainder = "";
    private string? _counterTs;
    private readonly Dictionary<string, double> _counterGens = new(StringComparer.Ordinal);
    private bool _counterHasHeap;
    private int _rpcId;

    public Soak(SoakSettings settings)
    {
        _s = settings;
        _http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = settings.MaxInflight,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(15), // the host's socket count follows the load, not the pool's past
            UseCookies = false,
            AllowAutoRedirect = false,
        })
        { Timeout = TimeSpan.FromSeconds(30) };
    }

    private double Now => _clock.Elapsed.TotalSeconds;

    private sealed record RotationRecord(int Gen, double At, bool SameKid, string RsaKid)
    {
        public long OldAccepted;
        public long OldRefused;
        public double LastOldAccept = double.NaN;
        public double FirstNewAccept = double.NaN;
    }

    private sealed record HeapSample(double T, double HeapMiB, double Gen0, double Gen1, double Gen2, double Loh, double Poh);

    private sealed record Sockets(int All, int In, int Issuer, int Api)
    {
        public int Other => All - In - Issuer - Api;
    }

    private sealed record Sample(double T, long[] Statuses, double HeapMiB, double RssMiB, Sockets Sockets, long LogBytes, double HostCpuPct, double Load1, double P99Valid, double P99Refused);

    public async Task<int> RunAsync()
    {
        _resource = _s.Host + "/mcp";
        _clock.Start();
        var keys = KeyGeneration.Load(1, await File.ReadAllTextAsync(_s.Jwks));
        _rotatedAt[1] = 0;
        _set = await BuildSetAsync(keys, previous: null);
        await PreflightAsync();

        var duration = TimeSpan.FromMinutes(_s.Minutes).TotalSeconds;
        var logAtStart = new FileInfo(_s.Log).Length;
        var cpuAtStart = HostCpuTicks();
        var traffic0 = Now;
        Console.WriteLine($"soak: {_s.Minutes:0.##} min at {_s.Rate:0} req/s (open loop, at most {_s.MaxInflight} in flight), {_s.Tokens} valid tokens refreshed every ~{_s.RefreshSeconds:0} s, " +
                          $"key rotation every {_s.RotateSeconds:0} s, lines every {_s.ReportSeconds:0} s; host pid {_s.Pid}; {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine("   elapsed | responses since last line: 200 401 403 400 503 other | managed heap | RSS | socket fds | host log bytes | host CPU, load, p99 valid/refused");

        using var stop = new CancellationTokenSource();
        var refresher = Task.Run(() => RefreshLoopAsync(stop.Token));
        var rotator = Task.Run(() => RotateLoopAsync(traffic0, duration, stop.Token));
        var reporter = Task.Run(() => ReportLoopAsync(traffic0, stop.Token));
        var hostDied = false;
        var sent = 0L;
        while (Now - traffic0 < duration)
        {
            var due = (long)((Now - traffic0) * _s.Rate);
            for (; sent < due; sent++)
            {
                if (Interlocked.Read(ref _inflight) >= _s.MaxInflight)
                {
                    Interlocked.Increment(ref _dropped);
                    continue;
                }

                Interlocked.Increment(ref _inflight);
                _ = SendOneAsync();
            }

            if (!Alive())
            {
                hostDied = true;
                break;
            }

            await Task.Delay(5);
        }

        var trafficEnd = Now;
        for (var i = 0; i < 400 && Interlocked.Read(ref _inflight) > 0; i++)
        {
            await Task.Delay(100);
        }

        await stop.CancelAsync();
        await Task.WhenAll(Swallow(refresher), Swallow(rotator), Swallow(reporter));
        double lastLine;
        lock (_samples)
        {
            lastLine = _samples.Count > 0 ? _samples[^1].T : 0;
        }

        if (Now - traffic0 - lastLine > 1)
        {
            ReportLine(traffic0); // the last partial interval
        }

        return await SummaryAsync(logAtStart, cpuAtStart, trafficEnd - traffic0, hostDied);
    }

    private static async Task Swallow(Task t)
    {
        try
        {
            await t;
        }
        catch (OperationCanceledException)
        {
        }
    }

    private bool Alive() => _s.Pid <= 0 || Directory.Exists($"/proc/{_s.Pid}");

    // ---------------------------------------------------------------- tokens

    private async Task<PoolToken> IssueAsync(KeyGeneration keys, string resource)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _s.Issuer + "/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials", ["resource"] = resource, ["scope"] = "read write",
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("mcp-client:mcp-secret"u8));
        using var response = await _ctl.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new SoakSetupException($"the issuer refused a token: {(int)response.StatusCode} {body}");
        }

        var token = JsonNode.Parse(body)!["access_token"]!.GetValue<string>();
        // "Valid tokens must come from the new key": the signature is checked here with the generation's public keys.
        var check = await _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = _s.Issuer, ValidAudience = resource, IssuerSigningKeys = keys.PublicKeys(), ClockSkew = TimeSpan.FromSeconds(60),
        });
        if (!check.IsValid)
        {
            Interlocked.Increment(ref _notFromCurrentKey);
            Note($"issuer token not signed by key generation {keys.Gen}: {check.Exception?.Message}");
        }

        var exp = DateTimeOffset.FromUnixTimeSeconds(new JsonWebToken(token).GetPayloadValue<long>("exp"));
        var jitter = 0.5 + Random.Shared.NextDouble();
        return new PoolToken(token, keys.Gen, exp, DateTimeOffset.UtcNow.AddSeconds(_s.RefreshSeconds * jitter));
    }

    private async Task<TokenSet> BuildSetAsync(KeyGeneration keys, TokenSet? previous)
    {
        var valid = await Task.WhenAll(Enumerable.Range(0, _s.Tokens).Select(_ => IssueAsync(keys, _resource)));
        var now = DateTimeOffset.UtcNow;
        Dictionary<string, object> Claims(string sub, DateTimeOffset iat, DateTimeOffset exp) => new()
        {
            ["iss"] = _s.Issuer, ["sub"] = sub, ["aud"] = _resource, ["scope"] = "read write", ["client_id"] = "mcp-client",
            ["iat"] = iat.ToUnixTimeSeconds(), ["exp"] = exp.ToUnixTimeSeconds(), ["jti"] = Guid.NewGuid().ToString("N"),
        };
        // The kid in the header is the signing key's KeyId: a forger's key is wrapped under the kid it pretends to have.
        string Sign(SecurityKey key, string alg, string kid, Dictionary<string, object> claims, string typ = "at+jwt", Dictionary<string, object>? extraHeader = null)
        {
            SecurityKey signer = key switch
            {
                _ when key.KeyId == kid => key,
                RsaSecurityKey r => new RsaSecurityKey(r.Rsa) { KeyId = kid },
                ECDsaSecurityKey e => new ECDsaSecurityKey(e.ECDsa) { KeyId = kid },
                _ => throw new ArgumentException("RSA or EC keys only", nameof(key)),
            };
            return _handler.CreateToken(new SecurityTokenDescriptor
            {
                Claims = claims, SigningCredentials = new SigningCredentials(signer, alg), TokenType = typ, AdditionalHeaderClaims = extraHeader,
            });
        }

        var forged = Enumerable.Range(0, 32).Select(i => i % 2 == 0
            ? Sign(_forgerRsa, SecurityAlgorithms.RsaSha256, keys.Rsa.KeyId, Claims("forged", now, now.AddHours(1)))
            : Sign(_forgerEc, SecurityAlgorithms.EcdsaSha256, keys.Ec.KeyId, Claims("forged", now, now.AddHours(1)))).ToArray();
        var unknown = Enumerable.Range(0, 32).Select(_ =>
            Sign(_forgerRsa, SecurityAlgorithms.RsaSha256, "unknown-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)), Claims("unknown-kid", now, now.AddHours(1)))).ToArray();
        var expired = Enumerable.Range(0, 16).Select(i => i % 2 == 0
            ? Sign(keys.Rsa, SecurityAlgorithms.RsaSha256, keys.Rsa.KeyId, Claims("expired", now.AddHours(-2), now.AddMinutes(-10)))
            : Sign(keys.Ec, SecurityAlgorithms.EcdsaSha256, keys.Ec.KeyId, Claims("expired", now.AddHours(-2), now.AddMinutes(-10)))).ToArray();
        var wrongAudience = previous?.Keys.Gen == keys.Gen
            ? previous.WrongAudience
            : (await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => IssueAsync(keys, _s.Host + "/other")))).Select(t => t.Token).ToArray();

        static string B64(byte[] b) => Base64UrlEncoder.Encode(b);
        static string J(object o) => B64(JsonSerializer.SerializeToUtf8Bytes(o));
        var real = valid[0].Token.Split('.');
        var tamperedPayload = JsonNode.Parse(Base64UrlEncoder.Decode(real[1]))!;
        tamperedPayload["sub"] = "mallory";
        var validClaims = Claims("garbage", now, now.AddHours(1));
        var spki = keys.Rsa.Rsa.ExportSubjectPublicKeyInfo();
        var hsHeader = J(new { alg = "HS256", typ = "at+jwt", kid = keys.Rsa.KeyId });
        var hsPayload = J(validClaims);
        var garbage = new[]
        {
            "garbage",
            B64(RandomNumberGenerator.GetBytes(32)),
            "a.b.c",
            real[0] + "." + real[1],
            $"{B64(RandomNumberGenerator.GetBytes(64))}.{B64(RandomNumberGenerator.GetBytes(128))}.{B64(RandomNumberGenerator.GetBytes(256))}",
            $"{J(new { alg = "none", typ = "at+jwt", kid = keys.Rsa.KeyId })}.{J(validClaims)}.",
            $"{hsHeader}.{hsPayload}.{B64(HMACSHA256.HashData(spki, Encoding.ASCII.GetBytes(hsHeader + "." + hsPayload)))}",
            $"{real[0]}.{B64(Encoding.UTF8.GetBytes(tamperedPayload.ToJsonString()))}.{real[2]}",
            "eyJ" + new string('A', 17_000) + ".eyJ.sig",
            $"{B64("{not json"u8.ToArray())}.{B64("{}"u8.ToArray())}.c2ln",
            Sign(keys.Rsa, SecurityAlgorithms.RsaSha256, keys.Rsa.KeyId, validClaims, extraHeader: new() { ["crit"] = new[] { "soak" }, ["soak"] = 1 }),
            Sign(keys.Rsa, SecurityAlgorithms.RsaSha256, keys.Rsa.KeyId, validClaims, typ: "dpop+jwt"),
        };
        return new TokenSet(keys, valid, forged, unknown, expired, wrongAudience, garbage);
    }

    private async Task RefreshLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(1000, ct);
            await _poolLock.WaitAsync(ct);
            try
            {
                var set = _set;
                var now = DateTimeOffset.UtcNow;
                var valid = set.Valid.ToArray();
                var changed = false;
                for (var i = 0; i < valid.Length; i++)
                {
                    if (valid[i].RefreshAt <= now || valid[i].Exp - now < TimeSpan.FromMinutes(5))
                    {
                        valid[i] = await IssueAsync(set.Keys, _resource);
                        Interlocked.Increment(ref _refreshes);
                        changed = true;
                    }
                }

                if (changed)
                {
                    _set = set with { Valid = valid };
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or SoakSetupException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                Note("token refresh failed: " + ex.Message);
            }
            finally
            {
                _poolLock.Release();
            }
        }
    }

    private async Task RotateLoopAsync(double traffic0, double duration, CancellationToken ct)
    {
        for (var n = 1; traffic0 + n * _s.RotateSeconds < traffic0 + duration - 5; n++)
        {
            var wait = traffic0 + n * _s.RotateSeconds - Now;
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(wait), ct);
            }

            await _poolLock.WaitAsync(ct);
            try
            {
                var old = _set;
                var gen = old.Keys.Gen + 1;
                // Odd rotations publish new kids (the usual rotation); even ones replace the material under the same
                // kids, which McpAuth must notice by a signature failing under a known kid.
                var sameKid = n % 2 == 0;
                var keys = sameKid
                    ? KeyGeneration.Create(gen, old.Keys.Rsa.KeyId!, old.Keys.Ec.KeyId!)
                    : KeyGeneration.Create(gen, $"rsa-{gen}", $"ec-{gen}");
                var record = new RotationRecord(gen, Now, sameKid, keys.Rsa.KeyId!);
                lock (_rotations)
                {
                    _rotations.Add(record);
                }

                _rotatedAt[gen] = record.At; // from now on, tokens of older generations are "old key"
                using (var response = await _ctl.PostAsync(_s.Issuer + "/__control/rotate", new StringContent(keys.PrivateJwks()), ct))
                {
                    response.EnsureSuccessStatusCode();
                }

                var set = await BuildSetAsync(keys, old);
                _retired = old.Valid;
                _set = set;
                Console.WriteLine($"   rotation {n} at {record.At - traffic0:0} s: key generation {gen}, kids {keys.Rsa.KeyId}/{keys.Ec.KeyId} ({(sameKid ? "same kids, new material" : "new kids")}); " +
                                  $"{set.Valid.Length} new tokens from the issuer, all signed by the new key: {(Interlocked.Read(ref _notFromCurrentKey) == 0 ? "yes" : "NO")}");
            }
            catch (Exception ex) when (ex is HttpRequestException or SoakSetupException)
            {
                Note("rotation failed: " + ex.Message);
                Interlocked.Increment(ref _unexpected);
            }
            finally
            {
                _poolLock.Release();
            }
        }
    }

    // ---------------------------------------------------------------- traffic

    private Kind Pick()
    {
        var r = Random.Shared.Next(100);
        foreach (var (kind, weight) in Mix)
        {
            if (r < weight)
            {
                return kind;
            }

            r -= weight;
        }

        return Kind.ValidCall;
    }

    private async Task SendOneAsync()
    {
        try
        {
            var kind = Pick();
            var set = _set;
            PoolToken? token = null;
            string? authorization = null;
            string body;
            var id = Interlocked.Increment(ref _rpcId);
            string Call(string context) => $"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":{{\"name\":\"whoami\",\"arguments\":{{\"context\":\"{context}\"}}}}}}";
            string List() => $"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/list\",\"params\":{{}}}}";
            string Any() => Random.Shared.Next(2) == 0 ? Call("bench") : List();
            T One<T>(T[] a) => a[Random.Shared.Next(a.Length)];
            if (kind == Kind.OldKey && _retired is { Length: > 0 } retired)
            {
                token = One(retired);
            }
            else if (kind is Kind.ValidCall or Kind.ValidList or Kind.UnknownContext or Kind.OldKey)
            {
                token = One(set.Valid);
                kind = kind == Kind.OldKey ? Kind.ValidCall : kind; // before the first rotation: nothing is old yet
            }

            if (token is not null && _rotatedAt.ContainsKey(token.Gen + 1))
            {
                kind = Kind.OldKey; // a rotation happened since this token was issued (also mid-rotation picks)
            }

            switch (kind)
            {
                case Kind.ValidCall or Kind.OldKey:
                    body = Call("bench");
                    break;
                case Kind.ValidList:
                    body = List();
                    break;
                case Kind.UnknownContext:
                    body = Call("nope-" + (id % 3));
                    break;
                default:
                    body = Any();
                    break;
            }

            authorization = kind switch
            {
                Kind.Forged => "Bearer " + One(set.Forged),
                Kind.UnknownKid => "Bearer " + One(set.UnknownKid),
                Kind.Expired => "Bearer " + One(set.Expired),
                Kind.WrongAudience => "Bearer " + One(set.WrongAudience),
                Kind.Garbage => "Bearer " + One(set.Garbage),
                Kind.NoToken => (id % 4) switch { 0 => "Basic bWNwLWNsaWVudDptY3Atc2VjcmV0", 1 => "Bearer", _ => null },
                _ => "Bearer " + token!.Token,
            };

            using var request = new HttpRequestMessage(HttpMethod.Post, _resource) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
            if (authorization is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            var sentAt = Now;
            Interlocked.Increment(ref _sent);
            int status;
            string responseBody = "";
            string challenge = "";
            try
            {
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead);
                status = (int)response.StatusCode;
                if (kind is Kind.ValidCall || status != ExpectedStatus(kind))
                {
                    responseBody = await response.Content.ReadAsStringAsync();
                    challenge = response.Headers.WwwAuthenticate.ToString();
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                status = 0;
                responseBody = ex.GetType().Name + ": " + ex.Message;
            }

            var latencyMs = (Now - sentAt) * 1000;
            Record(kind, token, sentAt, status, responseBody, challenge, latencyMs);
        }
        catch (Exception ex)
        {
            Note("driver error: " + ex);
            Interlocked.Increment(ref _unexpected);
        }
        finally
        {
            Interlocked.Decrement(ref _inflight);
        }
    }

    private static int ExpectedStatus(Kind kind) => kind switch
    {
        Kind.ValidCall or Kind.ValidList => 200,
        Kind.UnknownContext => 400,
        _ => 401,
    };

    private static bool IsValidKind(Kind kind) => kind is Kind.ValidCall or Kind.ValidList or Kind.UnknownContext;

    private void Record(Kind kind, PoolToken? token, double sentAt, int status, string body, string challenge, double latencyMs)
    {
        var bucket = Array.IndexOf(Buckets, status);
        if (bucket < 0)
        {
            bucket = Other;
        }

        Interlocked.Increment(ref _byKind[(int)kind, bucket]);
        Interlocked.Increment(ref _interval[bucket]);
        Interlocked.Increment(ref _total[bucket]);
        _exact.AddOrUpdate(status, 1, (_, n) => n + 1);
        lock (_latLock)
        {
            (status == 200 ? _latValid : _latRefused).Add(latencyMs);
        }

        string? why = null;
        if (status is 0 or >= 500)
        {
            why = status == 0 ? "transport error" : $"{status} (server error)";
        }
        else if (kind == Kind.OldKey)
        {
            var rotation = FindRotation(token!.Gen + 1);
            var since = sentAt - (rotation?.At ?? sentAt);
            if (rotation is not null)
            {
                if (status == 200)
                {
                    Interlocked.Increment(ref rotation.OldAccepted);
                    lock (rotation)
                    {
                        rotation.LastOldAccept = double.IsNaN(rotation.LastOldAccept) ? since : Math.Max(rotation.LastOldAccept, since);
                    }
                }
                else if (status == 401)
                {
                    Interlocked.Increment(ref rotation.OldRefused);
                }
            }

            if (status == 200 && since > _s.GraceSeconds)
            {
                why = $"old-key token accepted {since:0.0} s after the rotation (grace {_s.GraceSeconds:0} s)";
            }
            else if (status is not (200 or 401))
            {
                why = $"old-key token answered {status}";
            }
        }
        else if (status != ExpectedStatus(kind))
        {
            why = IsValidKind(kind) ? $"valid token refused with {status}" : $"{kind} answered {status}, expected {ExpectedStatus(kind)}";
            if (!IsValidKind(kind) && status == 200)
            {
                why = $"{kind} token ACCEPTED";
            }
        }
        else if (kind == Kind.ValidCall && !body.Contains(ExchangedMarker, StringComparison.Ordinal))
        {
            why = "whoami answered 200 without exchanged=true";
        }

        if (status == 200 && IsValidKind(kind) && token is not null)
        {
            var rotation = FindRotation(token.Gen);
            if (rotation is not null)
            {
                lock (rotation)
                {
                    var since = sentAt - rotation.At;
                    rotation.FirstNewAccept = double.IsNaN(rotation.FirstNewAccept) ? since : Math.Min(rotation.FirstNewAccept, since);
                }
            }
        }

        if (why is not null)
        {
            Interlocked.Increment(ref _unexpected);
            Interlocked.Increment(ref _unexpectedByKind[(int)kind]);
            var snippet = body.Length > 200 ? body[..200] : body;
            Note($"t={sentAt:0.0}s {kind}: {why}; latency {latencyMs:0} ms; WWW-Authenticate: {challenge}; body: {snippet.ReplaceLineEndings(" ")}");
        }
    }

    private RotationRecord? FindRotation(int gen)
    {
        lock (_rotations)
        {
            return _rotations.Find(r => r.Gen == gen);
        }
    }

    private void Note(string line)
    {
        if (_unexpectedExamples.Count < 40)
        {
            _unexpectedExamples.Enqueue(line);
        }
    }

    private async Task PreflightAsync()
    {
        // One request of each expected answer before the clock starts, so a broken set-up fails in seconds, not minutes.
        async Task<int> Post(string? authorization, string body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _resource) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
            if (authorization is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            using var response = await _http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode && body.Contains("whoami", StringComparison.Ordinal) && !text.Contains(ExchangedMarker, StringComparison.Ordinal))
            {
                throw new SoakSetupException("pre-flight: whoami answered 200 but the token was not exchanged: " + text);
            }

            return (int)response.StatusCode;
        }

        const string call = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"whoami\",\"arguments\":{\"context\":\"bench\"}}}";
        var set = _set;
        var checks = new (string What, string? Auth, int Expected)[]
        {
            ("valid token", "Bearer " + set.Valid[0].Token, 200),
            ("forged token", "Bearer " + set.Forged[0], 401),
            ("no token", null, 401),
        };
        foreach (var (what, auth, expected) in checks)
        {
            var got = await Post(auth, call);
            if (got != expected)
            {
                throw new SoakSetupException($"pre-flight: {what} answered {got}, expected {expected}");
            }
        }

        var reviews = await _ctl.GetStringAsync(_s.ApiServer + "/_bench/reviews");
        if (long.Parse(reviews, CultureInfo.InvariantCulture) < 1)
        {
            throw new SoakSetupException("pre-flight: whoami answered 200 but the fake API server saw no TokenReview");
        }
    }

    // ---------------------------------------------------------------- sampling

    private async Task ReportLoopAsync(double traffic0, CancellationToken ct)
    {
        var next = traffic0 + _s.ReportSeconds;
        while (!ct.IsCancellationRequested)
        {
            var wait = next - Now;
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(wait), ct);
            }

            ReportLine(traffic0);
            next += _s.ReportSeconds;
        }
    }

    private long _lastCpuTicks = -1;
    private double _lastCpuAt;

    private void ReportLine(double traffic0)
    {
        var t = Now - traffic0;
        var statuses = new long[_interval.Length];
        for (var i = 0; i < statuses.Length; i++)
        {
            statuses[i] = Interlocked.Exchange(ref _interval[i], 0);
        }

        List<double> valid, refused;
        lock (_latLock)
        {
            (valid, _latValid) = (_latValid, []);
            (refused, _latRefused) = (_latRefused, []);
        }

        ReadCounters(traffic0);
        double heap;
        lock (_heap)
        {
            heap = _heap.Count > 0 ? _heap[^1].HeapMiB : double.NaN;
        }

        var cpu = HostCpuTicks();
        var cpuPct = _lastCpuTicks >= 0 && cpu >= 0 ? (cpu - _lastCpuTicks) / (double)_s.ClockTicks / (Now - _lastCpuAt) * 100 : double.NaN;
        _lastCpuTicks = cpu;
        _lastCpuAt = Now;
        var load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        var logBytes = File.Exists(_s.Log) ? new FileInfo(_s.Log).Length : 0;
        var sockets = CountSockets();
        var sample = new Sample(t, statuses, heap, RssMiB(), sockets, logBytes, cpuPct, load, P(valid, 0.99), P(refused, 0.99));
        lock (_samples)
        {
            _samples.Add(sample);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  [{t,5:0} s] 200={statuses[0],-6} 401={statuses[1],-6} 403={statuses[2],-3} 400={statuses[3],-4} 503={statuses[4],-3} other={statuses[5],-3}" +
            $"| heap {heap,5:0.0} MiB | RSS {sample.RssMiB,5:0.0} MiB | sockets {sockets.All,3} (in {sockets.In}, issuer {sockets.Issuer}, api {sockets.Api}, other {sockets.Other}) | log {logBytes,10:N0} B | cpu {(double.IsNaN(cpuPct) ? "n/a" : cpuPct.ToString("0", CultureInfo.InvariantCulture) + "%"),4} load {load:0.0} p99 {sample.P99Valid:0}/{sample.P99Refused:0} ms"));
    }

    private static double P(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        values.Sort();
        return values[Math.Min(values.Count - 1, (int)(p * values.Count))];
    }

    private long HostCpuTicks()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{_s.Pid}/stat");
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
    }

    private double RssMiB()
    {
        try
        {
            var line = File.ReadLines($"/proc/{_s.Pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? double.NaN : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    /// <summary>
    /// Socket fds of the host (links <c>socket:[inode]</c> in /proc/PID/fd), split by the TCP connection each one is,
    /// found by inode in /proc/PID/net/tcp and tcp6: on the host's own port (the listener and accepted connections), to
    /// the issuer (discovery, JWKS, STS), to the API server (TokenReview, and whoami's SelfSubjectReview), other (Unix
    /// sockets such as the diagnostics IPC, and anything else).
    /// </summary>
    private Sockets CountSockets()
    {
        try
        {
            var inodes = new List<string>();
            foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{_s.Pid}/fd"))
            {
                try
                {
                    if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                    {
                        inodes.Add(target[8..^1]);
                    }
                }
                catch (IOException)
                {
                }
            }

            static string Hex(string url) => new Uri(url).Port.ToString("X4", CultureInfo.InvariantCulture);
            var (host, issuer, api) = (Hex(_s.Host), Hex(_s.Issuer), Hex(_s.ApiServer));
            var where = new Dictionary<string, int>(StringComparer.Ordinal); // inode -> 0 in, 1 issuer, 2 api
            foreach (var table in new[] { "tcp", "tcp6" })
            {
                foreach (var line in File.ReadLines($"/proc/{_s.Pid}/net/{table}").Skip(1))
                {
                    var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (f.Length <= 9)
                    {
                        continue;
                    }

                    if (f[1].EndsWith(":" + host, StringComparison.Ordinal))
                    {
                        where[f[9]] = 0;
                    }
                    else if (f[2].EndsWith(":" + issuer, StringComparison.Ordinal))
                    {
                        where[f[9]] = 1;
                    }
                    else if (f[2].EndsWith(":" + api, StringComparison.Ordinal))
                    {
                        where[f[9]] = 2;
                    }
                }
            }

            int Count(int kind) => inodes.Count(i => where.TryGetValue(i, out var k) && k == kind);
            return new Sockets(inodes.Count, Count(0), Count(1), Count(2));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new Sockets(-1, -1, -1, -1);
        }
    }

    /// <summary>
    /// Reads what dotnet-counters appended to its CSV since the last call. The managed heap of one sample is the sum of
    /// <c>dotnet.gc.last_collection.heap.size</c> over the generations (gen0, gen1, gen2, LOH, POH): the heap as the
    /// last GC left it.
    /// </summary>
    private void ReadCounters(double traffic0)
    {
        if (!File.Exists(_s.Counters))
        {
            return;
        }

        using var stream = new FileStream(_s.Counters, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length <= _counterBytesRead)
        {
            return;
        }

        stream.Seek(_counterBytesRead, SeekOrigin.Begin);
        var buffer = new byte[stream.Length - _counterBytesRead];
        stream.ReadExactly(buffer);
        _counterBytesRead += buffer.Length;
        var text = _counterRemainder + Encoding.UTF8.GetString(buffer);
        var lastNewline = text.LastIndexOf('\n');
        _counterRemainder = text[(lastNewline + 1)..];
        foreach (var line in text[..(lastNewline + 1)].Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var f = line.Split(',');
            if (f.Length < 5 || f[0] == "Timestamp")
            {
                continue;
            }

            if (f[0] != _counterTs)
            {
                FlushCounterGroup(traffic0);
                _counterTs = f[0];
            }

            var name = string.Join(',', f[2..^2]);
            const string heapSize = "dotnet.gc.last_collection.heap.size";
            if (name.StartsWith(heapSize, StringComparison.Ordinal)
                && double.TryParse(f[^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var bytes))
            {
                var gen = name.IndexOf("generation=", StringComparison.Ordinal) is var at and >= 0 ? name[(at + 11)..].TrimEnd(']') : "all";
                _counterGens[gen] = bytes / 1048576.0;
                _counterHasHeap = true;
            }
        }
    }

    private void FlushCounterGroup(double traffic0)
    {
        if (_counterTs is not null && _counterHasHeap
            && DateTime.TryParseExact(_counterTs, "MM/dd/yyyy HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var at))
        {
            var t = (at - DateTime.Now).TotalSeconds + Now - traffic0;
            double G(string gen) => _counterGens.TryGetValue(gen, out var v) ? v : 0;
            lock (_heap)
            {
                _heap.Add(new HeapSample(t, _counterGens.Values.Sum(), G("gen0"), G("gen1"), G("gen2"), G("loh"), G("poh")));
            }
        }

        _counterGens.Clear();
        _counterHasHeap = false;
    }

    // ---------------------------------------------------------------- summary

    private async Task<int> SummaryAsync(long logAtStart, long cpuAtStart, double trafficSeconds, bool hostDied)
    {
        var failures = new List<string>();
        var total = _total.Sum();
        Console.WriteLine();
        Console.WriteLine($"== summary: {total:N0} responses in {trafficSeconds:0} s ({total / trafficSeconds:0} req/s); sent {Interlocked.Read(ref _sent):N0}, " +
                          $"not sent because {_s.MaxInflight} were in flight: {Interlocked.Read(ref _dropped):N0}; load average at the end {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine("totals by status: " + string.Join("  ", _exact.OrderBy(kv => kv.Key).Select(kv => $"{(kv.Key == 0 ? "transport-error" : kv.Key.ToString(CultureInfo.InvariantCulture))}={kv.Value:N0}")));
        Console.WriteLine();
        Console.WriteLine($"{"request kind",-16} {"expected",-22} {"200",8} {"401",8} {"403",6} {"400",6} {"503",6} {"other",6} {"unexpected",10}");
        foreach (var kind in Enum.GetValues<Kind>())
        {
            var k = (int)kind;
            var expected = kind == Kind.OldKey ? $"200|401, 401 after {_s.GraceSeconds:0} s" : ExpectedStatus(kind).ToString(CultureInfo.InvariantCulture);
            Console.WriteLine($"{kind,-16} {expected,-22} {_byKind[k, 0],8:N0} {_byKind[k, 1],8:N0} {_byKind[k, 2],6:N0} {_byKind[k, 3],6:N0} {_byKind[k, 4],6:N0} {_byKind[k, 5],6:N0} {_unexpectedByKind[k],10:N0}");
        }

        Console.WriteLine();
        Console.WriteLine($"rotations (grace for old-key tokens: {_s.GraceSeconds:0} s = KeyRefreshInterval 2 s + IssuerTimeout 5 s + 8 s of scheduling slack):");
        foreach (var r in _rotations)
        {
            Console.WriteLine($"  gen {r.Gen} ({(r.SameKid ? "same kids, new material" : "new kids")}, {r.RsaKid}): old-key requests accepted {r.OldAccepted:N0}, refused {r.OldRefused:N0}; " +
                              $"last old-key acceptance {(double.IsNaN(r.LastOldAccept) ? "none" : $"{r.LastOldAccept:0.0} s")} after the rotation; " +
                              $"first accepted new-key request sent {(double.IsNaN(r.FirstNewAccept) ? "never" : $"{r.FirstNewAccept:0.0} s")} after it");
        }

        Console.WriteLine($"valid tokens refreshed from the issuer: {Interlocked.Read(ref _refreshes):N0} (plus {_s.Tokens} per rotation); issuer tokens not signed by the key set current at issue: {Interlocked.Read(ref _notFromCurrentKey)}");
        try
        {
            var stats = JsonNode.Parse(await _ctl.GetStringAsync(_s.Issuer + "/__control/stats"))!;
            var counts = stats["counts"]!.AsObject();
            long C(string path) => counts[path]?.GetValue<long>() ?? 0;
            Console.WriteLine($"issuer saw: discovery {C("/.well-known/openid-configuration"):N0}, JWKS {C("/jwks"):N0}, token endpoint {C("/token"):N0} (of which RFC 8693 exchanges {stats["exchanges"]!.AsArray().Count:N0}); " +
                              $"fake API server TokenReviews: {await _ctl.GetStringAsync(_s.ApiServer + "/_bench/reviews")}");
        }
        catch (HttpRequestException ex)
        {
            Console.WriteLine("issuer stats unavailable: " + ex.Message);
        }

        var cpuEnd = HostCpuTicks();
        if (cpuEnd >= 0 && total > 0)
        {
            Console.WriteLine($"host CPU: {(cpuEnd - cpuAtStart) / (double)_s.ClockTicks:0.0} s over the run, {(cpuEnd - cpuAtStart) / (double)_s.ClockTicks * 1e6 / total:0} us per response");
        }

        // 1. Unexpected responses.
        var unexpected = Interlocked.Read(ref _unexpected);
        Console.WriteLine();
        Console.WriteLine($"unexpected responses: {unexpected:N0} (any 5xx or transport error, a valid token refused, an invalid token accepted, an old-key token accepted after the grace, a wrong status)");
        foreach (var line in _unexpectedExamples)
        {
            Console.WriteLine("  " + line);
        }

        if (unexpected > 0)
        {
            failures.Add($"{unexpected} unexpected response(s)");
        }

        if (Interlocked.Read(ref _notFromCurrentKey) > 0)
        {
            failures.Add("the issuer handed out tokens not signed by its current key");
        }

        if (hostDied)
        {
            failures.Add("the host exited during the soak");
        }

        // 2. Managed heap after warm-up: mean of the first third vs the last third of the samples.
        List<HeapSample> heap;
        lock (_heap)
        {
            heap = _heap.Where(h => h.T >= _s.WarmupSeconds && h.T <= trafficSeconds).ToList();
        }

        Console.WriteLine();
        if (heap.Count < 6)
        {
            Console.WriteLine($"managed heap: only {heap.Count} samples after the {_s.WarmupSeconds:0} s warm-up; no trend");
            failures.Add("too few heap samples");
        }
        else
        {
            var third = heap.Count / 3;
            var first = heap.Take(third).Average(h => h.HeapMiB);
            var last = heap.Skip(heap.Count - third).Average(h => h.HeapMiB);
            var bound = Math.Max(first * _s.HeapBoundPercent / 100, _s.HeapBoundMiB);
            var slope = Slope(heap) * 60;
            var flat = last - first <= bound;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"managed heap after the {_s.WarmupSeconds:0} s warm-up ({heap.Count} samples of dotnet.gc.last_collection.heap.size, all generations): first third {first:0.0} MiB, last third {last:0.0} MiB, " +
                $"change {last - first:+0.0;-0.0} MiB ({(last - first) / first * 100:+0;-0} %), min {heap.Min(h => h.HeapMiB):0.0} max {heap.Max(h => h.HeapMiB):0.0}, least-squares slope {slope:+0.00;-0.00} MiB/min; " +
                $"flat = growth <= max({_s.HeapBoundPercent:0} % of the first third, {_s.HeapBoundMiB:0} MiB) = {bound:0.0} MiB: {(flat ? "FLAT" : "GROWING")}"));
            string Gens(IEnumerable<HeapSample> part) => string.Create(CultureInfo.InvariantCulture,
                $"gen0 {part.Average(h => h.Gen0):0.0}, gen1 {part.Average(h => h.Gen1):0.0}, gen2 {part.Average(h => h.Gen2):0.0}, LOH {part.Average(h => h.Loh):0.0}, POH {part.Average(h => h.Poh):0.0} MiB");
            Console.WriteLine($"  by generation: first third {Gens(heap.Take(third))}; last third {Gens(heap.Skip(heap.Count - third))}");
            if (!flat)
            {
                failures.Add($"managed heap grew {last - first:0.0} MiB (bound {bound:0.0} MiB)");
            }
        }

        List<Sample> samples;
        lock (_samples)
        {
            samples = _samples.Where(x => x.T >= _s.WarmupSeconds).ToList();
        }

        static string Socks(IEnumerable<Sample> part) => string.Create(CultureInfo.InvariantCulture,
            $"{part.Average(x => x.Sockets.All):0} / {part.Average(x => x.Sockets.In):0} / {part.Average(x => x.Sockets.Issuer):0} / {part.Average(x => x.Sockets.Api):0} / {part.Average(x => x.Sockets.Other):0}");
        if (samples.Count >= 3)
        {
            var third = Math.Max(1, samples.Count / 3);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RSS after warm-up: first third {samples.Take(third).Average(x => x.RssMiB):0.0} MiB, last third {samples.Skip(samples.Count - third).Average(x => x.RssMiB):0.0} MiB; " +
                $"socket fds (all / in / to issuer / to API server / other), first third {Socks(samples.Take(third))}, last third {Socks(samples.Skip(samples.Count - third))}, max {samples.Max(x => x.Sockets.All)}"));
        }

        // 3. Log bytes per 1,000 refused requests.
        var refused = _exact.Where(kv => kv.Key is >= 400 and < 500).Sum(kv => kv.Value);
        var logEnd = new FileInfo(_s.Log).Length;
        var logBytes = logEnd - logAtStart;
        var perThousand = refused > 0 ? logBytes * 1000.0 / refused : double.NaN;
        Console.WriteLine();
        Console.WriteLine($"host log: {logEnd:N0} bytes in all, {logBytes:N0} written during the traffic; refused requests (4xx) {refused:N0}: " +
                          $"{perThousand:0.0} bytes per 1,000 refused (target < {_s.LogBytesTarget:0}): {(perThousand < _s.LogBytesTarget ? "MET" : "NOT MET")}");
        var byCategory = LogBreakdown(logAtStart);
        Console.WriteLine($"  where the {logBytes:N0} bytes come from (category[event id]: entries, bytes, bytes per 1,000 refused):");
        foreach (var (category, (entries, bytes)) in byCategory.OrderByDescending(kv => kv.Value.Bytes))
        {
            Console.WriteLine($"    {category,-70} {entries,8:N0} {bytes,12:N0} {(refused > 0 ? bytes * 1000.0 / refused : 0),10:0.0}");
        }

        long Bytes(Func<string, bool> which) => byCategory.Where(kv => which(kv.Key)).Sum(kv => kv.Value.Bytes);
        var mcp = Bytes(c => c.Contains(" ModelContextProtocol.", StringComparison.Ordinal));
        var own = Bytes(c => c.Contains(" McpAuth.", StringComparison.Ordinal));
        if (refused > 0)
        {
            Console.WriteLine($"  without ModelContextProtocol.* (the MCP SDK logs only requests McpAuth let through): {(logBytes - mcp) * 1000.0 / refused:0.0} bytes per 1,000 refused; " +
                              $"McpAuth's own categories (McpAuth.*): {own * 1000.0 / refused:0.0}");
        }

        if (!(perThousand < _s.LogBytesTarget))
        {
            failures.Add($"log bytes per 1,000 refused requests {perThousand:0.0} (target < {_s.LogBytesTarget:0})");
        }

        Console.WriteLine();
        if (failures.Count == 0)
        {
            Console.WriteLine("soak: PASS");
            return 0;
        }

        Console.WriteLine("soak: FAIL: " + string.Join("; ", failures));
        return 1;
    }

    private static double Slope(List<HeapSample> points)
    {
        var mt = points.Average(p => p.T);
        var mh = points.Average(p => p.HeapMiB);
        var num = points.Sum(p => (p.T - mt) * (p.HeapMiB - mh));
        var den = points.Sum(p => (p.T - mt) * (p.T - mt));
        return den > 0 ? num / den : 0;
    }

    private static readonly Regex LogHeader = new(@"^(trce|dbug|info|warn|fail|crit): ([^\[]+)\[(\d+)\]", RegexOptions.Compiled);

    /// <summary>Bytes of the log written since <paramref name="offset"/>, by category and event id (console format: a header line, then indented lines).</summary>
    private Dictionary<string, (long Entries, long Bytes)> LogBreakdown(long offset)
    {
        var result = new Dictionary<string, (long Entries, long Bytes)>(StringComparer.Ordinal);
        using var stream = new FileStream(_s.Log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(offset, SeekOrigin.Begin);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var current = "(lines outside a log entry)";
        while (reader.ReadLine() is { } line)
        {
            var bytes = Encoding.UTF8.GetByteCount(line) + 1;
            var m = LogHeader.Match(line);
            var entry = 0;
            if (m.Success)
            {
                current = $"{m.Groups[1].Value}: {m.Groups[2].Value}[{m.Groups[3].Value}]";
                entry = 1;
            }
            else if (!line.StartsWith(' '))
            {
                current = "(lines outside a log entry)";
            }

            result.TryGetValue(current, out var v);
            result[current] = (v.Entries + entry, v.Bytes + bytes);
        }

        return result;
    }
}
