#!/usr/bin/env bash
# The admin endpoint of a running daemon: /health, /ready, /metrics, /status;
# then the same daemon started with --daemon and --pidfile (relative paths).
source "$(dirname "$0")/cli_lib.sh"
cd "$WORK"
cat > p.yaml <<YAML
pipelines:
  demo:
    source: {type: generate, rate: 2000}
    sinks: [{type: slow, path: $WORK/out.txt}]
YAML

SLUICE_ADMIN_LISTEN=127.0.0.1:0 "$SLUICE_BIN" run --plugin-dir "$TEST_PLUGINS/slow" p.yaml 2>log.txt &
pid=$!
STARTED_PIDS+=("$pid")
wait_for 20 grep -q "admin endpoint on http://" log.txt || fail "no admin address logged: $(cat log.txt)"
addr=$(admin_address log.txt)
base="http://$addr"

[ "$(curl -sf "$base/health")" = "ok" ] || fail "/health is not ok"
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/ready")" = 200 ]; }
wait_for 20 ready || fail "/ready never answered 200"
has_events() { curl -sf "$base/metrics" | grep -Eq '^sluice_events_in_total\{.*\} [1-9]'; }
wait_for 20 has_events || fail "/metrics has no sluice_events_in_total > 0: $(curl -s "$base/metrics" | head -40)"
ctype=$(curl -sf -o /dev/null -w '%{content_type}' "$base/metrics")
case "$ctype" in "text/plain; version=0.0.4"*) ;; *) fail "/metrics content type '$ctype'" ;; esac
curl -sf "$base/status" >status.json || fail "/status failed"
jq -e '.version and (.uptime_seconds >= 0) and (.pipelines | length == 1) and (.plugins | length >= 2) and .ready' \
  status.json >/dev/null || fail "/status lacks version, uptime, pipelines or plugins: $(cat status.json)"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/nope")" = 404 ] || fail "unknown path is not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/health")" = 405 ] || fail "POST /health is not 405"

kill -TERM "$pid"
wait_exit "$pid" 30
[ "$EXIT_CODE" = 0 ] || fail "exit code after SIGTERM: $EXIT_CODE; log: $(tail -20 log.txt)"

# --daemon and --pidfile with relative paths: the daemon changes directory to /.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
rc=0
mkdir -p run
SLUICE_ADMIN_LISTEN=127.0.0.1:$port "$SLUICE_BIN" run --daemon --pidfile run/sluice.pid \
  --plugin-dir "$TEST_PLUGINS/slow" p.yaml || rc=$?
[ "$rc" = 0 ] || fail "--daemon: the launcher exited $rc"
wait_for 20 test -s run/sluice.pid || fail "--pidfile: run/sluice.pid was not written"
dpid=$(cat run/sluice.pid)
STARTED_PIDS+=("$dpid")
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ready")" = 200 ]; }
wait_for 20 ready || fail "--daemon: /ready never answered 200"
kill -TERM "$dpid"
wait_for 30 sh -c "! kill -0 $dpid 2>/dev/null" || fail "--daemon: did not stop on SIGTERM"
wait_for 5 test ! -e run/sluice.pid || fail "--daemon: pid file not removed at exit"
# A source that fails (here: an http source whose port another process holds; a route clash
# is refused before anything starts) leaves its pipeline down while the other runs: /health
# says so with 503, naming the pipeline.
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1); print(s.getsockname()[1], flush=True); time.sleep(600)' \
  >holder-port.txt &
STARTED_PIDS+=("$!")
wait_for 10 test -s holder-port.txt || fail "the port holder did not start"
iport=$(cat holder-port.txt)
cat > clash.yaml <<YAML
pipelines:
  first:
    source: {type: http, listen: "127.0.0.1:$iport", routes: [{method: POST, path: /in}]}
    sinks: [{type: null}]
  second:
    source: {type: http, listen: "127.0.0.1:0", routes: [{method: POST, path: /in}]}
    sinks: [{type: null}]
YAML
SLUICE_ADMIN_LISTEN=127.0.0.1:0 "$SLUICE_BIN" run clash.yaml 2>clash-log.txt &
cpid=$!
STARTED_PIDS+=("$cpid")
wait_for 20 grep -q "admin endpoint on http://" clash-log.txt || fail "no admin address logged: $(cat clash-log.txt)"
cbase="http://$(admin_address clash-log.txt)"
unhealthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$cbase/health")" = 503 ]; }
wait_for 20 unhealthy || fail "/health is not 503 with a failed source: $(curl -s "$cbase/health"); $(cat clash-log.txt)"
curl -s "$cbase/health" | grep -q "pipeline 'first': source failed" ||
  fail "/health does not name the failed pipeline: $(curl -s "$cbase/health")"
kill -TERM "$cpid"
wait_exit "$cpid" 30
echo "ok: admin endpoint and daemon mode"
