#!/usr/bin/env bash
# Runs every Flare test. What it needs it installs the way a user would on Debian:
# the local dotnet tools (dotnet-ef) and, when missing, Debian's chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v chromium >/dev/null 2>&1; then
  echo "test.sh: installing Debian's chromium for the browser tests"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

dotnet tool restore >/dev/null
dotnet build Flare.sln -nologo -v quiet

# The committed migrations must describe the current model exactly.
dotnet ef migrations has-pending-model-changes --project migrations/Sqlite --startup-project Flare.Web --no-build

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
dotnet test --project Flare.Tests --no-build "$@" 2>&1 | tee "$log" || status=$?

passed=$(awk '/^  succeeded:/ {print $2}' "$log" | tail -1)
failed=$(awk '/^  failed:/ {print $2}' "$log" | tail -1)
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
exit $status
