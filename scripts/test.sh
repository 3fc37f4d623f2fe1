#!/usr/bin/env bash
# Runs the whole test suite (what CI runs): machine check, build, xunit.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
"$root/scripts/ensure-libstdcxx.sh"
exec dotnet test "$root/XraySynth.sln" -c Release --nologo "$@"
