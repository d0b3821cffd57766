#!/usr/bin/env bash
# Real clusters under one client: 3-node raft and zab clusters and a 1-node unreplicated one of
# `conlab serve` processes, and a 3-member etcd, each measured by `conlab load` at 1, 16 and 64
# closed-loop clients, writes (put) then reads (get) of 64-byte values, one after the other.
# Prints a markdown table, and the disk's own limit: the median time of one 4 KiB O_DSYNC write.
#
#   swift build -c release --product conlab
#   bash Benchmarks/runtime.sh
#
# Environment:
#   CONLAB         the conlab to use (default .build/release/conlab; measure release builds)
#   ETCD           the etcd to use (default: etcd on PATH; without one, etcd is left out and said so)
#   LOAD_DURATION  measured time per run (default 5s), LOAD_WARMUP before it (default 1s)
#   LOAD_CLIENTS   client counts (default "1 16 64")
#   PORT_BASE      ports used: raft BASE+1…3 and BASE+101…103, zab BASE+201…, unreplicated
#                  BASE+401, etcd BASE+601…603 (clients) and BASE+701…703 (peers); default 17000
#   BENCH_DIR      where the clusters' data goes (default $TMPDIR or /tmp): put it on the disk to
#                  measure; a tmpfs makes every sync free. KEEP=1 keeps the folder afterwards.
#
# Every process the script starts is stopped on exit, also on failure or Ctrl-C: our clusters by
# `conlab cluster down` (SIGTERM to the recorded pids), etcd members by pid, one at a time (a
# leader stopped together with its followers waits 7 s to hand its leadership over).
set -euo pipefail
export LC_ALL=C

CONLAB=${CONLAB:-.build/release/conlab}
ETCD=${ETCD:-$(command -v etcd || true)}
DURATION=${LOAD_DURATION:-5s}
WARMUP=${LOAD_WARMUP:-1s}
CLIENTS=${LOAD_CLIENTS:-"1 16 64"}
PORT_BASE=${PORT_BASE:-17000}

[[ -x $CONLAB ]] || { echo "runtime.sh: no conlab at $CONLAB; build it: swift build -c release --product conlab" >&2; exit 2; }
WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/conlab-runtime.XXXXXX")
CSV=$WORK/results.csv

clusters=()
etcd_pids=()
cleanup() {
    local dir pid
    for dir in ${clusters[@]+"${clusters[@]}"}; do "$CONLAB" cluster down --dir "$dir" --grace 10 >/dev/null 2>&1 || true; done
    for pid in ${etcd_pids[@]+"${etcd_pids[@]}"}; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
    if [[ ${KEEP:-0} == 1 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rows=()
# measure LABEL TARGET: a put run and a get run at each client count; a row each.
measure() {
    local label=$1 target=$2 clients mix
    for clients in $CLIENTS; do
        for mix in put get; do
            echo "runtime.sh: $label, $clients clients, $mix" >&2
            if "$CONLAB" load --target "$target" --clients "$clients" --duration "$DURATION" --warmup "$WARMUP" \
                   --mix "$mix" --value-bytes 64 --csv "$CSV" >"$WORK/last.txt" 2>"$WORK/last.err"; then
                # The CSV's last row, read from its end (the target field holds commas): ops_per_s,
                # errors, p50_us, p99_us, max_us.
                rows+=("$(tail -n 1 "$CSV" | awk -F, -v label="$label" -v clients="$clients" -v mix="$mix" \
                    '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |", label, clients, mix, $(NF-6), $(NF-4), $(NF-2), $NF, $(NF-5) }')")
            else
                echo "runtime.sh: the run failed:" >&2
                cat "$WORK/last.txt" "$WORK/last.err" >&2
                rows+=("| $label | $clients | $mix | failed | | | | |")
            fi
        done
    done
}

# cluster BACKEND NODES OFFSET: up, measured, down.
cluster() {
    local backend=$1 nodes=$2 base=$((PORT_BASE + $3)) dir=$WORK/$1 target="resp://" i
    "$CONLAB" cluster up --backend "$backend" --nodes "$nodes" --dir "$dir" --port-base "$base" >&2
    clusters+=("$dir")
    for ((i = 1; i <= nodes; i++)); do target+="127.0.0.1:$((base + i)),"; done
    measure "$backend ($nodes node$([[ $nodes == 1 ]] || echo s))" "${target%,}"
    "$CONLAB" cluster down --dir "$dir" >&2
    clusters=()
}

# etcd_healthy PORT: whether the member answers GET /health with {"health":"true"} (a leader is
# known). Bash's /dev/tcp, so curl is not needed; in a subshell, which a refused connection ends.
etcd_healthy() (
    exec 3<>"/dev/tcp/127.0.0.1/$1"
    printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    [[ $(timeout 2 cat <&3) == *'"health":"true"'* ]]
)

# A 3-member etcd with a data folder each in $WORK/etcd, on loopback ports, under a token of this
# run alone; measured; stopped one member at a time.
etcd_cluster() {
    local base=$((PORT_BASE + 600)) initial="" target="etcd://" i pid tries
    mkdir -p "$WORK/etcd"
    for i in 1 2 3; do initial+="${initial:+,}e$i=http://127.0.0.1:$((base + 100 + i))"; done
    for i in 1 2 3; do
        "$ETCD" --name "e$i" --data-dir "$WORK/etcd/e$i" \
            --listen-client-urls "http://127.0.0.1:$((base + i))" --advertise-client-urls "http://127.0.0.1:$((base + i))" \
            --listen-peer-urls "http://127.0.0.1:$((base + 100 + i))" --initial-advertise-peer-urls "http://127.0.0.1:$((base + 100 + i))" \
            --initial-cluster "$initial" --initial-cluster-state new --initial-cluster-token "conlab-runtime-$$" \
            >"$WORK/etcd/e$i.log" 2>&1 &
        etcd_pids+=($!)
        target+="127.0.0.1:$((base + i)),"
    done
    for i in 1 2 3; do
        tries=0
        until etcd_healthy $((base + i)) 2>/dev/null; do
            ((++tries < 300)) || { echo "runtime.sh: etcd e$i not healthy after 30 s; its log:" >&2; tail "$WORK/etcd/e$i.log" >&2; exit 1; }
            sleep 0.1
        done
    done
    measure "etcd $("$ETCD" --version | awk 'NR == 1 { print $3 }') (3 members)" "${target%,}"
    for pid in "${etcd_pids[@]}"; do kill -TERM "$pid"; wait "$pid" || true; done
    etcd_pids=()
}

# The median over 5 runs of one O_DSYNC 4 KiB write, in µs: each run is `dd oflag=dsync` of
# 1000 writes, its elapsed time divided by 1000. O_DSYNC makes each write durable before it
# returns, as write + fdatasync does, and the file grows as a log does.
fsync_us() {
    local run
    for run in 1 2 3 4 5; do
        dd if=/dev/zero of="$WORK/dsync" bs=4k count=1000 oflag=dsync 2>&1 | awk '/copied/ { printf "%.0f\n", $(NF-3) * 1e6 / 1000 }'
    done | sort -n | sed -n 3p
}

cluster raft 3 0
cluster zab 3 200
cluster unreplicated 1 400
if [[ -n $ETCD ]]; then
    etcd_cluster
else
    echo "runtime.sh: etcd left out: no etcd on PATH (Debian: apt-get install etcd-server; or set ETCD)" >&2
fi

echo
echo "$(nproc) cores; data in $WORK ($(stat -f -c %T "$WORK")); $DURATION measured after $WARMUP warmup per run; 64-byte values; reads preloaded"
echo
echo "| system | clients | op | ops/s | p50 µs | p99 µs | max µs | errors |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "Disk: one 4 KiB O_DSYNC write (write + fdatasync) takes $(fsync_us) µs (median of 5 dd runs of 1000 writes, each run's time / 1000)."
