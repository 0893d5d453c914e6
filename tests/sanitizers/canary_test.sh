#!/usr/bin/env bash
# The sanitizer suites can fail: a child process that hits a sanitizer finding, and whose exit
# code the test ignores, still makes check_reports.sh fail the test and show the report.
#   canary_test.sh CANARY_BINARY REPORT_DIR
set -uo pipefail
here=$(dirname "$0")
out=$(bash "$here/check_reports.sh" "$2" bash -c "'$1' >/dev/null 2>&1; exit 0" 2>&1)
rc=$?
[ "$rc" = 1 ] || { echo "FAIL: check_reports.sh exited $rc around a canary finding:"; echo "$out"; exit 1; }
grep -Eq "ERROR: AddressSanitizer|WARNING: ThreadSanitizer" <<<"$out" ||
  { echo "FAIL: the canary's report was not shown:"; echo "$out"; exit 1; }
echo "ok: a sanitizer report from an unchecked child process fails its test"
