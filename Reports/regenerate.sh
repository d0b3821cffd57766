#!/usr/bin/env bash
# Regenerates the committed reference reports (Reports/README.md). Takes about two minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release
for experiment in cap-suite election-timeouts election-timeouts-lan; do
    rm -rf "Reports/$experiment"
    .build/release/conlab run "Experiments/$experiment.json" --out "Reports/$experiment" --quiet
done
