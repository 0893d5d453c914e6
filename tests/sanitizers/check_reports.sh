#!/usr/bin/env bash
# Runs one integration test of a sanitizer build and fails it when any process
# it started (sluice, sluice --daemon, the mock cluster helper) wrote a
# sanitizer report, whatever that process's exit code and whether or not the
# test looked at it: a report goes to a file per process (log_path), not to
# a stderr the test may discard or a child nobody waits for.
# UBSan's reports too: in the ASan+UBSan build they would ignore log_path and go to
# stderr, so every executable of that build links tests/sanitizers/ubsan_log_path.c,
# which points libubsan at UBSAN_OPTIONS' log_path.
# tests/sanitizers/canary_test.sh checks that this script does fail a test.
#   check_reports.sh REPORT_DIR COMMAND...
set -uo pipefail
dir=$1
shift
rm -rf "$dir"
mkdir -p "$dir"
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS TSAN_OPTIONS; do
  export "$v=${!v:+${!v}:}log_path=$dir/report"
done
"$@"
rc=$?
shopt -s nullglob
reports=("$dir"/report.*)
if [ "${#reports[@]}" -gt 0 ]; then
  for r in "${reports[@]}"; do
    echo "--- sanitizer report $r"
    cat "$r"
  done
  echo "FAIL: ${#reports[@]} sanitizer report(s) from processes of this test (exit code of the test: $rc)"
  exit 1
fi
exit "$rc"
