#!/usr/bin/env bash
# Timings of the Pareto explorer (issue 8: slider-to-redraw ≤ 300 ms for a 5,000-query sample, server-side solve +
# render). Builds Release; runs the solver in process on a 5,000-query sample of the demo fleet's shapes; then starts
# Flare (demo fleet, no emulator, no demo traffic) on 127.0.0.1, imports profiles and a 5,000-prompt history over /api,
# and times slider moves in Chromium at 1280×800 from the input event to Plotly's redraw. About 3 minutes.
# usage (from anywhere): bench/explorer/run.sh [--moves N]
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT="${EXPLORER_BENCH_PORT:-5594}"
MOVES=30
if [ "${1:-}" = "--moves" ]; then MOVES="$2"; fi
LOGS="$(mktemp -d /tmp/flare-explorer-bench.XXXXXX)"
for project in Flare.Web bench/explorer/ExplorerBench; do
  dotnet build "$project" -c Release -v q -nologo >"$LOGS/build.log" 2>&1 || { cat "$LOGS/build.log"; exit 1; }
done
BENCH=bench/explorer/ExplorerBench/bin/Release/net10.0/linux-x64/ExplorerBench

echo "# Explorer benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), .NET $(dotnet --version), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
"$BENCH" solve --queries 5000
echo

ADMIN="flare-explorer-bench-$(date +%s%N)"
ADMIN_PASSWORD="explorer-bench-$(date +%s%N)"
dotnet Flare.Web/bin/Release/net10.0/Flare.Web.dll --urls "http://127.0.0.1:$PORT" --Flare:DataDirectory="$LOGS/data" \
  --Flare:Demo=true --Flare:HostEmulator=false --Flare:DemoTrafficPerSecond=0 \
  --Flare:AdminToken="$ADMIN" --Flare:Admin:Password="$ADMIN_PASSWORD" >"$LOGS/flare.log" 2>&1 &
FLARE_PID=$!
trap 'kill "$FLARE_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$PORT/api/gpu-types" >/dev/null && break
  sleep 0.5
done
"$BENCH" browser --url "http://127.0.0.1:$PORT/" --prompts 5000 --moves "$MOVES" --admin-token "$ADMIN" --password "$ADMIN_PASSWORD"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) (Flare's log: $LOGS/flare.log)"
