#!/usr/bin/env bash
# Run XraySynth on a CUDA machine that has PyTorch but no .NET (see docs/gpu.md).
#   scripts/gpu-run.sh pack            here: publish self-contained for linux-x64 without the CPU libtorch and pack it
#                                      into .gpu/xraysynth-linux-x64.tar.xz (~30 MB; .gpu/ is git-ignored)
#   scripts/gpu-run.sh run VERB ...    there: unpack once, point XraySynth at PyTorch's CUDA libtorch, run the verb
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
pack="$root/.gpu/xraysynth-linux-x64.tar.xz"

case "${1:-}" in
  pack)
    out="$root/.gpu/publish"
    rm -rf "$out"
    echo "gpu-run: publishing self-contained linux-x64 (TorchSharp without CPU natives)..." >&2
    dotnet publish "$root/src/XraySynth.Cli/XraySynth.Cli.csproj" -c Release -r linux-x64 --self-contained \
      -p:XraySynthCpuNatives=false -o "$out" -nologo -v quiet
    # libtorch comes from the GPU machine's PyTorch: drop any copy that slipped in.
    find "$out" -name 'libtorch*.so*' -o -name 'libc10*.so*' | xargs -r rm -f
    tar -C "$out" -cJf "$pack" .
    echo "gpu-run: $(du -h "$pack" | cut -f1) -> $pack" >&2
    ;;
  run)
    shift
    dir="$root/.gpu/xraysynth"
    if [ ! -x "$dir/xraysynth" ] || [ "$pack" -nt "$dir/xraysynth" ]; then
      [ -f "$pack" ] || { echo "gpu-run: $pack missing; run 'scripts/gpu-run.sh pack' on a machine with .NET first." >&2; exit 2; }
      rm -rf "$dir" && mkdir -p "$dir" && tar -C "$dir" -xJf "$pack"
    fi
    lib="${XRAYSYNTH_LIBTORCH:-$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))' 2>/dev/null || true)}"
    if [ -z "$lib" ] || [ ! -f "$lib/libtorch_cuda.so" ]; then
      echo "gpu-run: no CUDA libtorch found (python3 -c 'import torch' failed or has no libtorch_cuda.so). fix: set XRAYSYNTH_LIBTORCH to torch/lib of a CUDA PyTorch." >&2
      exit 2
    fi
    export XRAYSYNTH_LIBTORCH="$lib"
    export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    exec "$dir/xraysynth" "$@"
    ;;
  *)
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
