#!/usr/bin/env bash
# Builds sluice and runs every test: the normal build, then the whole suite
# again under ASan+UBSan and under TSan (SLUICE_SANITIZERS=0 skips those).
# Every suite gates: the script fails if any build or test of any suite fails.
# Each suite ends with ctest's summary line and its build and test times.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# halt_on_error / abort_on_error: the first report ends the process with a failure
# (gtest executables fail their test; the integration tests' processes are also caught
# by tests/sanitizers/check_reports.sh, which fails the test on any report file).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0"
export LSAN_OPTIONS="suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="suppressions=$root/tests/sanitizers/tsan.supp:halt_on_error=1:second_deadlock_stack=1"
jobs=${SLUICE_TEST_JOBS:-2}
status=0
summary=()
passed=0
failed=0

# A suite that runs fewer tests than its minimum fails: a glob that stopped matching, a test
# executable that lists nothing, or a discovery that timed out would otherwise pass quietly.
# The minimums sit a little below the counts of 2026-12-02 (default 441, sanitizers 431): raise them
# as the suite grows.
run_suite() {  # name build_dir budget_seconds min_tests
  local name=$1 dir=$2 budget=$3 min=$4
  echo "=== [$name] build ($dir)"
  local t0=$SECONDS
  if ! bash scripts/build.sh "$dir"; then
    echo "=== [$name] BUILD FAILED"
    summary+=("$name: build failed")
    status=1
    return
  fi
  local t1=$SECONDS
  echo "=== [$name] ctest"
  local log="$dir/ctest.log"
  timeout "$budget" ctest --test-dir "$dir" -j "$jobs" --output-on-failure --no-tests=error --timeout 300 2>&1 |
    tee "$log"
  local rc=${PIPESTATUS[0]}
  local t2=$SECONDS
  [ "$rc" -eq 0 ] || status=1
  [ "$rc" -ne 124 ] || echo "=== [$name] ctest stopped after its budget of $budget s"
  local line
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1)
  summary+=("$name: ${line:-no ctest summary (exit $rc)}; build $((t1 - t0)) s, tests $((t2 - t1)) s")
  if [ -n "$line" ]; then
    local f t
    f=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    t=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
    passed=$((passed + t - f))
    failed=$((failed + f))
    if [ "$t" -lt "$min" ]; then
      echo "=== [$name] only $t tests ran, fewer than the suite's minimum of $min"
      summary+=("$name: only $t tests ran (minimum $min)")
      status=1
    fi
  else
    status=1
  fi
}

# Each suite's tests take a minute or two on a 2-core machine, the normal one about ten (it also
# builds the fuzz targets with clang and runs each for 60 s); the budgets only stop a hung run
# early enough that three builds and three suites stay within CI's 90 minutes.
run_suite default build 1500 500
if [ "${SLUICE_SANITIZERS:-1}" = "1" ]; then
  SLUICE_SANITIZE=address run_suite asan build-asan 900 488
  SLUICE_SANITIZE=thread run_suite tsan build-tsan 900 488
fi
echo "=== summary"
printf '%s\n' "${summary[@]}"
# The closing line counts every suite's tests, in ctest's own summary form; a build that
# failed (no tests run) counts as one failed test, so the line never reads 100% then.
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
total=$((passed + failed))
pct=0
[ "$total" -eq 0 ] || pct=$((100 * passed / total))
echo "all suites: $pct% tests passed, $failed tests failed out of $total"
exit $status
