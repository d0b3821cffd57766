#!/usr/bin/env bash
# Screenshots of the committed reports as a reader sees them, for checking a change to the charts
# or the page by eye: the CAP suite's page (top, where the suite charts start), the Figure 16
# page, single charts, the real runs' page, a replay page (`conlab replay` of leader-crash, Raft,
# seed 1, written into DIR first: replay pages are made on demand, not committed) and a single
# scenario's page (coordinator-crash-after-prepare, seed 1, also written into DIR). Needs
# Debian's `chromium` (apt-get install -y chromium), and for the replay a built conlab (`swift build`,
# or CONLAB=path);
# writes PNGs into DIR (default /tmp/conlab-screenshots).
#   bash Reports/screenshots.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/conlab-screenshots}"
command -v chromium >/dev/null || { echo "screenshots.sh needs chromium: apt-get install -y chromium" >&2; exit 1; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"
shot() { # NAME WIDTH HEIGHT FILE
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --screenshot="$out/$1.png" \
        --window-size="$2,$3" "file://$(realpath "$4")" >/dev/null 2>&1
    echo "$out/$1.png"
}
shot suite-page 1100 3000 Reports/cap-suite/index.html
shot election-timeouts-page 1100 2400 Reports/election-timeouts/index.html
shot chart-suite-availability-minority 1000 700 Reports/cap-suite/charts/suite-availability-minority.svg
shot chart-leader-isolated-availability 760 800 Reports/cap-suite/charts/leader-isolated-availability.svg
shot chart-leader-isolated-bars 1000 1400 Reports/cap-suite/charts/leader-isolated-bars.svg
shot sim-vs-real-page 1100 2000 Reports/sim-vs-real/real/index.html
# The default window: from just before the leader's crash at 10 s through the election after it.
conlab="${CONLAB:-.build/debug/conlab}"
[ -x "$conlab" ] || { echo "skipped replay-page: build conlab first (swift build), or set CONLAB=path/to/conlab" >&2; exit 0; }
"$conlab" replay Experiments/leader-crash.json --backend raft --seed 1 --out "$out/replay-leader-crash-raft.html" >/dev/null
shot replay-page 1560 3600 "$out/replay-leader-crash-raft.html"
# A single scenario's page: 2PC blocking after its coordinator crashes (roles with in-doubt lanes,
# blocked keys), 3PC deciding by timeout; seed 1 only, a few seconds to simulate.
"$conlab" run Experiments/coordinator-crash-after-prepare.json --seed 1 --out "$out/coordinator-crash-after-prepare" --quiet >/dev/null
shot scenario-page 1100 5200 "$out/coordinator-crash-after-prepare/index.html"
