#!/usr/bin/env bash
# Timings of Flare's optimizer core (issue targets: Pareto front of 10,000 queries × 11 models over 200
# operating points ≤ 200 ms; RouterWise's setup search for 4 models on 8 GPUs of two types ≤ 5 s; one
# routing decision given estimates ≤ 20 µs, for the scoring core and every live policy behind /v1).
# usage (from the repository root): bench/optimizer/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build bench/optimizer/OptimizerBench -c Release -v q -nologo -clp:ErrorsOnly
echo "# Optimizer benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), .NET $(dotnet --version)"
echo
bench/optimizer/OptimizerBench/bin/Release/net10.0/linux-x64/OptimizerBench
