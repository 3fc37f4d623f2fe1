#!/usr/bin/env bash
# Makes sure the C++ runtime is new enough for TorchSharp 0.107 (libLibTorchSharp.so needs GLIBCXX_3.4.32,
# i.e. GCC 13's libstdc++). Debian 12 ships GLIBCXX_3.4.30; the fix is libstdc++6 from Debian 13 (trixie),
# pinned low so nothing else upgrades. Idempotent; quick (no apt call) when nothing is needed.
# Exit codes: 0 ready, 2 cannot fix here (the message says what to do).
set -euo pipefail

NEEDED=GLIBCXX_3.4.32
say() { echo "xraysynth setup: $*" >&2; }

libstdcxx_path() {
  local p
  for p in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/aarch64-linux-gnu/libstdc++.so.6 \
           /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6; do
    [ -e "$p" ] && { echo "$p"; return 0; }
  done
  ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 /{print $NF; exit}'
}

has_symbol_version() {
  local lib=$1
  # grep -a on the binary is enough: the version names are stored as plain strings.
  grep -aq "$NEEDED" "$lib" 2>/dev/null
}

lib=$(libstdcxx_path || true)
if [ -n "$lib" ] && has_symbol_version "$lib"; then
  exit 0
fi

if [ "$(uname -s)" != "Linux" ]; then
  exit 0   # macOS/Windows use their own TorchSharp natives; nothing to do.
fi

say "TorchSharp needs $NEEDED in libstdc++ (GCC 13 or newer); ${lib:-no libstdc++} lacks it."
. /etc/os-release 2>/dev/null || true
if [ "${ID:-}" != "debian" ] || [ "${VERSION_ID:-}" != "12" ]; then
  say "automatic fix only on Debian 12 (this is ${PRETTY_NAME:-an unknown system})."
  say "fix: install libstdc++ from GCC 13+ (Ubuntu 24.04, Debian 13 and Fedora 39+ have it), then retry."
  exit 2
fi
if [ "$(id -u)" != "0" ]; then
  say "the fix installs libstdc++6 from Debian 13 (trixie) with apt and needs root."
  say "fix: run 'sudo scripts/ensure-libstdcxx.sh' once, then retry."
  exit 2
fi

# Take the mirror from the machine's own apt sources, never a hard-coded host.
uri=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  uri=$(awk '/^URIs:/{for(i=2;i<=NF;i++) if ($i !~ /security/) {print $i; exit}}' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
  uri=$(awk '$1=="deb" && $0 ~ /bookworm/ && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^(https?|file):/) {print $i; exit}}' /etc/apt/sources.list)
fi
if [ -z "$uri" ]; then
  say "found no Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list."
  say "fix: add a 'trixie' apt source for your mirror and run 'apt-get install -t trixie libstdc++6'."
  exit 2
fi

say "adding apt source $uri trixie (pinned at priority 100) and installing libstdc++6 from it..."
cat > /etc/apt/sources.list.d/xraysynth-trixie.sources <<SRC
Types: deb
URIs: $uri
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
cat > /etc/apt/preferences.d/xraysynth-trixie <<PIN
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq -o Dpkg::Use-Pty=0 >/dev/null
apt-get install -y -qq -t trixie -o Dpkg::Use-Pty=0 libstdc++6 >/dev/null

lib=$(libstdcxx_path || true)
if [ -n "$lib" ] && has_symbol_version "$lib"; then
  say "done: $lib now provides $NEEDED."
  exit 0
fi
say "installed libstdc++6 from trixie, but ${lib:-libstdc++} still lacks $NEEDED."
say "fix: check 'apt-cache policy libstdc++6' and install a GCC 13+ libstdc++ by hand."
exit 2
