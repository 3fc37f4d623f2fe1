#!/usr/bin/env bash
# Finds (and on Debian, installs once) gperftools' tcmalloc, which the launcher preloads for the torch process:
# libtorch allocates and frees large CPU buffers every step, and glibc malloc maps and unmaps them each time, so a
# third of GAN-training CPU time went to page faults in the kernel. With tcmalloc the buffers are reused (64 px GAN
# training: 1 M instead of 76 M page faults, system time 8 s instead of 279 s; docs/benchmarks.md).
# It is an optimisation, never a requirement: when it cannot be installed XraySynth runs on glibc malloc, and this
# says so once (a marker in .build/). Prints the library's path on stdout when there is one. Always exits 0.
set -uo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
say() { echo "xraysynth setup: $*" >&2; }

find_lib() {
  local p
  for p in /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 /usr/lib/aarch64-linux-gnu/libtcmalloc_minimal.so.4 \
           /usr/lib64/libtcmalloc_minimal.so.4 /usr/lib/libtcmalloc_minimal.so.4; do
    [ -e "$p" ] && { echo "$p"; return 0; }
  done
  ldconfig -p 2>/dev/null | awk '/libtcmalloc_minimal\.so\.4 /{print $NF; found=1; exit} END{exit !found}'
}

if lib=$(find_lib); then
  echo "$lib"
  exit 0
fi
[ "$(uname -s)" = "Linux" ] || exit 0
marker="$root/.build/no-tcmalloc"
[ -e "$marker" ] && exit 0
mkdir -p "$root/.build"

. /etc/os-release 2>/dev/null || true
if [ "${ID:-}" = "debian" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  say "installing libtcmalloc-minimal4 (tcmalloc, the CPU allocator the launcher preloads for torch)..."
  export DEBIAN_FRONTEND=noninteractive
  for attempt in 1 2; do
    # Debian 13 names the package libtcmalloc-minimal4t64 (the 64-bit time_t transition).
    for pkg in libtcmalloc-minimal4 libtcmalloc-minimal4t64; do
      apt-get install -y -qq -o Dpkg::Use-Pty=0 "$pkg" >/dev/null 2>&1 && break 2
    done
    [ "$attempt" = 1 ] && apt-get update -qq -o Dpkg::Use-Pty=0 >/dev/null 2>&1
  done
  if lib=$(find_lib); then
    say "done: $lib"
    echo "$lib"
    exit 0
  fi
fi
say "tcmalloc (libtcmalloc_minimal.so.4) is not installed, so torch runs on glibc malloc (slower on a CPU: more"
say "kernel time in page faults). fix: install it (Debian/Ubuntu: apt-get install libtcmalloc-minimal4), then rerun."
touch "$marker"
exit 0
