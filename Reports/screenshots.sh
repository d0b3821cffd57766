#!/usr/bin/env bash
# Screenshots of the committed reports as a reader sees them, for checking a change to the charts
# or the page by eye: the CAP suite's page (top, where the suite charts start), the Figure 16
# page, single charts, and the real runs' page. Needs Debian's `chromium`
# (apt-get install -y chromium); writes PNGs into DIR (default /tmp/conlab-screenshots).
#   bash Reports/screenshots.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/conlab-screenshots}"
command -v chromium >/dev/null || { echo "screenshots.sh needs chromium: apt-get install -y chromium" >&2; exit 1; }
mkdir -p "$out"
shot() { # NAME WIDTH HEIGHT FILE
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --screenshot="$out/$1.png" \
        --window-size="$2,$3" "file://$PWD/$4" >/dev/null 2>&1
    echo "$out/$1.png"
}
shot suite-page 1100 3000 Reports/cap-suite/index.html
shot election-timeouts-page 1100 2400 Reports/election-timeouts/index.html
shot chart-suite-availability-minority 1000 700 Reports/cap-suite/charts/suite-availability-minority.svg
shot chart-leader-isolated-availability 760 800 Reports/cap-suite/charts/leader-isolated-availability.svg
shot chart-leader-isolated-bars 1000 1400 Reports/cap-suite/charts/leader-isolated-bars.svg
shot sim-vs-real-page 1100 2000 Reports/sim-vs-real/real/index.html
