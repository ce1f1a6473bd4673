#!/usr/bin/env bash
# Benchmark of Flare's /v1 data plane (issue 4): builds Release, starts a fast OpenAI-compatible upstream and
# two Flare processes (request log on, and off with Flare:Gateway:RequestLogEnabled=false), each as its own
# process on 127.0.0.1, runs bench/gateway/GatewayBench against them (direct and through each Flare, in
# interleaved phases) and stops them. About 6 minutes.
# usage (from anywhere): bench/gateway/run.sh [--quick]
#   FLARE_BENCH_PIN=1 pins Flare to CPU 1 and the upstream and load generator to CPU 0 (needs 2 cores).
set -euo pipefail
cd "$(dirname "$0")/../.."
UP_PORT="${GATEWAY_BENCH_UPSTREAM_PORT:-5591}"
ON_PORT="${GATEWAY_BENCH_FLARE_PORT:-5592}"
OFF_PORT="$((ON_PORT + 1))"
KEY="sk-flare-bench-0123456789abcdef0123456789"
ADMIN="flare-bench-admin-$(date +%s%N)"
LOGS="$(mktemp -d /tmp/flare-gateway-bench.XXXXXX)"
PIN_GEN=() PIN_FLARE=()
if [ "${FLARE_BENCH_PIN:-0}" = 1 ]; then PIN_GEN=(taskset -c 0) PIN_FLARE=(taskset -c 1); fi

for project in Flare.Web bench/gateway/GatewayBench; do
  dotnet build "$project" -c Release -v q -nologo >"$LOGS/build.log" 2>&1 || { cat "$LOGS/build.log"; exit 1; }
done
BENCH=bench/gateway/GatewayBench/bin/Release/net10.0/GatewayBench

PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
"${PIN_GEN[@]}" "$BENCH" upstream --url "http://127.0.0.1:$UP_PORT" >"$LOGS/upstream.log" 2>&1 &
UP_PID=$!
PIDS+=($UP_PID)
start_flare() { # port, data dir, extra args...
  local port=$1 dir=$2; shift 2
  "${PIN_FLARE[@]}" dotnet Flare.Web/bin/Release/net10.0/Flare.Web.dll --urls "http://127.0.0.1:$port" \
    --Flare:DataDirectory="$dir" --Flare:Demo=false --Flare:BootstrapApiKey="$KEY" --Flare:AdminToken="$ADMIN" "$@" >"$LOGS/flare-$port.log" 2>&1 &
  PIDS+=($!)
}
start_flare "$ON_PORT" "$LOGS/data-on"
ON_PID=$!
start_flare "$OFF_PORT" "$LOGS/data-off" --Flare:Gateway:RequestLogEnabled=false
OFF_PID=$!
for port in "$UP_PORT" "$ON_PORT" "$OFF_PORT"; do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/v1/models" && break; sleep 0.2; done
done

echo "# /v1 data plane benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), .NET $(dotnet --version), pinned: ${FLARE_BENCH_PIN:-0}"
echo
"${PIN_GEN[@]}" "$BENCH" run --upstream "http://127.0.0.1:$UP_PORT" --upstream-pid "$UP_PID" --key "$KEY" --admin-token "$ADMIN" \
  --flare "flare=http://127.0.0.1:$ON_PORT,$ON_PID" \
  --flare "flare, log off=http://127.0.0.1:$OFF_PORT,$OFF_PID" "$@"
echo
echo "Request log rows written: log on $(sqlite3 "$LOGS/data-on/flare.db" 'select count(*) from RequestLog' 2>/dev/null || echo '?'), log off $(sqlite3 "$LOGS/data-off/flare.db" 'select count(*) from RequestLog' 2>/dev/null || echo '?'). Process logs: $LOGS"
