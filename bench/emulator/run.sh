#!/usr/bin/env bash
# Benchmark of the Flare LLM emulator: builds Release, starts the emulator as its own process (so its CPU time
# can be measured apart from the client's), runs bench/emulator/EmulatorBench against it, stops it.
# usage (from the repository root): bench/emulator/run.sh [path to shared/data, default ../shared/data]
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${1:-$PWD/../shared/data}"
PORT="${EMULATOR_BENCH_PORT:-5491}"
dotnet build Flare.Emulator -c Release -v q -nologo >/dev/null
dotnet build bench/emulator/EmulatorBench -c Release -v q -nologo >/dev/null
Flare.Emulator/bin/Release/net10.0/Flare.Emulator --urls "http://127.0.0.1:$PORT" \
  --backend acc=llama-3-8b@h100x1 --backend sweep=llama-2-7b@a100x1,time-scale=10 --backend load=llama-3-8b@h100x1 >/tmp/flare-emulator-bench.log 2>&1 &
EMU=$!
trap 'kill $EMU 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/acc/health" >/dev/null && break; sleep 0.2; done
echo "# LLM emulator benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), .NET $(dotnet --version)"
echo
bench/emulator/EmulatorBench/bin/Release/net10.0/EmulatorBench --url "http://127.0.0.1:$PORT" --pid "$EMU" --data "$DATA"
