#!/usr/bin/env bash
# The stock Redis benchmark against our 3-node Raft cluster (at its leader) and against
# redis-server with appendfsync always (every write fsynced before it is answered, as ours), one
# after the other; then the node loop's own speed: one Raft node whose log is in memory
# (`serve --disk memory`), pipelined, in steps (inputs stepped) per second from INFO.
#
#   swift build -c release --product conlab
#   bash Benchmarks/redis.sh
#
# Environment: CONLAB (default .build/release/conlab), REQUESTS (default 50000), PORT_BASE
# (default 19000: ours BASE+1…3 and BASE+101…103, redis-server BASE+500, the loop BASE+601/701),
# BENCH_DIR (default $TMPDIR or /tmp; on the disk, not a tmpfs). Needs redis-server and
# redis-benchmark (Debian: redis-server, redis-tools). Every process started is stopped on exit.
set -euo pipefail
export LC_ALL=C
CONLAB=${CONLAB:-.build/release/conlab}
REQUESTS=${REQUESTS:-50000}
PORT_BASE=${PORT_BASE:-19000}
for tool in redis-server redis-benchmark redis-cli; do
    command -v $tool >/dev/null || { echo "redis.sh: $tool is missing: apt-get install -y redis-server redis-tools" >&2; exit 2; }
done
[[ -x $CONLAB ]] || { echo "redis.sh: no conlab at $CONLAB; build it: swift build -c release --product conlab" >&2; exit 2; }
WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/conlab-redis.XXXXXX")
pids=()
cleanup() {
    "$CONLAB" cluster down --dir "$WORK/raft" --grace 10 >/dev/null 2>&1 || true
    for pid in ${pids[@]+"${pids[@]}"}; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# rps PORT TEST CLIENTS: requests per second and p50 (ms) of one redis-benchmark test.
rps() {
    redis-benchmark -p "$1" -t "$2" -n "$REQUESTS" -c "$3" -q 2>&1 | tr '\r' '\n' | grep "requests per second" \
        | sed -E 's/.*: ([0-9.]+) requests per second, p50=([0-9.]+) msec.*/\1 \2/'
}

"$CONLAB" cluster up --backend raft --dir "$WORK/raft" --port-base "$PORT_BASE" >/dev/null
leader=""
for _ in $(seq 100); do
    leader=$("$CONLAB" cluster status --dir "$WORK/raft" | awk '$4 == "leader" { split($8, a, ":"); print a[2] }')
    [[ -n $leader ]] && break
    sleep 0.1
done
mkdir -p "$WORK/redis"
redis-server --port $((PORT_BASE + 500)) --bind 127.0.0.1 --dir "$WORK/redis" --appendonly yes --appendfsync always \
    --save "" --daemonize no --logfile "$WORK/redis/log" & pids+=($!)
until redis-cli -p $((PORT_BASE + 500)) PING >/dev/null 2>&1; do sleep 0.1; done

echo "| system | test | clients | requests/s | p50 ms |"
echo "|---|---|---:|---:|---:|"
for clients in 1 16 64; do
    for test in set get; do
        read -r ours ours_p50 < <(rps "$leader" $test $clients)
        read -r theirs theirs_p50 < <(rps $((PORT_BASE + 500)) $test $clients)
        echo "| conlab raft, 3 nodes (leader) | $test | $clients | $ours | $ours_p50 |"
        echo "| redis-server $(redis-server --version | sed -E 's/.*v=([0-9.]+).*/\1/'), appendfsync always | $test | $clients | $theirs | $theirs_p50 |"
    done
done

# The node loop alone: one Raft node, log in memory, 16 connections pipelining 32 SETs each.
cat > "$WORK/loop.json" <<JSON
{"version": 1, "cluster": 1, "secret": "a secret for the loop benchmark", "backend": "raft",
 "nodes": [{"id": "n1", "peer": $((PORT_BASE + 701)), "client": $((PORT_BASE + 601))}]}
JSON
"$CONLAB" serve --cluster "$WORK/loop.json" --node n1 --data "$WORK/loop" --disk memory 2>"$WORK/loop.log" & pids+=($!)
until redis-cli -p $((PORT_BASE + 601)) PING >/dev/null 2>&1; do sleep 0.1; done
steps() { redis-cli -p $((PORT_BASE + 601)) INFO consensus | tr -d '\r' | awk -F: '$1 == "steps" { print $2 }'; }
for run in 1 2 3; do
    before=$(steps); start=$(date +%s.%N)
    redis-benchmark -p $((PORT_BASE + 601)) -t set -n 300000 -c 16 -P 32 -q >/dev/null 2>&1
    end=$(date +%s.%N); after=$(steps)
    awk -v s=$((after - before)) -v a="$start" -v b="$end" -v r=$run \
        'BEGIN { printf "node loop, 1 Raft node, memory disk, run %d: %d steps in %.2f s = %.0f steps/s (%.0f SET/s)\n", r, s, b - a, s / (b - a), 300000 / (b - a) }'
done
