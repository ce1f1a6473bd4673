#!/usr/bin/env bash
# Runs every Flare test. What it needs it installs the way a user would on Debian:
# the local dotnet tools (dotnet-ef) and, when missing, Debian's chromium for the browser tests and
# Debian's postgresql for the multi-host tests, which run against a throwaway cluster on a loopback port
# that this script creates and removes.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v chromium >/dev/null 2>&1; then
  echo "test.sh: installing Debian's chromium for the browser tests"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "test.sh: installing Debian's postgresql for the multi-host tests"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

# A throwaway PostgreSQL cluster: its own folder, a free loopback port, trust authentication for a
# "flare" superuser, no other listener; stopped and deleted on exit. (PostgreSQL refuses to run as root:
# as root the cluster belongs to the postgres user the package created.)
pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
pgdir="$(mktemp -d)"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$pgdir"
pgport=$((20000 + RANDOM % 40000))
while (echo >"/dev/tcp/127.0.0.1/$pgport") 2>/dev/null; do pgport=$((20000 + RANDOM % 40000)); done
cleanup() {
  as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pgdir" "${log:-}"
}
trap cleanup EXIT
as_pg "$pgbin/initdb" -D "$pgdir/data" -U flare -A trust -E UTF8 >/dev/null
as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w \
  -o "-p $pgport -c listen_addresses=127.0.0.1 -k $pgdir -c max_connections=300 -c fsync=off" start >/dev/null
export FLARE_TEST_POSTGRES="Host=127.0.0.1;Port=$pgport;Username=flare;Database=postgres"
echo "test.sh: PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') for the multi-host tests on 127.0.0.1:$pgport"

dotnet tool restore >/dev/null
dotnet build Flare.sln -nologo -v quiet

# The committed migrations must describe the current model exactly.
dotnet ef migrations has-pending-model-changes --project migrations/Sqlite --startup-project Flare.Web --no-build
dotnet ef migrations has-pending-model-changes --project migrations/Postgres --startup-project Flare.Web --no-build -- --provider postgres

log="$(mktemp)"
status=0
dotnet test --project Flare.Tests --no-build "$@" 2>&1 | tee "$log" || status=$?

passed=$(awk '/^  succeeded:/ {print $2}' "$log" | tail -1)
failed=$(awk '/^  failed:/ {print $2}' "$log" | tail -1)
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
exit $status
