#!/usr/bin/env bash
# SIGTERM during generate -> slow sink: the daemon drains and exits 0, and
# every event the source saw acknowledged is in the sink's (fsynced) file.
source "$(dirname "$0")/cli_lib.sh"
cd "$WORK"
cat > p.yaml <<YAML
pipelines:
  drain:
    source: {type: generate, count: 1000000}
    sinks:
      - type: slow
        path: $WORK/out.txt
        delay: 20ms
        batch_max_events: 50
    queue_max_events: 500
    shutdown_timeout: 20s
YAML

SLUICE_ADMIN_LISTEN=off "$SLUICE_BIN" run --plugin-dir "$TEST_PLUGINS/slow" p.yaml 2>log.txt &
pid=$!
STARTED_PIDS+=("$pid")
some_written() { [ -s out.txt ] && [ "$(wc -l <out.txt)" -ge 200 ]; }
wait_for 20 some_written || fail "the slow sink wrote nothing: $(tail -20 log.txt)"
kill -TERM "$pid"
wait_exit "$pid" 30
[ "$EXIT_CODE" = 0 ] || fail "exit code after SIGTERM: $EXIT_CODE; log: $(tail -20 log.txt)"

acked=$(sed -n 's/.*acknowledged \([0-9][0-9]*\).*/\1/p' log.txt | tail -n 1)
[ -n "$acked" ] || fail "the generate source logged no 'acknowledged N': $(tail -20 log.txt)"
[ "$acked" -gt 0 ] || fail "nothing was acknowledged"
lines=$(wc -l <out.txt)
distinct=$(sort -u out.txt | wc -l)
[ "$distinct" -ge "$acked" ] ||
  fail "$acked events acknowledged but only $distinct distinct events in the sink's file ($lines lines)"
[ "$acked" -lt 1000000 ] || fail "the run was not interrupted: every event was generated before SIGTERM"
echo "ok: SIGTERM lost none of $acked acknowledged events ($lines lines written)"
