#!/usr/bin/env bash
# The sanitizer suites can fail: a child process that hits a sanitizer finding, and whose exit
# code the test ignores, still makes check_reports.sh fail the test and show the report
# (in the ASan+UBSan build, for a UBSan finding too).
#   canary_test.sh CANARY_BINARY REPORT_DIR [SLUICE_SANITIZE]
set -uo pipefail
here=$(dirname "$0")
check_canary() {  # what ARGS...: check_reports.sh must fail around the canary run with ARGS
  local what=$1
  shift
  local out rc=0
  out=$(bash "$here/check_reports.sh" "$report_dir/$what" bash -c "'$canary' $* >/dev/null 2>&1; exit 0" 2>&1) || rc=$?
  [ "$rc" = 1 ] || { echo "FAIL: check_reports.sh exited $rc around a canary finding ($what):"; echo "$out"; exit 1; }
  grep -Eq "$pattern" <<<"$out" || { echo "FAIL: the canary's report ($what) was not shown:"; echo "$out"; exit 1; }
  echo "ok: a $what report from an unchecked child process fails its test"
}
canary=$1
report_dir=$2
sanitizer=${3:-}
pattern="ERROR: AddressSanitizer|WARNING: ThreadSanitizer"
check_canary sanitizer
if [ "$sanitizer" = address ]; then  # ASan+UBSan: UBSan's reports too
  pattern="runtime error: signed integer overflow"
  check_canary ubsan ub
fi
