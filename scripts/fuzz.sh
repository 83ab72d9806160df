#!/usr/bin/env bash
# Runs only the property tests (trait Category=Property: tests/Core.Tests/Properties and
# tests/Adapters/AspNetCore.Tests/Properties) in fuzz mode: every property runs N cases (default 100000), except the
# issuer-signature properties, which sign with RSA and run N/10. Prints each property's case count and time, and exits
# non-zero when a property fails (its shrunk counterexample is in the dotnet test output above the summary).
#
#   scripts/fuzz.sh [N]
#
# Replay a failure with the seed FsCheck printed: MCPAUTH_FUZZ_REPLAY="seed,gamma" scripts/fuzz.sh N
set -uo pipefail

cases="${1:-100000}"
if ! [[ "$cases" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [cases per property, default 100000]" >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
export MCPAUTH_FUZZ_CASES="$cases" MCPAUTH_FUZZ_REPORT="$report"

projects=(tests/Core.Tests/McpAuth.Core.Tests.csproj tests/Adapters/AspNetCore.Tests/McpAuth.AspNetCore.Tests.csproj)
status=0
start=$SECONDS
for project in "${projects[@]}"; do
  echo "== $project: building"
  if ! dotnet build "$root/$project" --nologo -v quiet -nodeReuse:false; then
    echo "FAILED to build $project" >&2
    status=1
    continue
  fi

  echo "== $project: properties, $cases cases each"
  project_start=$SECONDS
  if ! dotnet test "$root/$project" --no-build --nologo --filter "Category=Property"; then
    status=1
  fi
  echo "== $project: $((SECONDS - project_start)) s"
done

echo
echo "== Properties (MCPAUTH_FUZZ_CASES=$cases)"
if [[ -s "$report" ]]; then
  cat "$report"
else
  echo "no property reported (did the tests run?)"
  status=1
fi

failed=$(grep -c '(FAILED\|(EXHAUSTED' "$report" || true)
echo
echo "== $(grep -c '^PROPERTY' "$report" || true) properties, ${failed} failed, $((SECONDS - start)) s in all"
exit "$status"
