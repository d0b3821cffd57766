#!/bin/bash
# Runs a hunt as a Slurm job array on this machine alone (a single-node Slurm on 127.0.0.1,
# Debian's slurm-wlm and munge), merges the shards in a dependent job, and checks that the merged
# folder is byte for byte the folder one machine's `conlab hunt` writes. For users: the test
# suite never starts Slurm. Every daemon it starts it stops by pid, also on failure.
#   Experiments/hunt-slurm/run-local.sh [BACKEND] [RUNS] [SHARDS]    (default: primary-backup 24 4)
# With primary-backup judged on durability and linearizability (which it does not promise) and
# --keep-going, the shards find violations and the comparison covers their scenario files too.
set -euo pipefail
backend=${1:-primary-backup} runs=${2:-24} shards=${3:-4}
for tool in slurmctld slurmd sbatch munged; do
    command -v "$tool" >/dev/null || { echo "skipped: $tool not found; install with: apt-get install -y slurm-wlm munge"; exit 0; }
done
cd "$(dirname "$0")/../.."
[ -x .build/release/conlab ] || nice -n 19 swift build -c release
work=$(mktemp -d /tmp/conlab-slurm.XXXXXX)
pids=()
stop() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop EXIT
mkdir -p "$work"/{munge,munge-run,state,spool,out}
chmod 700 "$work/munge"
chmod 755 "$work/munge-run" "$work"   # munge's socket must be reachable by every user
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munged --foreground --force --key-file="$work/munge/munge.key" --socket="$work/munge-run/munge.sock" \
    --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed" &
pids+=($!)
cpus=$(nproc)
cat > "$work/slurm.conf" <<CONF
ClusterName=conlab
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=$(id -un)
SlurmdUser=$(id -un)
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge-run/munge.sock
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
sleep 1
slurmctld -D -f "$SLURM_CONF" &
pids+=($!)
# Under nice, so that its tasks (which inherit it) yield to whatever else the machine runs.
nice -n 19 slurmd -D -f "$SLURM_CONF" -N localhost &
pids+=($!)
for _ in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 1; done
sinfo
export HUNT_BACKEND=$backend HUNT_RUNS=$runs HUNT_OUT=$work/out HUNT_OPTIONS="--keep-going --promise durable --promise linearizable --shrink-runs 20"
array=$(sbatch --parsable --chdir="$PWD" --output="$work/slurm-%x-%A_%a.out" --array=1-"$shards" Experiments/hunt-slurm/hunt.sbatch)
merge=$(sbatch --parsable --chdir="$PWD" --output="$work/slurm-%x-%j.out" --dependency=afterany:"$array" Experiments/hunt-slurm/merge.sbatch)
echo "array job $array ($shards tasks), merge job $merge"
while squeue -h -j "$array,$merge" 2>/dev/null | grep -q .; do sleep 2; done
cat "$work"/slurm-conlab-hunt-merge-*.out
# shellcheck disable=SC2086
nice -n 19 .build/release/conlab hunt --backend "$backend" --runs "$runs" --out "$work/one" --quiet $HUNT_OPTIONS || true
if diff -r "$work/one" "$work/out/merged"; then
    echo "OK: the merged shards of the Slurm array equal one machine's hunt ($work/out/merged, $work/one)"
else
    echo "FAIL: the merged shards differ from one machine's hunt (logs: $work)"
    exit 1
fi
