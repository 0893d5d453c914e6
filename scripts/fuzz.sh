#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz/ (clang, ASan+UBSan, coverage-guided).
#   scripts/fuzz.sh build                      configure and build them in $SLUICE_FUZZ_DIR (build-fuzz)
#   scripts/fuzz.sh run NAME [libFuzzer args]  fuzz one target from its seed corpus
#   scripts/fuzz.sh list                       the target names
# `run` keeps what it finds in $SLUICE_FUZZ_DIR/corpus/NAME (the committed seeds in
# tests/fuzz/corpus/NAME are read, never written) and writes a crashing input to
# $SLUICE_FUZZ_DIR/crashes/NAME/. Examples:
#   scripts/fuzz.sh run http1 -max_total_time=60        # what CI does for each target
#   scripts/fuzz.sh run http1 -runs=10000000 -jobs=2    # the long run by hand
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dir=${SLUICE_FUZZ_DIR:-$root/build-fuzz}
cmd=${1:-}
shift || true
targets() { sed -n 's/^sluice_add_fuzzer(\([a-z0-9_]*\).*/\1/p' tests/fuzz/CMakeLists.txt; }
case "$cmd" in
  build)
    # One build at a time: the fuzz tests of a ctest run share this tree.
    exec 9>"$dir.lock"
    flock 9
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DSLUICE_FUZZ=ON >/dev/null
    cmake --build "$dir" --target fuzzers -j "${SLUICE_JOBS:-$(nproc)}"
    ;;
  run)
    name=${1:?usage: scripts/fuzz.sh run NAME [libFuzzer args]}
    shift
    bin="$dir/fuzz/fuzz_$name"
    [ -x "$bin" ] || { echo "fuzz.sh: $bin is not built (scripts/fuzz.sh build)" >&2; exit 2; }
    mkdir -p "$dir/corpus/$name" "$dir/crashes/$name"
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
    dict=()
    [ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
    exec "$bin" -artifact_prefix="$dir/crashes/$name/" -print_final_stats=1 "${dict[@]}" "$@" \
      "$dir/corpus/$name" "tests/fuzz/corpus/$name"
    ;;
  list)
    targets
    ;;
  *)
    echo "usage: scripts/fuzz.sh build | run NAME [libFuzzer args] | list" >&2
    exit 2
    ;;
esac
