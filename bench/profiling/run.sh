#!/usr/bin/env bash
# Profiles one emulated demo deployment with the default sweep grid through Flare's /api and prints how long it took
# and the fit's per-curve quality. Cross-validation folds are grid points (the fit is over per-point means), so the
# CV MAPE is the error on grid points left out of the fit. Usage: bench/profiling/run.sh [emulator time scale, default 4]
set -euo pipefail
cd "$(dirname "$0")/../.."
SCALE="${1:-4}"
PORT=5590
EMU=5591
DATA="$(mktemp -d)"
ADMIN="flare-bench-admin-$(date +%s%N)"
dotnet build Flare.Web -c Release -v q -nologo >/dev/null
dotnet Flare.Web/bin/Release/net10.0/Flare.Web.dll --urls "http://127.0.0.1:$PORT" --Flare:DataDirectory="$DATA" \
  --Flare:Demo=true --Flare:DemoTrafficPerSecond=0 --Flare:EmulatorBaseUrl="http://127.0.0.1:$EMU" \
  --Flare:EmulatorTimeScale="$SCALE" --Flare:AdminToken="$ADMIN" >"$DATA/flare.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
API="http://127.0.0.1:$PORT/api"
for _ in $(seq 1 120); do curl -sf -H "Authorization: Bearer $ADMIN" "$API/deployments" >/dev/null && break; sleep 0.5; done
ID=$(curl -sf -H "Authorization: Bearer $ADMIN" "$API/deployments" | jq '[.[] | select(.name | test("llama-3.1-8b"))][0].id')
NAME=$(curl -sf -H "Authorization: Bearer $ADMIN" "$API/deployments/$ID" | jq -r .name)
echo "deployment $ID ($NAME), emulator time scale $SCALE"
START=$(date +%s.%N)
RUN=$(curl -sf -H "Authorization: Bearer $ADMIN" -X POST -H 'content-type: application/json' -d '{}' "$API/deployments/$ID/profile/runs" | jq .id)
while true; do
  STATUS=$(curl -sf -H "Authorization: Bearer $ADMIN" "$API/profile-runs/$RUN" | jq -r .status)
  [[ "$STATUS" == Queued || "$STATUS" == Running ]] || break
  sleep 1
done
END=$(date +%s.%N)
echo "run $RUN: $STATUS in $(echo "$END - $START" | bc) s (wall clock)"
curl -sf -H "Authorization: Bearer $ADMIN" "$API/profile-runs/$RUN" | jq '{cellsDone, cellsTotal, samplesRecorded, errorCount, settings: (.settings | {inputLengths, outputLengths, concurrency, requestsPerCell, warmupRequests}), message}'
curl -sf -H "Authorization: Bearer $ADMIN" "$API/deployments/$ID/profile/fits" | jq '.[0] | {version, samplesUsed: .fit.samplesUsed, ttft: .fit.ttft, tpot: .fit.tpot, e2e: .fit.e2e, model: .fit.model, referenceInputTokens, referenceOutputTokens, saturationRequestsPerSecond, costPerRequestUsd, costBasis}'
