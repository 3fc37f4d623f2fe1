#!/usr/bin/env bash
# The GPU study in one script (docs/gpu.md): every measurement next to its reference, in one run, outputs under $OUT.
#   scripts/gpu-study.sh                 on the GPU machine (needs .gpu/xraysynth-linux-x64.tar.xz from
#                                        'scripts/gpu-run.sh pack' and the official stylegan3 code in .gpu/ref/stylegan3)
#   REHEARSE=1 scripts/gpu-study.sh      here, on a CPU, with tiny sizes and ./xraysynth: the same steps, so the GPU run
#                                        cannot fail on a typo (references that need CUDA are recorded as skipped)
# Steps (each with its own time limit; a failed step is recorded and the next one runs):
#   env; bench gan-train (cfg auto 256², batch 16, 1 ch, ADA) | official stylegan3 --cfg=stylegan2, same settings;
#   bench generate (256², batch 64) | official gen_images.py (one image per forward);
#   bench classifier-train (DenseNet-169 224², batch 32) | torchvision in PyTorch eager (scripts/reference/);
#   a >= 30 kimg 256² run on phantom data with FID (builtin detector) at every snapshot, its fakes grids.
# GPU memory is sampled with nvidia-smi every 200 ms during each step; summary.tsv has one line per step.
set -uo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
OUT=${OUT:-$root/gpu-out}
mkdir -p "$OUT"
start_all=$(date +%s)
budget=${BUDGET_S:-560}          # the whole script, seconds (a device command may run at most 600 s)

if [ "${REHEARSE:-0}" = 1 ]; then
  xs=("$root/xraysynth"); device=cpu; scale=6
  run_res=32; run_cfg=smoke; run_kimg=${RUN_KIMG:-1}; run_tick=0.25; run_snap=2; run_patients=60
  gan_bench=(--resolution 32 --batch 4 --steps 2); gen_bench=(--resolution 32 --batch 4 --steps 1)
  cls_bench=(--batch 2 --steps 1)
  ref_cls=(--batch 2 --steps 1 --size 224); ref_gen_counts=(2 4); ref_kimg=1
  export OMP_WAIT_POLICY=PASSIVE
  py=${PYTHON:-/usr/bin/python3}    # Debian's python3-torch (a python3 earlier on PATH may lack torch)
else
  xs=("$root/scripts/gpu-run.sh" run); device=cuda; scale=1
  run_res=256; run_cfg=auto; run_kimg=${RUN_KIMG:-30}; run_tick=4; run_snap=2; run_patients=600
  gan_bench=(--batch 16 --steps 10); gen_bench=(--batch 64 --steps 10); cls_bench=(--batch 32 --steps 10)
  ref_cls=(--batch 32 --steps 10 --size 224); ref_gen_counts=(10 138); ref_kimg=4
  py=${PYTHON:-python3}
fi
ref="$root/.gpu/ref/stylegan3"
printf 'step\texit\tseconds\tpeak_gpu_mem_mb\n' > "$OUT/summary.tsv"

smi_start() {
  smi_pid=""
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$OUT/smi-$1.csv" 2>/dev/null &
    smi_pid=$!
  fi
}
smi_stop() {
  [ -n "$smi_pid" ] && { kill "$smi_pid" 2>/dev/null; wait "$smi_pid" 2>/dev/null; }
  if [ -s "$OUT/smi-$1.csv" ]; then sort -n "$OUT/smi-$1.csv" | tail -1 | tr -d ' '; else echo n/a; fi
}

# step NAME LIMIT_S CMD...: runs CMD with stdout+stderr in $OUT/NAME.log under a time limit; never stops the script.
step() {
  local name=$1 limit=$(( $2 * scale )) t0 rc peak left
  shift 2
  left=$(( budget * scale - ($(date +%s) - start_all) ))
  [ "$limit" -gt "$left" ] && limit=$left
  if [ "$limit" -le 5 ]; then
    printf '%s\tskipped (time budget spent)\t0\tn/a\n' "$name" >> "$OUT/summary.tsv"; return
  fi
  echo "gpu-study: $name (limit ${limit}s)" >&2
  t0=$(date +%s.%N)
  smi_start "$name"
  timeout --signal=TERM --kill-after=15 "$limit" "$@" > "$OUT/$name.log" 2>&1
  rc=$?
  peak=$(smi_stop "$name")
  printf '%s\t%s\t%.1f\t%s\n' "$name" "$rc" "$(echo "$(date +%s.%N) - $t0" | bc)" "$peak" >> "$OUT/summary.tsv"
  tail -3 "$OUT/$name.log" | sed "s/^/  $name: /" >&2
}
skip() { printf '%s\tskipped (%s)\t0\tn/a\n' "$1" "$2" >> "$OUT/summary.tsv"; echo "gpu-study: $1 skipped: $2" >&2; }
cuda_python() { "$py" -c 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; }

# 0. Here the launcher builds on first use: do it before any step is timed.
[ "${REHEARSE:-0}" = 1 ] && { "${xs[@]}" --help > "$OUT/build.log" 2>&1 || { cat "$OUT/build.log" >&2; exit 1; }; }

# 1. The machine.
step env 30 "${xs[@]}" env --device "$device"
{ nvidia-smi 2>/dev/null || echo "no nvidia-smi"; "$py" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())' 2>&1; } > "$OUT/machine.txt"

# 2. Phantom data for the long run and the reference trainer (not timed as a benchmark).
data="$OUT/data"
step phantoms 40 "${xs[@]}" phantoms --out "$data/mura" --patients "$run_patients" --max-side $(( run_res * 5 / 4 ))
step prepare 60 "${xs[@]}" prepare --mura "$data/mura" --out "$data/prep" --resolution "$run_res" --classifier-size 32 --val-fraction 0
zip="$data/prep/gan-$run_res.zip"

# 3. GAN training speed: ours, then the official stylegan3 (--cfg=stylegan2) at the same settings.
step bench-gan-train 90 "${xs[@]}" bench gan-train --device "$device" "${gan_bench[@]}" --json
if [ -d "$ref" ] && cuda_python; then
  bench_zip="$data/prep-256/gan-256.zip"
  [ -f "$bench_zip" ] || "${xs[@]}" prepare --mura "$data/mura" --out "$data/prep-256" --resolution 256 --classifier-size 32 \
    --val-fraction 0 > "$OUT/prepare-256.log" 2>&1
  # cfg auto at 256 on one GPU = stylegan3's stylegan2 config with cbase 16384, 2 mapping layers, gamma 0.8192, lr 0.0025.
  step ref-gan-train 150 "$py" "$ref/train.py" --outdir "$OUT/ref-runs" --cfg stylegan2 --data "$bench_zip" --gpus 1 \
    --batch 16 --gamma 0.8192 --cbase 16384 --map-depth 2 --glr 0.0025 --dlr 0.0025 --mirror 1 --aug ada \
    --metrics none --kimg "$ref_kimg" --tick 1 --snap 1000 --workers 2
else
  skip ref-gan-train "needs the official code in $ref and a CUDA PyTorch"
fi

# 4. Generation speed: ours batched, the official one image per forward (time difference of two seed counts).
step bench-generate 60 "${xs[@]}" bench generate --device "$device" "${gen_bench[@]}" --json
pkl=$(ls "$OUT"/ref-runs/*/network-snapshot-*.pkl 2>/dev/null | tail -1)
if [ -n "$pkl" ] && cuda_python; then
  for n in "${ref_gen_counts[@]}"; do
    step "ref-generate-$n" 60 "$py" "$ref/gen_images.py" --network "$pkl" --seeds "0-$(( n - 1 ))" --trunc 1 \
      --noise-mode const --outdir "$OUT/ref-gen-$n"
  done
else
  skip ref-generate "needs a network pickle from ref-gan-train"
fi

# 5. DenseNet-169 training speed: ours, then torchvision in PyTorch eager at the same precision.
step bench-classifier-train 60 "${xs[@]}" bench classifier-train --device "$device" "${cls_bench[@]}" --json
step ref-classifier-train 60 "$py" "$root/scripts/reference/densenet_train_bench.py" --device "$device" "${ref_cls[@]}"

# 6. The long run: >= 30 kimg at 256² (GPU), FID at every snapshot, fakes grids. Gets whatever time is left.
step gan-run 600 "${xs[@]}" gan train --data "$zip" --runs "$OUT/runs" --cfg "$run_cfg" --kimg "$run_kimg" \
  --tick "$run_tick" --snap "$run_snap" --mirror --metrics fid --metrics-detector builtin --device "$device"
run_dir=$(ls -d "$OUT"/runs/*/ 2>/dev/null | tail -1)
if [ -n "$run_dir" ]; then
  # Keep the figures and records; drop the network snapshots (large) from what comes back.
  mkdir -p "$OUT/run"
  cp "$run_dir"/*.png "$run_dir"/*.jsonl "$run_dir"/*.json "$run_dir"/log.txt "$OUT/run/" 2>/dev/null
  rm -rf "$OUT/runs"
fi
rm -rf "$data" "$OUT"/ref-gen-* "$OUT"/ref-runs/*/*.pkl
echo "gpu-study: done in $(( $(date +%s) - start_all )) s; summary:" >&2
column -t -s $'\t' "$OUT/summary.tsv" >&2
