#!/usr/bin/env bash
# Runs the whole test suite (what CI runs): machine check, build, xunit.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
"$root/scripts/ensure-libstdcxx.sh"
"$root/scripts/ensure-allocator.sh" >/dev/null   # installs what the launcher preloads (the tests run without it)
exec dotnet test "$root/XraySynth.sln" -c Release --nologo "$@"
