using System.Text;
using McpAuth.TestPeers;

namespace McpAuth.AspNetCore.Tests.FaultMatrix;

/// <summary>docs/fault-matrix.md, written from <see cref="FaultMatrixTable"/> and <see cref="MatrixSettings"/> (nothing measured goes in).</summary>
public static class FaultMatrixDocument
{
    public const string WriteVariable = "MCPAUTH_WRITE_FAULT_MATRIX";

    public static string PathInRepo => Path.Combine(Repo.Root, "docs", "fault-matrix.md");

    public static string Render()
    {
        var s = MatrixSettings.S;
        var md = new StringBuilder();
        md.AppendLine("# Fault matrix");
        md.AppendLine();
        md.AppendLine("What an MCP client gets when a peer of McpAuth misbehaves: one cell per peer and fault, with the status, how long");
        md.AppendLine("the answer may take, and what happens once the fault is cleared.");
        md.AppendLine("The `Introspection` rows send an opaque token (not a JWT), which McpAuth asks the issuer's RFC 7662 introspection");
        md.AppendLine("endpoint about while that endpoint misbehaves; discovery and keys answer normally.");
        md.AppendLine();
        md.AppendLine("This file is generated. The table lives in `tests/Adapters/AspNetCore.Tests/FaultMatrix/FaultMatrixTable.cs`; each");
        md.AppendLine("cell is a `[Theory]` row named `<Peer>_<Fault>` of the `*FaultMatrixTests` classes there, which asserts that cell's");
        md.AppendLine("status, bound and recovery. `FaultMatrixDocumentTests` fails when this file differs from what the table renders.");
        md.AppendLine();
        md.AppendLine("```sh");
        md.AppendLine("dotnet test tests/Adapters/AspNetCore.Tests --filter FullyQualifiedName~FaultMatrix                       # run and check");
        md.AppendLine($"{WriteVariable}=1 dotnet test tests/Adapters/AspNetCore.Tests --filter FullyQualifiedName~FaultMatrixDocument   # regenerate");
        md.AppendLine("```");
        md.AppendLine();
        md.AppendLine("## Setup");
        md.AppendLine();
        md.AppendLine("- **The app** embeds McpAuth as the README shows: `AddAuthentication().AddMcpAuth(...)` (which adds `AddOidcProvider()`,");
        md.AppendLine("  `AddTokenIntrospection()` and `AddTokenExchange()`), `services.AddMcpAuth().AddKubernetesTokenReview()` for the API-server rows,");
        md.AppendLine("  `MapMcp(\"/mcp\").RequireMcpAuth()` with the MCP SDK behind it, on a TestServer. The real adapters; no port is faked.");
        md.AppendLine("  The client POSTs `tools/list` with a valid token (a new one per request unless a row says otherwise): a JWT the");
        md.AppendLine("  issuer signed, or in the `Introspection` rows an opaque token (32 random bytes, base64url: an RFC 6750 b64token");
        md.AppendLine("  without dots) with `IntrospectionClientId` and its secret set.");
        md.AppendLine($"- **Settings** (the `McpAuth` section): `IssuerTimeout` = `StsTimeout` = `TokenReviewTimeout` = `IntrospectionTimeout` = T = {s(MatrixSettings.Timeout)};");
        md.AppendLine($"  `FailureBackoff` {s(MatrixSettings.FailureBackoff)}; `KeyRefreshInterval` {s(MatrixSettings.KeyRefreshInterval)};");
        md.AppendLine($"  `MetadataMaxAge` 1 h, {s(MatrixSettings.CachedMetadataMaxAge)} in the \"keys cached\" rows; `RetryAfterSeconds` {MatrixSettings.RetryAfterSeconds}.");
        md.AppendLine("- **The peer** (`FaultPeer`) is one Kestrel app on 127.0.0.1 serving OIDC discovery, a JWKS, an RFC 8693 token");
        md.AppendLine("  endpoint (the discovered `token_endpoint`), an RFC 7662 introspection endpoint (the discovered `introspection_endpoint`,");
        md.AppendLine("  answering `{\"active\":true,\"iss\":…,\"aud\":<resource>,\"scope\":\"read\",\"exp\":…}` to this server's client)");
        md.AppendLine("  and the kube-apiserver TokenReview endpoint (the kubeconfig's server). Each");
        md.AppendLine("  has its own port, a TCP gate in front of the listener, so that one can refuse connections while the others answer;");
        md.AppendLine("  an HTTPS listener presents a self-signed certificate. Each is switched at runtime into one fault.");
        md.AppendLine();
        md.AppendLine("| Peer | What McpAuth holds when the fault starts |");
        md.AppendLine("|------|------------------------------------------|");
        md.AppendLine("| Discovery | issuer discovery document: nothing cached (the faulted request makes the first fetch) |");
        md.AppendLine("| Jwks | issuer JWKS (`jwks_uri`): nothing cached |");
        md.AppendLine("| DiscoveryCached | discovery document: keys cached and past `MetadataMaxAge` (a background refresh meets the fault). Status = a request after that refresh ran; the request that started it got 200 at once in every row |");
        md.AppendLine("| JwksCached | JWKS: keys cached and past `MetadataMaxAge`, as above |");
        md.AppendLine("| Sts | STS token endpoint (`StsClientId`, `StsAudience` set; discovered `token_endpoint`); issuer fine |");
        md.AppendLine("| TokenReview | API server TokenReview (`ValidateToken`, kubeconfig pointing at the peer); issuer fine |");
        md.AppendLine("| Introspection | RFC 7662 introspection endpoint, asked about an opaque token (`IntrospectionClientId` set; discovered `introspection_endpoint`); issuer fine |");
        md.AppendLine();
        md.AppendLine("| Fault | What the peer does |");
        md.AppendLine("|-------|--------------------|");
        md.AppendLine("| Refused | its port is bound but not listening: connection refused |");
        md.AppendLine("| Http500 | HTTP 500 |");
        md.AppendLine($"| Hang | no response headers until the client gives up (or {s(MatrixSettings.PeerGivesUpAfter)}) |");
        md.AppendLine($"| Slow | the normal answer after {s(MatrixSettings.SlowDelay)}, within T |");
        md.AppendLine("| GarbageJson | 200, `application/json`, a body that is not JSON |");
        md.AppendLine("| EmptyJson | (beyond the brief) 200 with `{}`: valid JSON, every required member missing |");
        md.AppendLine($"| Oversized | 200, valid JSON past the adapter's limit, chunked: issuer documents {Kib(MatrixSettings.OversizedBytes(PeerRole.Jwks))} (limit 1 MiB), STS {Kib(MatrixSettings.OversizedBytes(PeerRole.Sts))} (limit 64 KiB), introspection {Kib(MatrixSettings.OversizedBytes(PeerRole.Introspection))} (limit 64 KiB), API server {Kib(MatrixSettings.OversizedBytes(PeerRole.ApiServer))} (limit 1 MiB) |");
        md.AppendLine("| UntrustedTls | https with a self-signed certificate and no `CertificateAuthority` (DiscoveryCached: the issuer was trusted through `CertificateAuthority`, then presents a self-signed certificate) |");
        md.AppendLine("| Truncated | (beyond the brief) 200 with a `Content-Length`, half the body, then the connection is closed |");
        md.AppendLine($"| StalledBody | (beyond the brief) 200 with a `Content-Length`, half the body, then nothing until the peer closes ({s(MatrixSettings.PeerGivesUpAfter)}) |");
        md.AppendLine();
        md.AppendLine("Each row sends the faulted request, checks that the faulted peer was really met (it saw the request or the TLS");
        md.AppendLine("connection, or its port refused), clears the fault, and sends the next request `FailureBackoff` + 0.05 s later.");
        md.AppendLine("Every 503 carries `Retry-After: 5` and no `WWW-Authenticate`, and is the adapter's own answer naming the peer: no row");
        md.AppendLine("lets an exception escape an adapter to `ExceptionGuardBehavior` (each asserts it). No answer and no log line of the app");
        md.AppendLine("contains the token; an introspection row also checks that the faulted call gave its concurrency slot back.");
        md.AppendLine();

        var faults = Enum.GetValues<Fault>();
        md.AppendLine("## Overview");
        md.AppendLine();
        md.AppendLine("| Peer \\ Fault | " + string.Join(" | ", faults) + " |");
        md.AppendLine("|---|" + string.Concat(faults.Select(_ => "---|")));
        foreach (var peer in Enum.GetValues<Peer>())
        {
            md.AppendLine($"| {peer} | " + string.Join(" | ", faults.Select(f => Short(FaultMatrixTable.Cells.Single(c => c.Peer == peer && c.Fault == f)))) + " |");
        }

        md.AppendLine();
        md.AppendLine("## Cells");
        md.AppendLine();
        md.AppendLine("| Row | Status | Time bound | After the fault clears | Notes |");
        md.AppendLine("|-----|--------|------------|------------------------|-------|");
        foreach (var cell in FaultMatrixTable.Cells)
        {
            md.AppendLine($"| `{cell.Name}` | {Status(cell)} | {MatrixSettings.Interval(cell.Bound).Text} | {RecoveryText(cell.Recovery)} | {cell.Note} |");
        }

        md.AppendLine();
        md.AppendLine("## Findings fixed");
        md.AppendLine();
        md.AppendLine("The first run of this matrix found six cells where McpAuth was wrong; each row now asserts the fixed behaviour.");
        md.AppendLine();
        md.AppendLine("1. A body cut short (discovery or JWKS) raised an `IOException` the issuer store did not catch: the faulted fetch stayed");
        md.AppendLine("   in flight forever, so every later request got 503 (nothing cached) or the keys were never refreshed again. A fetch");
        md.AppendLine("   now never faults: any failure is a failed fetch with backoff.");
        md.AppendLine("2. A JWKS without signing keys (`{}`, `{\"keys\":[]}`) was stored as the issuer's keys: every token was refused as");
        md.AppendLine("   invalid, and cached keys were replaced by none. It is now a failed fetch; the last-known-good keys stay.");
        md.AppendLine("3. A TokenReview answer without `status.authenticated` was read as \"not authenticated\" (401, cached 10 s). It is now");
        md.AppendLine("   unavailable (503, not cached); only an explicit `authenticated: false` refuses the token.");
        md.AppendLine("4. KubernetesClient reads the API server's body after the send, outside any deadline: a stalled body held the request");
        md.AppendLine("   until the server closed the connection. Bodies are now read inside the send, under `TokenReviewTimeout`.");
        md.AppendLine("5. The API server's answer had no size limit (an 8 MiB body was read and parsed). It is now limited to 1 MiB.");
        md.AppendLine("6. STS and TokenReview bodies cut short escaped their adapters to `ExceptionGuardBehavior` (an error log with a stack");
        md.AppendLine("   trace); they are now the adapters' own 503.");
        md.AppendLine();
        md.AppendLine("## Design promises (`IssuerPromiseTests`)");
        md.AppendLine();
        md.AppendLine($"- Keys cached, issuer hanging past `MetadataMaxAge` (1 s): 8 concurrent requests with valid tokens all get 200, each within");
        md.AppendLine($"  {s(MatrixSettings.Instant)}, from the last-known-good keys; exactly one fetch runs.");
        md.AppendLine($"- A token whose `kid` is unknown while the issuer hangs: 503 within T + {s(MatrixSettings.Margin)} (4 such tokens share one fetch;");
        md.AppendLine("  a token under a known `kid` sent meanwhile gets 200 at once).");
        md.AppendLine("- `IssuerTimeout` is one budget for discovery and JWKS together (as `OidcProviderOptions` says; the README's adapter table");
        md.AppendLine("  says \"each discovery or JWKS fetch\"): both answering after 0.6 s, each under T, gives 503 after T.");
        return md.ToString().ReplaceLineEndings("\n");
    }

    private static string Kib(int bytes) => bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MiB" : $"{bytes / 1024} KiB";

    private static string Status(Cell cell) => cell.Status.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Short(Cell cell) => Status(cell);

    private static string RecoveryText(Recovery recovery) => recovery switch
    {
        Recovery.NextRequest => $"next request 200 (within T + {MatrixSettings.S(MatrixSettings.Margin)})",
        Recovery.KeysRefreshed => "200; the next background refresh replaces the keys",
        Recovery.Nothing => "nothing to recover",
        Recovery.ByConfiguration => "only by configuration (trust the certificate)",
        _ => throw new ArgumentOutOfRangeException(nameof(recovery)),
    };
}
