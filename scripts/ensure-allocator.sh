#!/usr/bin/env bash
# Makes sure jemalloc is installed: libtorch's large temporary tensors, freed and re-allocated every step, go
# through mmap/munmap with glibc's malloc (millions of page faults: a quarter of GAN-training CPU time in the
# kernel); jemalloc keeps and reuses them (measured in docs/benchmarks.md). The launcher preloads it.
# Optional: when it cannot be installed here it says so and the tool runs with glibc's malloc.
# Idempotent; quick (no apt call) when the library is there. Prints the library path on stdout, or nothing.
set -euo pipefail
say() { echo "xraysynth setup: $*" >&2; }

find_lib() {
  local p
  for p in /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/aarch64-linux-gnu/libjemalloc.so.2 \
           /usr/lib64/libjemalloc.so.2 /usr/lib/libjemalloc.so.2; do
    [ -e "$p" ] && { echo "$p"; return 0; }
  done
  ldconfig -p 2>/dev/null | awk '/libjemalloc\.so\.2 /{print $NF; exit}'
}

lib=$(find_lib || true)
if [ -n "$lib" ]; then echo "$lib"; exit 0; fi
[ "$(uname -s)" = "Linux" ] || exit 0

. /etc/os-release 2>/dev/null || true
case " ${ID:-} ${ID_LIKE:-} " in
  *" debian "*|*" ubuntu "*) ;;
  *) say "jemalloc not found; running with glibc malloc (slower on CPU). fix: install jemalloc (libjemalloc.so.2)."; exit 0 ;;
esac
if [ "$(id -u)" != "0" ]; then
  say "jemalloc not found; running with glibc malloc (slower on CPU). fix: 'sudo apt-get install libjemalloc2' once."
  exit 0
fi
say "installing libjemalloc2 with apt (a faster allocator for libtorch on CPU)..."
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq -o Dpkg::Use-Pty=0 libjemalloc2 >/dev/null 2>&1; then
  apt-get update -qq -o Dpkg::Use-Pty=0 >/dev/null 2>&1 || true
  apt-get install -y -qq -o Dpkg::Use-Pty=0 libjemalloc2 >/dev/null 2>&1 || { say "could not install libjemalloc2; running with glibc malloc."; exit 0; }
fi
lib=$(find_lib || true)
[ -n "$lib" ] && { say "installed $lib"; echo "$lib"; }
exit 0
