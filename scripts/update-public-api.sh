#!/usr/bin/env bash
# Records the current public API of every package in its PublicAPI.Unshipped.txt (RS0016/RS0017 code fixes).
# Run it after a deliberate public API change, then review the diff: the analyzer fails the build for any API change
# that is not recorded. At a release, move the Unshipped lines to PublicAPI.Shipped.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
for project in src/Core/McpAuth.Core.csproj src/Adapters/*/McpAuth.*.csproj; do
  # Unshipped is rebuilt from the code: what is public now and not in Shipped.
  printf '#nullable enable\n' > "$(dirname "$project")/PublicAPI.Unshipped.txt"
  dotnet format analyzers "$project" --diagnostics RS0016 --severity info >/dev/null
done
git --no-pager diff --stat -- 'src/**/PublicAPI.*.txt' || true
