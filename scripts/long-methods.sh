#!/usr/bin/env bash
# Prints the longest methods (lines, branch points) and files of src/XraySynth.Core, as the method-length rule
# (tests/XraySynth.Tests/ArchitectureRules/MethodLengthTests.cs) measures them. Pass --no-build after a build.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
dotnet test "$root/XraySynth.sln" -c Release --nologo "$@" \
  --filter "FullyQualifiedName~ArchitectureRules.MethodLengthTests.CoreMethods_" --logger "console;verbosity=detailed" \
  | sed -n '/^ *longest \(methods\|files\)/,/^ *$/p' | sed 's/^ //'
