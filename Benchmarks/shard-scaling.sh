#!/usr/bin/env bash
# The sharded store on real processes: a 3-node Raft metaserver and 1, 2, 4 server groups of 3
# `conlab serve` nodes each (`cluster up --shard-group`), every group joined by `conlab shard`,
# then measured by `conlab load --target shard:…` (each client routes each key to its group);
# the anchor in the same run is one plain 3-node Raft cluster under the same load. Each point is
# the median of RUNS runs. Prints a markdown table.
#
#   swift build -c release --product conlab
#   bash Benchmarks/shard-scaling.sh
#
# Environment:
#   CONLAB         the conlab to use (default .build/release/conlab; measure release builds)
#   GROUPS_LIST    group counts (default "1 2 4")
#   LOAD_CLIENTS   closed-loop clients (default 32), LOAD_MIX (default put=50,get=50)
#   LOAD_DURATION  measured time per run (default 5s), LOAD_WARMUP before it (default 1s)
#   RUNS           runs per point, the median reported (default 3)
#   BUCKETS        buckets of the key space (default 16)
#   PORT_BASE      ports: the anchor BASE+1…, the metaserver BASE+201…, group k BASE+200(k+1)+1…
#                  (clients; peers 100 above each); default 18000
#   BENCH_DIR      where the clusters' data goes (default $TMPDIR or /tmp); KEEP=1 keeps it
#
# Every process the script starts is stopped on exit, also on failure or Ctrl-C, by
# `conlab cluster down` (SIGTERM to the recorded pids).
set -euo pipefail
export LC_ALL=C

CONLAB=${CONLAB:-.build/release/conlab}
GROUPS_LIST=${GROUPS_LIST:-"1 2 4"}
CLIENTS=${LOAD_CLIENTS:-32}
MIX=${LOAD_MIX:-put=50,get=50}
DURATION=${LOAD_DURATION:-5s}
WARMUP=${LOAD_WARMUP:-1s}
RUNS=${RUNS:-3}
BUCKETS=${BUCKETS:-16}
PORT_BASE=${PORT_BASE:-18000}

[[ -x $CONLAB ]] || { echo "shard-scaling.sh: no conlab at $CONLAB; build it: swift build -c release --product conlab" >&2; exit 2; }
WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/conlab-shards.XXXXXX")

clusters=()
cleanup() {
    local dir
    for dir in ${clusters[@]+"${clusters[@]}"}; do "$CONLAB" cluster down --dir "$dir" --grace 10 >/dev/null 2>&1 || true; done
    if [[ ${KEEP:-0} == 1 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# up DIR BASE [ARGS…]: a 3-node Raft cluster of `conlab serve` processes.
up() {
    local dir=$1 base=$2
    shift 2
    "$CONLAB" cluster up --backend raft --nodes 3 --dir "$dir" --port-base "$base" "$@" >&2
    clusters+=("$dir")
}

# median TARGET: the median ops/s of RUNS load runs.
median() {
    local target=$1 run values=()
    for ((run = 1; run <= RUNS; run++)); do
        "$CONLAB" load --target "$target" --clients "$CLIENTS" --mix "$MIX" --duration "$DURATION" --warmup "$WARMUP" \
            --csv "$WORK/results.csv" >"$WORK/last.txt" 2>"$WORK/last.err" || { cat "$WORK/last.txt" "$WORK/last.err" >&2; exit 1; }
        values+=("$(tail -n 1 "$WORK/results.csv" | awk -F, '{ print $(NF-6) }')")
    done
    printf '%s\n' "${values[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

down_all() {
    local dir
    for dir in ${clusters[@]+"${clusters[@]}"}; do "$CONLAB" cluster down --dir "$dir" >/dev/null 2>&1 || true; done
    clusters=()
}

echo "shard-scaling.sh: the anchor, one plain 3-node Raft cluster" >&2
up "$WORK/anchor" "$PORT_BASE"
anchor=$(median "resp://127.0.0.1:$((PORT_BASE + 1)),127.0.0.1:$((PORT_BASE + 2)),127.0.0.1:$((PORT_BASE + 3))")
down_all

rows=()
for groups in $GROUPS_LIST; do
    echo "shard-scaling.sh: a metaserver and $groups group(s)" >&2
    set_dir=$WORK/g$groups
    up "$set_dir/meta" $((PORT_BASE + 200))
    target="shard:$set_dir/meta/cluster.json"
    group_args=()
    for ((k = 1; k <= groups; k++)); do
        up "$set_dir/g$k" $((PORT_BASE + 200 * (k + 1))) --shard-group "g$k" --buckets "$BUCKETS"
        target+=",$set_dir/g$k/cluster.json"
        group_args+=(--group "$set_dir/g$k/cluster.json")
    done
    "$CONLAB" shard --meta "$set_dir/meta/cluster.json" "${group_args[@]}" join $(for ((k = 1; k <= groups; k++)); do printf 'g%d ' "$k"; done) >&2
    ops=$(median "$target")
    rows+=("| $groups | $((3 * groups + 3)) | $ops | $(awk -v a="$ops" -v b="$anchor" 'BEGIN { printf "%.2f", a / b }') |")
    down_all
done

echo "$(nproc) cores; $CLIENTS clients, mix $MIX, $DURATION measured after $WARMUP, median of $RUNS runs; anchor (one plain 3-node Raft cluster): $anchor ops/s"
echo
echo "| groups | processes | ops/s | against the anchor |"
echo "|---|---|---|---|"
printf '%s\n' "${rows[@]}"
