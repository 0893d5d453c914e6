#!/usr/bin/env bash
# `sluice run`'s exit status is what a supervisor (systemd's Restart=on-failure) acts on:
# non-zero when every pipeline failed (the only source cannot bind its port), or when a
# finite run delivered fewer events than it read (with the counts in the log); 0 when a
# finite run delivered everything.
source "$(dirname "$0")/cli_lib.sh"
cd "$WORK"
export SLUICE_ADMIN_LISTEN=off

# 1. The only source fails: its port is taken (by a listener of this test, on loopback).
python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(120)  # killed by the test at exit; gone by itself at the latest after this
' >port.txt 2>/dev/null &
STARTED_PIDS+=("$!")
wait_for 10 test -s port.txt || fail "the port holder did not start"
port=$(cat port.txt)
cat > taken.yaml <<YAML
pipelines:
  ingest:
    source: {type: http, listen: "127.0.0.1:$port", routes: [{method: POST, path: /in}]}
    sinks: [{type: null}]
YAML
rc=0
timeout 60 "$SLUICE_BIN" run taken.yaml 2>taken-log.txt || rc=$?
[ "$rc" = 1 ] || fail "port taken: exit $rc, expected 1; log: $(cat taken-log.txt)"
grep -q "every pipeline failed (source failed in 'ingest')" taken-log.txt ||
  fail "port taken: the log does not say every pipeline failed: $(cat taken-log.txt)"

# 2. A finite run whose sink cannot write (a full device, fsync: never so only write() tells):
#    every event ends in the dead-letter file, none delivered.
cat > full.yaml <<'YAML'
pipelines:
  full:
    source: {type: generate, count: 5, template: {n: "{seq}"}}
    sinks:
      - type: file
        path: /dev/full
        format: json
        fsync: never
        retry_max_attempts: 1
        retry_initial_backoff: 1ms
YAML
rc=0
timeout 60 "$SLUICE_BIN" run full.yaml 2>full-log.txt || rc=$?
[ "$rc" = 1 ] || fail "/dev/full: exit $rc, expected 1; log: $(cat full-log.txt)"
grep -q "read 5 event(s) but not all were delivered: 5 dead-lettered, 0 failed" full-log.txt ||
  fail "/dev/full: the log lacks the counts: $(cat full-log.txt)"
n=$(wc -l <data/dead-letter/full.jsonl)
[ "$n" = 5 ] || fail "/dev/full: $n lines in the default dead-letter file, expected 5"

# 3. The same run to a real file: everything delivered, exit 0.
sed 's|/dev/full|out.jsonl|' full.yaml >ok.yaml
rc=0
timeout 60 "$SLUICE_BIN" run ok.yaml 2>ok-log.txt || rc=$?
[ "$rc" = 0 ] || fail "finite run: exit $rc, expected 0; log: $(cat ok-log.txt)"
grep -q "read 5 event(s), all delivered" ok-log.txt || fail "finite run: no count in the log: $(cat ok-log.txt)"
[ "$(wc -l <out.jsonl)" = 5 ] || fail "finite run: $(wc -l <out.jsonl) lines written, expected 5"
echo "ok: exit status 1 when every pipeline failed or events were not delivered, 0 otherwise"
