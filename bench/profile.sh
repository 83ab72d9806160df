#!/usr/bin/env bash
# CPU sampling profile of McpAuth under load:  bash bench/profile.sh [oidc|tokenreview]
#   oidc (default): host (b) of bench/load.sh, McpAuth in OIDC mode (--demo), wrk sending tools/call whoami with one token;
#   tokenreview:    host (b2), McpAuth --require-oauth --validate-token against the fake API server, wrk sending tools/list.
# Warms the host up (30 s: a fresh host needs about 20 s of load on a busy 2-core machine to reach its steady CPU
# per request, see bench/load.sh), then runs dotnet-trace (--profile dotnet-sampled-thread-time, the EventPipe sample
# profiler) for TRACE_SECONDS while wrk drives it, converts the trace to speedscope and prints the top inclusive frames of McpAuth.*
# and Microsoft.AspNetCore.Authentication* (bench/speedscope_top.py), in sampled µs per request, next to the process
# CPU time per request (/proc/<pid>/stat) over the trace window. Prints where the files are.
#
# Environment (defaults): TRACE_SECONDS (10) WARMUP (30) THREADS (1) CONNECTIONS (16) TOP (25) PORT (18186) PK (18187)
# OUT (a new directory under /tmp) DOTNET_TOOLS (/tmp/mcpauth-bench-tools: dotnet-trace is installed there with
# `dotnet tool install --tool-path` when missing) NO_BUILD=1 to skip the build.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-oidc}
TRACE_SECONDS=${TRACE_SECONDS:-10}
WARMUP=${WARMUP:-30}
THREADS=${THREADS:-1}
CONNECTIONS=${CONNECTIONS:-16}
TOP=${TOP:-25}
PORT=${PORT:-18186}; PK=${PK:-18187}
OUT=${OUT:-$(mktemp -d /tmp/mcpauth-profile.XXXXXX)}
DOTNET_TOOLS=${DOTNET_TOOLS:-/tmp/mcpauth-bench-tools}
HOST_DLL=src/Host/bin/Release/net10.0/McpAuth.Host.dll
BENCH_DLL=bench/McpAuth.Benchmarks/bin/Release/net10.0/McpAuth.Benchmarks.dll
SERVER_TOKEN=bench-server-sa-token
CLK_TCK=$(getconf CLK_TCK)
mkdir -p "$OUT"

fail() { echo "profile.sh: $*" >&2; exit 1; }
pids=()
cleanup() {
  local rc=$? p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

case $MODE in oidc|tokenreview) ;; *) fail "mode is oidc or tokenreview, not '$MODE'";; esac
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } || fail "wrk is not installed"
if [ ! -x "$DOTNET_TOOLS/dotnet-trace" ]; then
  dotnet tool install --tool-path "$DOTNET_TOOLS" dotnet-trace >"$OUT/tool-install.log" 2>&1 \
    || { cat "$OUT/tool-install.log" >&2; fail "could not install dotnet-trace"; }
fi
TRACE="$DOTNET_TOOLS/dotnet-trace"
if [ "${NO_BUILD:-0}" != 1 ]; then
  dotnet build -c Release -v q -nologo bench/McpAuth.Benchmarks/McpAuth.Benchmarks.csproj >"$OUT/build.log" 2>&1 \
    || { tail -n 40 "$OUT/build.log" >&2; fail "build failed"; }
fi
export Logging__LogLevel__Default=Warning DOTNET_gcServer=0
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$PORT" "$PK"; do port_busy "$p" && fail "port $p is already in use; set PORT/PK"; done
post() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PORT/mcp" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d "$1" || true; }

if [ "$MODE" = oidc ]; then
  dotnet "$HOST_DLL" --port "$PORT" --demo >"$OUT/host.log" 2>&1 & HOST_PID=$!; pids+=($!)
  for _ in $(seq 1 150); do grep -qs '^TOKEN=' "$OUT/host.log" && break; kill -0 "$HOST_PID" || fail "host exited"; sleep 0.2; done
  TOKEN=$(sed -n 's/^TOKEN=//p' "$OUT/host.log")
  [ -n "$TOKEN" ] || fail "host printed no token"
  SCRIPT=bench/whoami.lua
  BODY='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'
else
  dotnet "$BENCH_DLL" fake-apiserver "$PK" "$SERVER_TOKEN" >"$OUT/apiserver.log" 2>&1 & pids+=($!)
  printf '%s\n' "apiVersion: v1" "kind: Config" "current-context: bench" "clusters:" "- name: bench-cluster" "  cluster:" \
    "    server: http://127.0.0.1:$PK" "contexts:" "- name: bench" "  context:" "    cluster: bench-cluster" "    user: bench-user" \
    "users:" "- name: bench-user" "  user:" "    token: $SERVER_TOKEN" >"$OUT/kubeconfig"
  dotnet "$HOST_DLL" --port "$PORT" --require-oauth --validate-token --kubeconfig "$OUT/kubeconfig" >"$OUT/host.log" 2>&1 & HOST_PID=$!; pids+=($!)
  b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
  now=$(date +%s)
  TOKEN="$(printf '{"alg":"RS256","typ":"JWT"}' | b64url).$(printf '{"iss":"bench","sub":"alice","iat":%d,"nbf":%d,"exp":%d}' \
    "$now" "$now" $((now + 7200)) | b64url).$(printf 'not-verified-here' | b64url)"
  SCRIPT=bench/tools_list.lua
  BODY='{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'
fi
for _ in $(seq 1 150); do [ "$(post "$BODY")" = 200 ] && break; kill -0 "$HOST_PID" || fail "host exited: $(tail -n 5 "$OUT/host.log")"; sleep 0.2; done
[ "$(post "$BODY")" = 200 ] || fail "host does not answer 200"

echo "profile.sh: mode $MODE, host pid $HOST_PID, wrk ${THREADS} thread(s) ${CONNECTIONS} connections; warm-up ${WARMUP} s"
TOKEN=$TOKEN wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$SCRIPT" "http://127.0.0.1:$PORT/mcp" >/dev/null
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
TOKEN=$TOKEN wrk -t"$THREADS" -c"$CONNECTIONS" -d"$((TRACE_SECONDS + 6))s" -s "$SCRIPT" "http://127.0.0.1:$PORT/mcp" >"$OUT/wrk.txt" & WRK=$!; pids+=($!)
sleep 2
t0=$(cpu_ticks "$HOST_PID"); s0=$(date +%s.%N)
"$TRACE" collect -p "$HOST_PID" --profile dotnet-sampled-thread-time --duration "$(printf '00:%02d:%02d:%02d' $((TRACE_SECONDS / 3600)) $((TRACE_SECONDS / 60 % 60)) $((TRACE_SECONDS % 60)))" \
  -o "$OUT/trace.nettrace" >"$OUT/trace.log" 2>&1 || { cat "$OUT/trace.log" >&2; fail "dotnet-trace collect failed"; }
t1=$(cpu_ticks "$HOST_PID"); s1=$(date +%s.%N)
wait "$WRK" || fail "wrk failed"
grep -qE 'Non-2xx|Socket errors' "$OUT/wrk.txt" && { cat "$OUT/wrk.txt"; fail "the host answered non-2xx or had socket errors under load"; }
rps=$(awk '/^Requests\/sec/ { print $2 }' "$OUT/wrk.txt")
# CPU µs per request over the trace window (requests estimated from wrk's rate over its whole run, tracing included).
requests=$(awk -v rps="$rps" -v s0="$s0" -v s1="$s1" 'BEGIN { printf "%.0f", rps * (s1 - s0) }')
cpu_us=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')
echo "under trace: ${rps} req/s (whole wrk run), host CPU $((t1 - t0)) ticks in $(awk -v a="$s0" -v b="$s1" 'BEGIN{printf "%.1f", b-a}') s: ~${cpu_us} CPU us/request"

"$TRACE" convert --format Speedscope -o "$OUT/trace.speedscope.json" "$OUT/trace.nettrace" >"$OUT/convert.log" 2>&1 \
  || { cat "$OUT/convert.log" >&2; fail "dotnet-trace convert failed"; }
SPEEDSCOPE=$(ls "$OUT"/trace.speedscope*.json | head -n 1)   # the tool may add its own .speedscope suffix
echo
if command -v python3 >/dev/null; then
  python3 bench/speedscope_top.py "$SPEEDSCOPE" --top "$TOP" --requests "$requests" --cpu-us "$cpu_us" | tee "$OUT/top.txt"
else
  echo "python3 not found: no summary (dotnet-trace report $OUT/trace.nettrace topN --inclusive gives an unfiltered one)"
fi
echo
echo "trace:      $OUT/trace.nettrace"
echo "speedscope: $SPEEDSCOPE   (open it in a speedscope viewer)"
[ -f "$OUT/top.txt" ] && echo "summary:    $OUT/top.txt"
exit 0
