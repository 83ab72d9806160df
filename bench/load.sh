#!/usr/bin/env bash
# HTTP load comparison, one command:  bash bench/load.sh [seconds-per-run] [rounds]
#
# Scenario 1 (OIDC), the same MCP endpoint (official SDK, stateless) and whoami tool on loopback behind:
#   (a) no authentication;
#   (b) McpAuth in OIDC mode (--demo issuer, the same token on every request: validated-token cache hit);
#   (c) ASP.NET Core JwtBearer, same issuer and audience;
#   (d) a do-nothing ASP.NET Core authentication handler returning a fixed principal, endpoint RequireAuthorization():
#       the floor of any ASP.NET Core authentication scheme on this endpoint.
# Scenario 2 (TokenReview), a tools/list POST (no tool calls out on its own) to:
#   (a) no authentication;
#   (b2) McpAuth with --require-oauth --validate-token --kubeconfig, the kubeconfig pointing at a fake kube-apiserver
#        on 127.0.0.1 (bench mode fake-apiserver) that authenticates every token. McpAuth caches the review, so steady
#        state is the review-cache hit plus reading the MCP body.
#
# Method: wrk, THREADS threads and CONNECTIONS connections. A warm-up per host: WARMUP-second runs for at least
# WARMUP_MIN seconds, then until the CPU per request of the last three runs is within WARMUP_TOLERANCE, at most
# WARMUP_MAX seconds (on a busy 2-core machine a fresh host needs about 20 s of load to reach its steady CPU per
# request). Then ROUNDS rounds of DURATION seconds, alternating the hosts in each round so that machine drift hits all
# of them. For every run the server process's CPU time (utime+stime of /proc/<pid>/stat, in clock ticks) is read
# before and after and divided by the requests wrk reports as served: CPU µs per request. Each run also shows the CPU
# that wrk and all other processes used (from `times` and /proc/stat), so a run disturbed by other work on the machine
# can be told apart. Refuses to report when a host answered non-2xx, had socket errors or served nothing, when (b)/(c)
# accept a forged token, or when (b2) answers without having made a TokenReview.
#
# Prints a table per scenario (means over the rounds), then
#   ratios: b/a=… b/c=… b/d=…          (throughput, req/s)
#   overhead_us: b=… c=…               (CPU µs per request minus host (a)'s)
#   tokenreview ratios: b/a=…
#   tokenreview overhead_us: b=…
# Exit code 0 only when everything ran. Every process the script starts is stopped on exit.
#
# Environment (defaults): DURATION (8) ROUNDS (3) WARMUP (5) WARMUP_MIN (15) WARMUP_MAX (60)
# WARMUP_TOLERANCE (0.15) THREADS (1) CONNECTIONS (16) SCENARIOS ("oidc tokenreview")
# ports PA PB PC PD PB2 PK (18180..18185), NO_BUILD=1 to skip the build. Positional arguments override DURATION, ROUNDS.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-${DURATION:-8}}
ROUNDS=${2:-${ROUNDS:-3}}
WARMUP=${WARMUP:-5}
WARMUP_MIN=${WARMUP_MIN:-15}
WARMUP_MAX=${WARMUP_MAX:-60}
WARMUP_TOLERANCE=${WARMUP_TOLERANCE:-0.15}
THREADS=${THREADS:-1}
CONNECTIONS=${CONNECTIONS:-16}
SCENARIOS=${SCENARIOS:-oidc tokenreview}
PA=${PA:-18180}; PB=${PB:-18181}; PC=${PC:-18182}; PD=${PD:-18183}; PB2=${PB2:-18184}; PK=${PK:-18185}
HOST_DLL=src/Host/bin/Release/net10.0/McpAuth.Host.dll
BENCH_DLL=bench/McpAuth.Benchmarks/bin/Release/net10.0/McpAuth.Benchmarks.dll
SERVER_TOKEN=bench-server-sa-token   # what the fake API server expects from McpAuth (kubeconfig user token)
CLK_TCK=$(getconf CLK_TCK)
[ "$(printf '%s\n' "$PA" "$PB" "$PC" "$PD" "$PB2" "$PK" | sort -u | wc -l)" = 6 ] || { echo "load.sh: PA PB PC PD PB2 PK must differ" >&2; exit 1; }

fail() { echo "load.sh: $*" >&2; exit 1; }

logs=$(mktemp -d)
declare -A PID=()        # host -> pid of its server process
pids=()                  # every process started, in order
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  if [ "$rc" -ne 0 ] && [ -d "$logs" ]; then
    for f in "$logs"/*.log; do [ -s "$f" ] && { echo "--- $f (last 30 lines)" >&2; tail -n 30 "$f" >&2; }; done
  fi
  rm -rf "$logs"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } || fail "wrk is not installed and apt-get could not install it"
command -v curl >/dev/null || fail "curl is needed"
if [ "${NO_BUILD:-0}" != 1 ]; then
  dotnet build -c Release -v q -nologo bench/McpAuth.Benchmarks/McpAuth.Benchmarks.csproj >"$logs/build.log" 2>&1 \
    || { tail -n 40 "$logs/build.log" >&2; fail "build failed"; }
fi
[ -f "$HOST_DLL" ] && [ -f "$BENCH_DLL" ] || fail "missing $HOST_DLL or $BENCH_DLL"
export Logging__LogLevel__Default=Warning DOTNET_gcServer=0

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# start NAME PORT CMD...: runs CMD in the background as host NAME (its own process: `dotnet x.dll` is one process).
start() {
  local name=$1 port=$2; shift 2
  port_busy "$port" && fail "port $port (host $name) is already in use; set P* to free ports"
  "$@" >"$logs/$name.log" 2>&1 &
  PID[$name]=$!; pids+=($!)
}
# stop NAME: ends that host and forgets its pid (so the exit trap never signals a reused pid).
stop() {
  local p=${PID[$1]} q rest=()
  kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true
  for q in "${pids[@]}"; do [ "$q" = "$p" ] || rest+=("$q"); done
  pids=("${rest[@]}")
}
alive() { kill -0 "${PID[$1]}" 2>/dev/null || fail "host $1 exited: $(tail -n 5 "$logs/$1.log")"; }
# Server process CPU time in clock ticks: utime + stime (fields 14 and 15; counted after the "(comm)" field).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# Whole machine, in clock ticks: "busy total" from the cpu line of /proc/stat (user..steal; guest time is already in
# user; idle and iowait are not busy).
machine_ticks() { awk '$1=="cpu" { t=0; for (i=2;i<=9 && i<=NF;i++) t+=$i; print t-$5-$6, t; exit }' /proc/stat; }

TOOLS_CALL='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'
TOOLS_LIST='{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'
# post PORT TOKEN BODY -> HTTP status
post() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$1/mcp" -H "Authorization: Bearer $2" \
  -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d "$3" || true; }
# wait_200 NAME PORT TOKEN BODY
wait_200() {
  for _ in $(seq 1 150); do alive "$1"; [ "$(post "$2" "$3" "$4")" = 200 ] && return 0; sleep 0.2; done
  fail "host $1 (port $2) does not answer 200: $(post "$2" "$3" "$4")"
}

to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.3f", v/1000; else if (v ~ /ms$/) printf "%.3f", v+0; else if (v ~ /s$/) printf "%.3f", v*1000; else print v }'; }
mean() { awk '{ s=0; for (i=1;i<=NF;i++) s+=$i; printf "%.2f", s/NF }' <<<"$1"; }
div() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", x/y }'; }
sub_() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.1f", x-y }'; }

declare -A RPS P50 P99 CPU PORT SCRIPT TOK
OTHER=""
# run HOST SECONDS [record]: one wrk run against HOST; with "record", checks and stores req/s, p50, p99, CPU µs/request.
run() {
  local h=$1 secs=$2 out t0 t1 m0 m1 n rps p50 p99 cpu wrk_ticks other
  alive "$h"
  m0=$(machine_ticks); t0=$(cpu_ticks "${PID[$h]}")
  # `times` after wrk, in the same subshell: its last line is the CPU time of that subshell's children, i.e. wrk's.
  out=$(TOKEN=${TOK[$h]} wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --latency -s "${SCRIPT[$h]}" "http://127.0.0.1:${PORT[$h]}/mcp"; times)
  t1=$(cpu_ticks "${PID[$h]}"); m1=$(machine_ticks)
  if grep -q 'Non-2xx' <<<"$out"; then echo "$out"; fail "host $h answered non-2xx under load"; fi
  if grep -q 'Socket errors' <<<"$out"; then echo "$out"; fail "host $h had socket errors under load"; fi
  n=$(awk '/requests in/ { print $1 }' <<<"$out")
  [ -n "$n" ] && [ "$n" -gt 0 ] || { echo "$out"; fail "host $h served no request"; }
  rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
  cpu=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')
  LAST_CPU=$cpu; LAST_RPS=$rps
  [ "${3:-}" = record ] || return 0
  p50=$(to_ms "$(awk '$1=="50%" { print $2 }' <<<"$out")")
  p99=$(to_ms "$(awk '$1=="99%" { print $2 }' <<<"$out")")
  wrk_ticks=$(tail -n 1 <<<"$out" | awk -v hz="$CLK_TCK" '{ s=0; for (i=1;i<=2;i++) { split($i, a, /[ms]/); s+=a[1]*60+a[2] } printf "%d", s*hz }')
  # CPU used by every other process on the machine during the run, in % of the machine (0: a quiet machine).
  other=$(awk -v b0="${m0% *}" -v T0="${m0#* }" -v b1="${m1% *}" -v T1="${m1#* }" -v srv=$((t1 - t0)) -v w="$wrk_ticks" \
    'BEGIN { v = (b1 - b0 - srv - w) / (T1 - T0) * 100; if (v < 0) v = 0; printf "%.0f", v }')
  printf '  round %s host %-3s %10s req/s  p50 %7s ms  p99 %7s ms  %7s CPU us/req  (%s requests, server %s ticks, wrk %s ticks, others %s%%)\n' \
    "$r" "$h" "$rps" "$p50" "$p99" "$cpu" "$n" $((t1 - t0)) "$wrk_ticks" "$other"
  RPS[$h]+="$rps "; P50[$h]+="$p50 "; P99[$h]+="$p99 "; CPU[$h]+="$cpu "; OTHER+="$other "
}
# warm HOST: WARMUP-second runs, at least WARMUP_MIN seconds and then until the CPU per request of the last three runs
# is within WARMUP_TOLERANCE (largest/smallest - 1): JIT tiering, thread-pool ramp-up and GC tuning have settled, and a
# plateau of two runs halfway through tiering does not pass. WARMUP_MAX seconds at most.
warm() {
  local h=$1 spent=0 trail="" settled=no
  while :; do
    run "$h" "$WARMUP"
    spent=$((spent + WARMUP)); trail+="${LAST_CPU} "
    if [ "$spent" -ge "$WARMUP_MIN" ] && awk -v t="$WARMUP_TOLERANCE" '{ if (NF < 3) exit 1; lo = hi = $NF
        for (i = NF - 2; i < NF; i++) { if ($i < lo) lo = $i; if ($i > hi) hi = $i }
        exit !(hi / lo - 1 <= t) }' <<<"$trail"; then
      settled=yes; break
    fi
    [ "$spent" -ge "$WARMUP_MAX" ] && break
  done
  printf '  warm-up host %-3s %3s s, CPU us/req per %s s run: %s(settled: %s)\n' "$h" "$spent" "$WARMUP" "$trail" "$settled"
}
# measure HOST...: warm-up per host, then ROUNDS rounds alternating the hosts.
measure() {
  local h
  echo "warm-up per host: ${WARMUP} s runs until CPU us/req of the last 3 is stable within $(awk -v t="$WARMUP_TOLERANCE" 'BEGIN { print t * 100 }')% (at least ${WARMUP_MIN} s, at most ${WARMUP_MAX} s)"
  OTHER=""
  for h in "$@"; do RPS[$h]=""; P50[$h]=""; P99[$h]=""; CPU[$h]=""; warm "$h"; done
  for r in $(seq 1 "$ROUNDS"); do
    for h in "$@"; do run "$h" "$DURATION" record; done
  done
}
# table TITLE HOST=NAME...
table() {
  local title=$1 h name; shift
  echo
  printf '%-44s %10s %8s %8s %12s\n' "$title" "req/s" "p50 ms" "p99 ms" "CPU us/req"
  for pair in "$@"; do
    h=${pair%%=*}; name=${pair#*=}
    printf '%-44s %10s %8s %8s %12s\n' "$name" "$(mean "${RPS[$h]}")" "$(mean "${P50[$h]}")" "$(mean "${P99[$h]}")" "$(mean "${CPU[$h]}")"
  done
  echo "(other processes used $(mean "$OTHER")% of the machine's CPU on average during these runs, at most $(tr ' ' '\n' <<<"$OTHER" | sort -n | tail -n 1)%)"
}

echo "load.sh: wrk ${THREADS} thread(s), ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION} s per host, warm-up ${WARMUP} s runs for ${WARMUP_MIN}..${WARMUP_MAX} s; CLK_TCK=${CLK_TCK}; $(nproc) cores; $(wrk --version 2>&1 | head -n 1 | cut -d' ' -f1-2); load average $(cut -d' ' -f1-3 /proc/loadavg)"

# Host (a) serves both scenarios.
start a "$PA" dotnet "$HOST_DLL" --port "$PA"
PORT[a]=$PA

for scenario in $SCENARIOS; do
  case $scenario in
  oidc)
    echo
    echo "== scenario 1: OIDC (tools/call whoami, the same token on every request)"
    start b "$PB" dotnet "$HOST_DLL" --port "$PB" --demo
    for _ in $(seq 1 150); do alive b; grep -qs '^TOKEN=' "$logs/b.log" && break; sleep 0.2; done
    TOKEN=$(sed -n 's/^TOKEN=//p' "$logs/b.log")
    [ -n "$TOKEN" ] || fail "host (b) printed no token"
    start c "$PC" dotnet "$BENCH_DLL" jwtbearer-host "$PC" "http://127.0.0.1:$PB/demo-issuer" "http://127.0.0.1:$PB/mcp"
    start d "$PD" dotnet "$BENCH_DLL" noop-auth-host "$PD"
    PORT[b]=$PB; PORT[c]=$PC; PORT[d]=$PD
    for h in a b c d; do SCRIPT[$h]=bench/whoami.lua; TOK[$h]=$TOKEN; wait_200 "$h" "${PORT[$h]}" "$TOKEN" "$TOOLS_CALL"; done
    # A wrong token must be refused by (b) and (c): the comparison is between hosts that really check.
    for h in b c; do
      code=$(post "${PORT[$h]}" "${TOKEN}x" "$TOOLS_CALL")
      [ "$code" = 401 ] || fail "host $h accepted a forged token ($code)"
    done
    measure a b c d
    table "host (${CONNECTIONS} connections, ${THREADS} thread)" \
      "a=(a) no authentication" "b=(b) McpAuth, OIDC mode" "c=(c) ASP.NET Core JwtBearer" "d=(d) no-op ASP.NET Core auth handler"
    ra=$(mean "${RPS[a]}"); rb=$(mean "${RPS[b]}"); rc=$(mean "${RPS[c]}"); rd=$(mean "${RPS[d]}")
    ca=$(mean "${CPU[a]}"); cb=$(mean "${CPU[b]}"); cc=$(mean "${CPU[c]}"); cd=$(mean "${CPU[d]}")
    echo "ratios: b/a=$(div "$rb" "$ra") b/c=$(div "$rb" "$rc") b/d=$(div "$rb" "$rd")"
    echo "overhead_us: b=$(sub_ "$cb" "$ca") c=$(sub_ "$cc" "$ca")"
    echo "  (for the targets: d overhead $(sub_ "$cd" "$ca") us, b - d = $(sub_ "$cb" "$cd") us CPU per request)"
    for h in b c d; do stop "$h"; done
    ;;
  tokenreview)
    echo
    echo "== scenario 2: TokenReview (tools/list, McpAuth --validate-token against a fake API server, review cached)"
    start k "$PK" dotnet "$BENCH_DLL" fake-apiserver "$PK" "$SERVER_TOKEN"
    cat >"$logs/kubeconfig" <<EOF
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
    for _ in $(seq 1 150); do alive k; [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PK/version/" || true)" = 200 ] && break; sleep 0.2; done
    start b2 "$PB2" dotnet "$HOST_DLL" --port "$PB2" --require-oauth --validate-token --kubeconfig "$logs/kubeconfig"
    PORT[b2]=$PB2
    # No issuer in this mode: any well-formed JWT (the fake authenticates every token). Unsigned, valid for 2 hours.
    b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
    now=$(date +%s)
    JWT="$(printf '{"alg":"RS256","typ":"JWT"}' | b64url).$(printf '{"iss":"bench","sub":"alice","iat":%d,"nbf":%d,"exp":%d}' \
      "$now" "$now" $((now + 7200)) | b64url).$(printf 'not-verified-here' | b64url)"
    for h in a b2; do SCRIPT[$h]=bench/tools_list.lua; TOK[$h]=$JWT; wait_200 "$h" "${PORT[$h]}" "$JWT" "$TOOLS_LIST"; done
    code=$(post "$PB2" "x${JWT}" "$TOOLS_LIST")
    [ "$code" = 401 ] || fail "host b2 accepted a malformed token ($code)"
    reviews=$(curl -s "http://127.0.0.1:$PK/_bench/reviews")
    [ "${reviews:-0}" -ge 1 ] || fail "host b2 answered 200 but made no TokenReview: --validate-token is not in effect"
    measure a b2
    table "host (${CONNECTIONS} connections, ${THREADS} thread), tools/list" \
      "a=(a) no authentication" "b2=(b2) McpAuth, TokenReview (cached)"
    ra=$(mean "${RPS[a]}"); rb=$(mean "${RPS[b2]}"); ca=$(mean "${CPU[a]}"); cb=$(mean "${CPU[b2]}")
    echo "tokenreview ratios: b/a=$(div "$rb" "$ra")"
    echo "tokenreview overhead_us: b=$(sub_ "$cb" "$ca")"
    echo "  (TokenReviews served by the fake API server during the whole scenario: $(curl -s "http://127.0.0.1:$PK/_bench/reviews"))"
    for h in b2 k; do stop "$h"; done
    ;;
  *) fail "unknown scenario '$scenario' (oidc, tokenreview)";;
  esac
done
echo
echo "load.sh: done; load average $(cut -d' ' -f1-3 /proc/loadavg)"
exit 0
