#!/usr/bin/env bash
# run_bench.sh BUILD_DIR — engine overhead benchmarks, and sciloop vs Snakemake (--dry-run) on the same DAG shape, in one run.
#
#   inline plan+run of a 100,000-step DAG (chains, fan-out, fan-in), µs per step     bar <= 20
#     (and the same with an op that writes a file per step, for what the file system adds)
#   planning alone of a 1,000,000-step DAG (sciloop validate), seconds                bar <= 10
#   local executor overhead per step (worker process per step), ms                    bar <= 2
#   snakemake --dry-run / sciloop run --dry-run at 10,000 steps, wall-time ratio      goal >= 100
#
# The DAGs come from gen_dag.py; the no-op op is testkit.emit (tests/integration/engine/plugins), which gives its
# output from memory (host->write_output), so the inline executor packs it instead of creating a file;
# testkit.touch is the same op writing a file at its output path.
# Snakemake is installed from PyPI into BUILD_DIR/bench-venv on first use.
# WORK (default: a folder under BUILD_DIR) is where stores and DAG files go: its file system matters
# for the touch line, where every step writes one file.
set -euo pipefail
BUILD=$(realpath "${1:?usage: run_bench.sh BUILD_DIR}")
HERE=$(cd "$(dirname "$0")" && pwd)
SCILOOP="$BUILD/bin/sciloop"
export SCILOOP_PLUGIN_PATH="$BUILD/tests/plugins-engine/good"
# A fresh folder per run, deleted at the end: on ext4, creating many files right after deleting
# many is several times slower (the inode allocator avoids recently freed inodes), which would
# measure the last run's clean-up instead of this run.
WORK=$(mktemp -d "${WORK:-$BUILD}/bench-engine.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
timed() { local t0; t0=$(now_ms); "$@" >/dev/null 2>&1; echo $(( $(now_ms) - t0 )); }
# The development machine is a shared VM whose speed drifts by 2-3x within minutes, so the engine's
# own measurements are taken REPS times (default 3) and the median is the figure; all are printed.
REPS=${REPS:-3}
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# Before each group, the files the last one wrote (journals, packs, traces: hundreds of MB) are written
# back, so that one group's write-back is not timed as part of the next.
settle() { sync; sleep 1; }
per_step() { awk -v ms="$1" -v n="$2" 'BEGIN {printf "%.1f", ms * 1000 / n}'; }

python3 "$HERE/gen_dag.py" 100000 d100k.xml
python3 "$HERE/gen_dag.py" --op testkit.touch 100000 t100k.xml
python3 "$HERE/gen_dag.py" 1000000 d1m.xml
python3 "$HERE/gen_dag.py" 1000 d1k.xml
python3 "$HERE/gen_dag.py" 10000 d10k.xml Snakefile
# the generated files (about 170 MB) are written back now, not while the engine is being timed
sync

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), work dir on $(df -T . | awk 'NR==2 {print $2}'), load $(cut -d' ' -f1-3 /proc/loadavg)"

runs=(); cached=()
for i in $(seq "$REPS"); do
  runs+=("$(timed "$SCILOOP" run -q --executor inline --jobs "$(nproc)" d100k.xml --workdir "w100k-$i")")
  cached+=("$(timed "$SCILOOP" run -q --executor inline --jobs "$(nproc)" d100k.xml --workdir "w100k-$i")")
done
ms=$(median "${runs[@]}")
echo "inline, 100,001 steps, plan + run:  ${ms} ms  = $(per_step "$ms" 100001) µs/step   (bar <= 20; runs: ${runs[*]} ms)"
ms=$(median "${cached[@]}")
echo "inline, 100,001 steps, all cached:  ${ms} ms  = $(per_step "$ms" 100001) µs/step   (runs: ${cached[*]} ms)"

settle
runs=()
for i in $(seq "$REPS"); do runs+=("$(timed "$SCILOOP" validate d1m.xml)"); done
peak=$( { /usr/bin/time -f "%M" "$SCILOOP" validate d1m.xml >/dev/null; } 2>&1 | tail -1)
echo "plan only, 1,000,001 steps:         $(median "${runs[@]}") ms, peak RSS $((peak / 1024)) MiB   (bar <= 10000 ms; runs: ${runs[*]} ms)"


settle
runs=()
for i in $(seq "$REPS"); do
  in_ms=$(timed "$SCILOOP" run -q --executor inline --jobs 1 d1k.xml --workdir "w1k-inline-$i")
  lo_ms=$(timed "$SCILOOP" run -q --executor local --jobs 1 d1k.xml --workdir "w1k-local-$i")
  runs+=("$(awk -v a="$lo_ms" -v b="$in_ms" 'BEGIN {printf "%.3f", (a - b) / 1001}')")
done
echo "1,001 steps, one at a time: local executor overhead $(median "${runs[@]}") ms/step   (bar <= 2; runs: ${runs[*]} ms/step)"

venv="$BUILD/bench-venv"
if [ ! -x "$venv/bin/snakemake" ]; then
  python3 -m venv "$venv" && "$venv/bin/pip" install -q snakemake >/dev/null
fi
mkdir -p smk && mv Snakefile smk/
settle
smk_ms=$(cd smk && timed "$venv/bin/snakemake" --dry-run --cores 1 --quiet)
our_ms=$(timed "$SCILOOP" run --dry-run d10k.xml)
[ "$our_ms" -gt 0 ] || our_ms=1
echo "dry run, 10,001 steps: snakemake $("$venv/bin/snakemake" --version) ${smk_ms} ms, sciloop ${our_ms} ms: sciloop is $(awk -v a="$smk_ms" -v b="$our_ms" 'BEGIN {printf "%.0f", a / b}')x faster   (goal >= 100x)"

settle
# steps that write a file each: what the file system adds (last: their write-back would slow
# whatever came after)
ms=$(timed "$SCILOOP" run -q --executor inline --jobs "$(nproc)" t100k.xml --workdir t100k)
echo "inline, 100,001 steps, a file each: ${ms} ms  = $(awk -v ms="$ms" 'BEGIN {printf "%.1f", ms * 1000 / 100001}') µs/step   (testkit.touch)"

cc -O2 -o fs_floor "$HERE/fs_floor.c"
mkdir floor
floor=$(./fs_floor "$WORK/floor" 100000)
echo "file-system floor here (create, write, stat, read, rename one small file): ${floor} µs/file"
