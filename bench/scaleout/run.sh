#!/usr/bin/env bash
# Scale-out benchmark (issue 10, acceptance 3): requests/s of one Flare host and of two Flare hosts sharing one
# PostgreSQL database, in front of the same emulated fleet, at the same concurrency — 64 connections, closed loop, small
# non-streaming chat completions (16 output tokens) — with the emulator directly as the baseline, in the same run.
#
# How to reproduce: from a checkout, `bench/scaleout/run.sh` (about 3 minutes; options are passed to the generator,
# e.g. `--seconds 20 --rounds 5`). It builds Release and starts, all on 127.0.0.1:
#   - a throwaway PostgreSQL cluster (Debian's postgresql, installed if missing; as ./test.sh does), removed on exit;
#   - one Flare.Emulator process serving 4 backends of llama-3-8b@h100x1 at time scale 100 (SCALEOUT_TIME_SCALE), so a
#     request's emulated GPU time is a few milliseconds and the fleet is not what limits the figure;
#   - two Flare processes on that database (started at the same moment), request log on, as deployed;
#   - bench/gateway/GatewayBench (`scaleout`), which registers the 4 backends through the first host, then sends phases
#     of closed-loop load to the emulator directly, to the first host only, and spread evenly over both hosts (worker w
#     to host w mod 2, as a balancer with one connection per client), interleaved and rotated each round.
# It prints a Markdown table (req/s, × one host, latency, CPU seconds per process group) and the machine's load.
# Two hosts can only reach 1.8× one host where one host is the limit: give every process its own cores (≥ 8 cores, or
# SCALEOUT_PIN=1 on ≥ 6: host A on CPU 0-1, host B on 2-3, the rest on 4-...). On a 2-core machine everything shares
# the same two cores and the table says so.
set -euo pipefail
cd "$(dirname "$0")/../.."
EMU_PORT="${SCALEOUT_EMULATOR_PORT:-5621}"
A_PORT="${SCALEOUT_FLARE_PORT:-5622}"
B_PORT="$((A_PORT + 1))"
TIME_SCALE="${SCALEOUT_TIME_SCALE:-100}"
KEY="sk-flare-bench-0123456789abcdef0123456789"
ADMIN="flare-bench-admin-$(date +%s%N)"
WORK="$(mktemp -d /tmp/flare-scaleout-bench.XXXXXX)"
PIN_A=() PIN_B=() PIN_REST=()
if [ "${SCALEOUT_PIN:-0}" = 1 ]; then
  [ "$(nproc)" -ge 6 ] || { echo "run.sh: SCALEOUT_PIN=1 needs at least 6 cores (this machine has $(nproc))" >&2; exit 2; }
  PIN_A=(taskset -c 0-1) PIN_B=(taskset -c 2-3) PIN_REST=(taskset -c "4-$(($(nproc) - 1))")
fi

for project in Flare.Web Flare.Emulator bench/gateway/GatewayBench; do
  dotnet build "$project" -c Release -v q -nologo >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
done
BENCH=bench/gateway/GatewayBench/bin/Release/net10.0/GatewayBench

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "run.sh: installing Debian's postgresql"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

# The throwaway cluster: its own folder and loopback port, trust authentication for a "flare" superuser, PostgreSQL's
# defaults otherwise (fsync on). PostgreSQL refuses to run as root: as root the cluster belongs to the postgres user.
pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$WORK"
pgport=$((20000 + RANDOM % 40000))
while (echo >"/dev/tcp/127.0.0.1/$pgport") 2>/dev/null; do pgport=$((20000 + RANDOM % 40000)); done
PIDS=()
cleanup() {
  # Flare writes its last request log batch as it stops: PostgreSQL goes after it.
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  as_pg "$pgbin/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$WORK/pg"
}
trap cleanup EXIT
as_pg "$pgbin/initdb" -D "$WORK/pg" -U flare -A trust -E UTF8 >/dev/null
as_pg "${PIN_REST[@]}" "$pgbin/pg_ctl" -D "$WORK/pg" -l "$WORK/postgres.log" -w \
  -o "-p $pgport -c listen_addresses=127.0.0.1 -k $WORK -c max_connections=300" start >/dev/null
PG_PID="$(head -1 "$WORK/pg/postmaster.pid")"
DB="Host=127.0.0.1;Port=$pgport;Username=flare;Database=flare"

"${PIN_REST[@]}" Flare.Emulator/bin/Release/net10.0/Flare.Emulator --urls "http://127.0.0.1:$EMU_PORT" --time-scale "$TIME_SCALE" \
  --backend b1=llama-3-8b@h100x1 --backend b2=llama-3-8b@h100x1 --backend b3=llama-3-8b@h100x1 --backend b4=llama-3-8b@h100x1 \
  >"$WORK/emulator.log" 2>&1 &
EMU_PID=$!
PIDS+=($EMU_PID)
start_flare() { # port, pin...
  local port=$1; shift
  "$@" dotnet Flare.Web/bin/Release/net10.0/Flare.Web.dll --urls "http://127.0.0.1:$port" --Flare:DataDirectory="$WORK/data-$port" \
    --Flare:Database=Postgres --ConnectionStrings:Flare="$DB" --Flare:Demo=false --Flare:HostEmulator=false \
    --Flare:DemoTrafficPerSecond=0 --Flare:BootstrapApiKey="$KEY" --Flare:AdminToken="$ADMIN" >"$WORK/flare-$port.log" 2>&1 &
  PIDS+=($!)
}
start_flare "$A_PORT" "${PIN_A[@]}"
A_PID=$!
start_flare "$B_PORT" "${PIN_B[@]}"
B_PID=$!
for port in "$EMU_PORT" "$A_PORT" "$B_PORT"; do
  path=/v1/models; [ "$port" = "$EMU_PORT" ] && path=/b1/health
  for _ in $(seq 1 150); do curl -s -o /dev/null -f "http://127.0.0.1:$port$path" -H "Authorization: Bearer $KEY" && break; sleep 0.2; done
done

echo "# Scale-out benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), .NET $(dotnet --version), PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'), commit $(git rev-parse --short HEAD), pinned: ${SCALEOUT_PIN:-0}"
echo
echo "Fleet: one Flare.Emulator process, 4 backends of llama-3-8b@h100x1 at time scale $TIME_SCALE. Flare: 2 processes on one PostgreSQL database, request log on."
echo
"${PIN_REST[@]}" "$BENCH" scaleout --key "$KEY" --admin-token "$ADMIN" --emulator "http://127.0.0.1:$EMU_PORT" --emulator-pid "$EMU_PID" \
  --postgres-pid "$PG_PID" --backend b1 --backend b2 --backend b3 --backend b4 \
  --flare "host A=http://127.0.0.1:$A_PORT,$A_PID" --flare "host B=http://127.0.0.1:$B_PORT,$B_PID" "$@"
echo
# The request log is written off the request path, in batches: how far it trailed the load, and how long it took to catch up.
rows() { as_pg "$pgbin/psql" -h "$WORK" -p "$pgport" -U flare -d flare -Atc 'select count(*) from "RequestLog"' 2>/dev/null || echo '?'; }
at_end="$(rows)"; waited=0; last=""; now="$at_end"
while [ "$now" != "$last" ] && [ "$waited" -lt 120 ]; do sleep 2; waited=$((waited + 2)); last="$now"; now="$(rows)"; done
echo "Request log rows: $at_end when the load stopped, $now ${waited} s later. Process logs: $WORK"
