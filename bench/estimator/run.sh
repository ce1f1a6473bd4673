#!/usr/bin/env bash
# Benchmark of Flare's quality/length estimator: 100,000 synthesized prompts indexed, then recall@10 against
# exact search and the latency of one estimate (tokenize + embed + search + aggregate for all models).
# usage (from the repository root): bench/estimator/run.sh [path to shared/data, default ../shared/data] [prompts, default 100000] [--ef-search N] [--m N]
# (--ef-search sets the HNSW search breadth of the timed estimates, --m its links per vector; defaults HnswOptions')
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${1:-$PWD/../shared/data}"
COUNT="${2:-100000}"
dotnet build bench/estimator/EstimatorBench -c Release -v q -nologo >/dev/null
echo "# Estimator benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), .NET $(dotnet --version)"
echo
bench/estimator/EstimatorBench/bin/Release/net10.0/EstimatorBench --data "$DATA" --count "$COUNT" "${@:3}"
