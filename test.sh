#!/usr/bin/env bash
# Runs every Flare test, on each database Flare supports: the whole suite on SQLite, and the suite again on PostgreSQL
# (FLARE_TEST_PROVIDER=sqlite|postgres picks one of the two passes; unset, both run). What it needs it installs the way a
# user would on Debian: the local dotnet tools (dotnet-ef) and, when missing, Debian's chromium for the browser tests and
# Debian's postgresql, a throwaway cluster of which (on a loopback port, created and removed here) holds the PostgreSQL
# pass's databases and the multi-host tests'. Arguments go to the test runner, on both passes.
set -euo pipefail
cd "$(dirname "$0")"

passes="${FLARE_TEST_PROVIDER:-sqlite postgres}"
case "$passes" in
  "sqlite postgres" | sqlite | postgres) ;;
  *) echo "test.sh: FLARE_TEST_PROVIDER=$passes: use sqlite or postgres, or leave it unset for both passes" >&2; exit 2 ;;
esac

if ! command -v chromium >/dev/null 2>&1; then
  echo "test.sh: installing Debian's chromium for the browser tests"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "test.sh: installing Debian's postgresql for the PostgreSQL pass and the multi-host tests"
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
  rm -rf "$pgdir" "${logs:-}"
}
trap cleanup EXIT
as_pg "$pgbin/initdb" -D "$pgdir/data" -U flare -A trust -E UTF8 >/dev/null
as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w \
  -o "-p $pgport -c listen_addresses=127.0.0.1 -k $pgdir -c max_connections=300 -c fsync=off" start >/dev/null
export FLARE_TEST_POSTGRES="Host=127.0.0.1;Port=$pgport;Username=flare;Database=postgres"
echo "test.sh: PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pgport"

dotnet tool restore >/dev/null
dotnet build Flare.sln -nologo -v quiet

# The committed migrations must describe the current model exactly.
dotnet ef migrations has-pending-model-changes --project migrations/Sqlite --startup-project Flare.Web --no-build
dotnet ef migrations has-pending-model-changes --project migrations/Postgres --startup-project Flare.Web --no-build -- --provider postgres

# One pass: the suite with FLARE_TEST_PROVIDER=$1, its output kept in $logs/$1.log, its exit status and seconds beside it.
logs="$(mktemp -d)"
run_pass() {
  local provider=$1 start=$SECONDS status=0
  shift
  FLARE_TEST_PROVIDER=$provider dotnet test --project Flare.Tests --no-build "$@" >"$logs/$provider.log" 2>&1 || status=$?
  echo "$status" >"$logs/$provider.status"
  echo $((SECONDS - start)) >"$logs/$provider.seconds"
}

# Both passes run at the same time: each runs its host tests one at a time (HostCollection), mostly waiting on real
# servers, so one pass leaves much of a two-core machine idle and two fill it; the script then takes about as long as its
# longer pass instead of the sum of both (which would not fit in CI's fifteen minutes). They share nothing: each test has
# its own data folder and database, Hangfire's global state is per process, and each pass writes its artifacts under a
# folder of its own.
#
# With both passes, the PostgreSQL one leaves out what it would only run again: the tests of the core and of the emulator
# (namespaces Flare.Tests.Routing and Flare.Tests.Emulator, TestProvider.DatabaseFreeNamespaces: no database, and any
# test there that asks TestProvider for one fails on either pass), and the multi-host tests, which always run on
# PostgreSQL. Exit code 8 (no test left after the filters) is then not a failure of that pass.
pids=()
for provider in $passes; do
  args=("$@")
  if [ "$provider" = postgres ] && [ "$passes" != postgres ]; then
    args+=(--filter-not-namespace 'Flare.Tests.Routing*' --filter-not-namespace 'Flare.Tests.Emulator*'
           --filter-not-class Flare.Tests.Web.Hosting.MultiHostTests --ignore-exit-code 8)
  fi
  touch "$logs/$provider.log"
  run_pass "$provider" "${args[@]}" &
  pids+=($!)
  tail -n +1 -f --pid=$! "$logs/$provider.log" | sed -u "s/^/[$provider] /" &
done
wait "${pids[@]}"
wait

status=0
for provider in $passes; do
  log="$logs/$provider.log"
  passed=$(awk '/^  succeeded:/ {print $2}' "$log" | tail -1)
  failed=$(awk '/^  failed:/ {print $2}' "$log" | tail -1)
  skipped=$(awk '/^  skipped:/ {print $2}' "$log" | tail -1)
  seconds=$(cat "$logs/$provider.seconds")
  echo "tests ($provider): ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped in $((seconds / 60))m $((seconds % 60))s"
  pass_status=$(cat "$logs/$provider.status")
  if [ "$pass_status" -ne 0 ]; then status=$pass_status; fi
done
exit $status
