#!/usr/bin/env bash
# What libtorch's OpenMP wait policy does under a competing load (figures: docs/benchmarks.md, "Threads").
# A fixed torch workload - StyleGAN2-ADA training (the demo's small preset), 32 px, batch 16, KIMG kimg, --threads THREADS - run to the
# end under each condition, interleaved REPS times: competitor none | `yes` busy on core 0; OMP_WAIT_POLICY unset
# (GNU OpenMP's default: spin, then sleep) | ACTIVE | PASSIVE | unset with GOMP_SPINCOUNT=10000. One line per run:
# wall and CPU seconds, the sec/kimg the trainer reports, and the load average at the start.
# Usage: scripts/bench-omp-wait.sh [WORKDIR]   (env: REPS=2 KIMG=0.2 THREADS=2 CFG=small)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
work=${1:-$(mktemp -d /tmp/xraysynth-omp-XXXXXX)}
reps=${REPS:-2} kimg=${KIMG:-0.2} threads=${THREADS:-2} cfg=${CFG:-small}
"$root/xraysynth" --help > /dev/null   # builds when needed (not timed)
x=(dotnet "$root/.build/cli/xraysynth.dll")
if [ ! -f "$work/prep/gan-32.zip" ]; then
  "${x[@]}" phantoms --out "$work/ph" --patients 120 --max-side 128 --seed 0 > /dev/null
  "${x[@]}" prepare --mura "$work/ph" --out "$work/prep" --resolution 32 --classifier-size 32 --seed 0 > /dev/null
fi
echo "# $(nproc) CPUs, workload: gan train --cfg $cfg --cond, 32 px, batch 16, $kimg kimg, --threads $threads"
for rep in $(seq 1 "$reps"); do
  for competitor in none yes; do
    for policy in unset ACTIVE PASSIVE spin10k; do
      envs=(env -u OMP_WAIT_POLICY -u OMP_NUM_THREADS -u MKL_NUM_THREADS -u GOMP_SPINCOUNT)
      case $policy in
        ACTIVE|PASSIVE) envs+=(OMP_WAIT_POLICY=$policy) ;;
        spin10k) envs+=(GOMP_SPINCOUNT=10000) ;;
      esac
      yes_pid=""
      if [ "$competitor" = yes ]; then taskset -c 0 yes > /dev/null & yes_pid=$!; fi
      load=$(cut -d' ' -f1 /proc/loadavg)
      rm -rf "$work/runs"
      /usr/bin/time -o "$work/time.txt" -f "%e %U %S" "${envs[@]}" "${x[@]}" gan train --data "$work/prep/gan-32.zip" \
        --out "$work/runs" --cfg "$cfg" --cond --kimg "$kimg" --tick "$(echo "$kimg / 4" | bc -l)" --snap 100000 --batch 16 \
        --device cpu --threads "$threads" > "$work/last.log" 2>&1 || true
      [ -n "$yes_pid" ] && kill "$yes_pid"
      read -r wall user sys < "$work/time.txt"
      spk=$(grep -o 'done: .*' "$work/last.log" | grep -o '[0-9.]* sec/kimg' | cut -d' ' -f1 || true)
      echo "rep $rep  competitor $competitor  policy $policy  load $load  wall ${wall}s  cpu $(echo "$user + $sys" | bc)s  sec/kimg ${spk:-?}"
    done
  done
done
