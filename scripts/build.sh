#!/usr/bin/env bash
# Configures and builds one build tree.
#   scripts/build.sh [BUILD_DIR] [extra cmake args...]
# BUILD_DIR defaults to ./build (RelWithDebInfo). SLUICE_SANITIZE=address|thread
# in the environment selects a sanitizer build.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
args=(-G Ninja -DCMAKE_BUILD_TYPE=${SLUICE_BUILD_TYPE:-RelWithDebInfo})
if [ -z "${SLUICE_SANITIZE:-}" ]; then
  args+=(-DSLUICE_WERROR=ON)
else
  # No -Werror here: GCC 12 gives false -Wmaybe-uninitialized inside libstdc++ under -fsanitize.
  # -g1 (line tables and functions, inlined frames included) is all sanitizer reports use,
  # and compiles about a third faster than -g.
  args+=(-DSLUICE_SANITIZE="$SLUICE_SANITIZE" -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1"
         "-DCMAKE_C_FLAGS_DEBUG=-O1 -g1")
fi
cmake -S . -B "$dir" "${args[@]}" "$@" >/dev/null
cmake --build "$dir" -j "${SLUICE_JOBS:-$(nproc)}"
