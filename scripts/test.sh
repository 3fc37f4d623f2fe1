#!/usr/bin/env bash
# Runs the whole test suite (what CI runs): machine check, build, xunit.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
"$root/scripts/ensure-libstdcxx.sh"
# The suite runs with the allocator users get from ./xraysynth (tcmalloc where it can be installed).
. "$root/scripts/use-tcmalloc.sh"
exec dotnet test "$root/XraySynth.sln" -c Release --nologo "$@"
