#!/usr/bin/env bash
# `sluice test`: config unit tests run a pipeline's transforms on given
# events; exit 0 when all pass, 1 when one fails, 2 for an invalid file.
source "$(dirname "$0")/cli_lib.sh"
cd "$WORK"
mkdir -p pipelines tests
cat > pipelines/p.yaml <<YAML
pipelines:
  tagged:
    source: {type: generate}
    transforms:
      - {type: tag, field: env, value: prod}
      - {type: tag, name: held, field: meta.key, value: k1, hold: true}
    sinks: [{type: slow, path: out.txt}]
YAML
cat > tests/pass.yaml <<'YAML'
pipelines: [../pipelines/p.yaml]
tests:
  - name: tags and drops
    pipeline: tagged
    inputs:
      - event: {user: 1}
      - event: {user: 2, drop: true}
      - payload: '{"user": 3}'
        meta: {key: original, topic: clicks, headers: {User-Agent: curl}}
    outputs:
      - event: {user: 1, env: prod}
      - conditions: {user: 3, env: prod, meta.key: k1, meta.topic: clicks, meta.header.User-Agent: curl}
YAML
P=(--plugin-dir "$TEST_PLUGINS/tag" --plugin-dir "$TEST_PLUGINS/slow")
rc=0
"$SLUICE_BIN" test "${P[@]}" tests/pass.yaml >out.txt 2>err.txt || rc=$?
[ "$rc" -eq 0 ] || fail "passing test: exit $rc: $(cat out.txt err.txt)"
grep -q "^PASS .*pass.yaml: tags and drops" out.txt || fail "no PASS line: $(cat out.txt)"
grep -q "^1 tests: 1 passed, 0 failed" out.txt || fail "no summary: $(cat out.txt)"

cat > tests/fail.yaml <<'YAML'
pipelines: [../pipelines/p.yaml]
tests:
  - name: wrong expectation
    pipeline: tagged
    inputs:
      - event: {user: 1}
    outputs:
      - event: {user: 1, env: staging}
  - name: right expectation
    pipeline: tagged
    inputs:
      - event: {user: 1}
    outputs:
      - conditions: {env: prod}
YAML
rc=0
"$SLUICE_BIN" test "${P[@]}" tests/fail.yaml >out.txt 2>err.txt || rc=$?
[ "$rc" -eq 1 ] || fail "failing test: exit $rc, expected 1: $(cat out.txt err.txt)"
grep -q "^FAIL .*: wrong expectation" out.txt || fail "no FAIL line: $(cat out.txt)"
grep -q 'expected {"env":"staging","user":1}, got {"env":"prod","user":1}' out.txt || fail "no diff shown: $(cat out.txt)"
grep -q "^PASS .*: right expectation" out.txt || fail "the passing test of the file did not pass: $(cat out.txt)"

cat > tests/invalid.yaml <<'YAML'
pipelines: [../pipelines/p.yaml]
tests:
  - name: no such pipeline
    pipeline: nope
    inputs:
      - event: {user: 1}
    outptus: []
YAML
rc=0
"$SLUICE_BIN" test "${P[@]}" tests/invalid.yaml >out.txt 2>err.txt || rc=$?
[ "$rc" -eq 2 ] || fail "invalid file: exit $rc, expected 2: $(cat out.txt err.txt)"
grep -q "invalid.yaml:7:5: tests\[0\].outptus" err.txt || fail "unknown key not reported: $(cat err.txt)"
grep -q "invalid.yaml:4:15: tests\[0\].pipeline: no pipeline named 'nope'" err.txt ||
  fail "unknown pipeline not reported: $(cat err.txt)"
echo "ok: sluice test"
