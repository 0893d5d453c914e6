# Shared by the cli_*_test.sh scripts (sourced). ctest sets SLUICE_BIN,
# SLUICE_BUILD_DIR and SLUICE_SOURCE_DIR.
set -euo pipefail
: "${SLUICE_BIN:?SLUICE_BIN is not set (run through ctest)}"
: "${SLUICE_BUILD_DIR:?SLUICE_BUILD_DIR is not set}"
: "${SLUICE_SOURCE_DIR:?SLUICE_SOURCE_DIR is not set}"

TEST_PLUGINS="$SLUICE_BUILD_DIR/test-plugins"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-cli-test.XXXXXX")
STARTED_PIDS=()

cleanup() {
  for pid in "${STARTED_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# wait_for SECONDS COMMAND...: polls COMMAND until it succeeds; false at the deadline.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# wait_exit PID SECONDS: waits for a child of this shell to exit and sets EXIT_CODE
# ("timeout" when it had to be killed at the deadline).
wait_exit() {
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      kill -KILL "$pid" 2>/dev/null || true
      EXIT_CODE=timeout
      return 0
    fi
    sleep 0.05
  done
  EXIT_CODE=0
  wait "$pid" || EXIT_CODE=$?
}

# admin_address LOGFILE: the host:port the daemon logged for its admin endpoint.
admin_address() {
  sed -n 's|.*admin endpoint on http://\([^ ]*\).*|\1|p' "$1" | head -n 1
}
