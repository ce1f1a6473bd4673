#!/usr/bin/env bash
# Soak test (issue 9): Flare with the demo fleet and its in-process LLM emulator (time scale 10, so a request takes
# tens of milliseconds), every emulated deployment injecting 1% errors, 1% cut streams and 1% 2-second spikes, and
# 200 /v1 requests/s (half streamed) for 30 minutes. Prints a row per minute: answers by kind and Flare's memory.
# usage (from anywhere): bench/soak/run.sh [minutes, default 30] [rate, default 200]
set -euo pipefail
cd "$(dirname "$0")/../.."
MINUTES="${1:-30}"
RATE="${2:-200}"
PORT="${SOAK_FLARE_PORT:-5610}"
EMU="$((PORT + 1))"
KEY="sk-flare-soak-0123456789abcdef0123456789"
ADMIN="flare-soak-admin-$(date +%s%N)"
DATA="$(mktemp -d /tmp/flare-soak.XXXXXX)"
dotnet build Flare.Web -c Release -v q -nologo >"$DATA/build.log" 2>&1 || { cat "$DATA/build.log"; exit 1; }
dotnet build bench/soak/SoakBench -c Release -v q -nologo >>"$DATA/build.log" 2>&1 || { cat "$DATA/build.log"; exit 1; }
dotnet Flare.Web/bin/Release/net10.0/Flare.Web.dll --urls "http://127.0.0.1:$PORT" --Flare:DataDirectory="$DATA" \
  --Flare:Demo=true --Flare:DemoTrafficPerSecond=0 --Flare:EmulatorBaseUrl="http://127.0.0.1:$EMU" --Flare:EmulatorTimeScale=10 \
  --Flare:BootstrapApiKey="$KEY" --Flare:AdminToken="$ADMIN" >"$DATA/flare.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf -o /dev/null -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$PORT/api/deployments" && break; sleep 0.5; done
echo "# Flare soak — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), .NET $(dotnet --version), commit $(git rev-parse --short HEAD)"
bench/soak/SoakBench/bin/Release/net10.0/SoakBench --flare "http://127.0.0.1:$PORT" --pid "$PID" --key "$KEY" --admin-token "$ADMIN" \
  --minutes "$MINUTES" --rate "$RATE" --fault-rate 0.01
STATUS=$?
echo
echo "Unhandled exceptions in Flare's log: $(grep -c 'Unhandled exception' "$DATA/flare.log" || true); error lines: $(grep -c '^fail:' "$DATA/flare.log" || true). Log: $DATA/flare.log"
exit $STATUS
