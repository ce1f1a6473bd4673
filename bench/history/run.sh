#!/usr/bin/env bash
# Benchmark of the routing-history import (issue 6): LLMRouter's dcrouter train.json (5,608 prompts × 9 models)
# uploaded over HTTP into a fresh SQLite file through Flare's real host, store and live estimator (Release build).
# Acceptance: the import, embedding and indexing included, under 30 s.
# usage (from the repository root): bench/history/run.sh [path to shared/data, default ../shared/data]
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${1:-$PWD/../shared/data}"
dotnet build bench/history/HistoryBench -c Release -v q -nologo >/dev/null
echo "# History import benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), .NET $(dotnet --version)"
echo
bench/history/HistoryBench/bin/Release/net10.0/HistoryBench --file "$DATA/LLMRouter/data/dcrouter_preprocessed/train.json"
