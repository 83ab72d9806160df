#!/usr/bin/env bash
# HTTP load comparison, one command:  bash bench/load.sh [seconds-per-run] [rounds]
# Starts three hosts serving the same MCP endpoint and whoami tool on loopback:
#   (a) no authentication, (b) McpAuth in OIDC mode (--demo issuer), (c) ASP.NET Core JwtBearer, same issuer/audience.
# Drives each with wrk (same token, same JSON-RPC POST), alternating a, b, c in rounds so machine drift hits all three,
# and prints requests/s, p50 and p99 per host, then one line:  ratios: b/a=… b/c=…
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
ROUNDS=${2:-3}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
PA=${PA:-18180}; PB=${PB:-18181}; PC=${PC:-18182}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
dotnet build -c Release -v q -nologo bench/McpAuth.Benchmarks/McpAuth.Benchmarks.csproj >/dev/null
HOST_DLL=src/Host/bin/Release/net10.0/McpAuth.Host.dll
BENCH_DLL=bench/McpAuth.Benchmarks/bin/Release/net10.0/McpAuth.Benchmarks.dll
logs=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
export Logging__LogLevel__Default=Warning DOTNET_gcServer=0

dotnet "$HOST_DLL" --port "$PA" >"$logs/a.log" 2>&1 & pids+=($!)
dotnet "$HOST_DLL" --port "$PB" --demo >"$logs/b.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do grep -q '^TOKEN=' "$logs/b.log" && break; sleep 0.2; done
TOKEN=$(sed -n 's/^TOKEN=//p' "$logs/b.log")
[ -n "$TOKEN" ] || { echo "host (b) printed no token"; cat "$logs/b.log"; exit 1; }
dotnet "$BENCH_DLL" jwtbearer-host "$PC" "http://127.0.0.1:$PB/demo-issuer" "http://127.0.0.1:$PB/mcp" >"$logs/c.log" 2>&1 & pids+=($!)

call() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/mcp" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
  -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'; }
for port in "$PA" "$PB" "$PC"; do
  for _ in $(seq 1 100); do [ "$(call "$port")" = 200 ] && break; sleep 0.2; done
  [ "$(call "$port")" = 200 ] || { echo "host on $port does not answer 200"; cat "$logs"/*.log; exit 1; }
done
# A wrong token must be refused by (b) and (c): the comparison is between hosts that really check.
for port in "$PB" "$PC"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/mcp" -H "Authorization: Bearer ${TOKEN}x" -H 'Content-Type: application/json' -d '{}')
  [ "$code" = 401 ] || { echo "host on $port accepted a forged token ($code)"; exit 1; }
done

to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.3f", v/1000; else if (v ~ /ms$/) printf "%.3f", v+0; else if (v ~ /s$/) printf "%.3f", v*1000; else print v }'; }
declare -A RPS P50 P99
for h in a b c; do RPS[$h]=""; P50[$h]=""; P99[$h]=""; done
port_of() { case $1 in a) echo "$PA";; b) echo "$PB";; c) echo "$PC";; esac; }

echo "warm-up: 3 s per host"
for h in a b c; do TOKEN=$TOKEN wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s bench/whoami.lua "http://127.0.0.1:$(port_of $h)/mcp" >/dev/null; done
for r in $(seq 1 "$ROUNDS"); do
  for h in a b c; do
    out=$(TOKEN=$TOKEN wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/whoami.lua "http://127.0.0.1:$(port_of $h)/mcp")
    if grep -q 'Non-2xx' <<<"$out"; then echo "host $h answered non-2xx under load:"; echo "$out"; exit 1; fi
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    p50=$(to_ms "$(awk '$1=="50%" {print $2}' <<<"$out")")
    p99=$(to_ms "$(awk '$1=="99%" {print $2}' <<<"$out")")
    echo "round $r host $h: $rps req/s, p50 $p50 ms, p99 $p99 ms"
    RPS[$h]+="$rps "; P50[$h]+="$p50 "; P99[$h]+="$p99 "
  done
done

mean() { awk '{ s=0; for (i=1;i<=NF;i++) s+=$i; printf "%.2f", s/NF }' <<<"$1"; }
echo
printf '%-34s %12s %10s %10s\n' "host (${CONNECTIONS} connections, ${THREADS} threads)" "req/s" "p50 ms" "p99 ms"
for h in a b c; do
  case $h in a) name="(a) no authentication";; b) name="(b) McpAuth, OIDC mode";; c) name="(c) ASP.NET Core JwtBearer";; esac
  printf '%-34s %12s %10s %10s\n' "$name" "$(mean "${RPS[$h]}")" "$(mean "${P50[$h]}")" "$(mean "${P99[$h]}")"
done
ra=$(mean "${RPS[a]}"); rb=$(mean "${RPS[b]}"); rc=$(mean "${RPS[c]}")
echo "ratios: b/a=$(awk -v b="$rb" -v a="$ra" 'BEGIN{printf "%.2f", b/a}') b/c=$(awk -v b="$rb" -v c="$rc" 'BEGIN{printf "%.2f", b/c}')"
