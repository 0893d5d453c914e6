#!/usr/bin/env bash
# `sluice validate`: exit 2 with file:line:col naming the key for an unknown
# sink option and for a YAML syntax error; every shipped pipeline validates.
source "$(dirname "$0")/cli_lib.sh"
cd "$WORK"

cat > unknown-key.yaml <<'YAML'
pipelines:
  demo:
    source:
      type: generate
      count: 10
    sinks:
      - type: slow
        path: out.txt
        dleay: 5ms
YAML
rc=0
"$SLUICE_BIN" validate --plugin-dir "$TEST_PLUGINS/slow" unknown-key.yaml >out.txt 2>err.txt || rc=$?
[ "$rc" -eq 2 ] || fail "unknown key: exit $rc, expected 2; stderr: $(cat err.txt)"
grep -q "unknown-key.yaml:9:9: pipelines.demo.sinks\[0\].dleay: " err.txt ||
  fail "unknown key: no file:line:col naming 'dleay' in: $(cat err.txt)"
grep -q "ok:" out.txt && fail "an invalid file printed ok"

cat > syntax.yaml <<'YAML'
pipelines:
  demo:
    source: {type: generate, count: 10
    sinks:
      - type: slow
YAML
rc=0
"$SLUICE_BIN" validate --plugin-dir "$TEST_PLUGINS/slow" syntax.yaml >out.txt 2>err.txt || rc=$?
[ "$rc" -eq 2 ] || fail "syntax error: exit $rc, expected 2; stderr: $(cat err.txt)"
grep -Eq "syntax.yaml:[0-9]+:[0-9]+: " err.txt || fail "syntax error: no file:line:col in: $(cat err.txt)"

# Several mistakes: every one is reported, not only the first.
cat > many.yaml <<'YAML'
pipelines:
  demo:
    source:
      type: generate
      cuont: 10
    sinks:
      - type: slow
        dleay: 5ms
YAML
rc=0
"$SLUICE_BIN" validate --plugin-dir "$TEST_PLUGINS/slow" many.yaml >out.txt 2>err.txt || rc=$?
[ "$rc" -eq 2 ] || fail "many errors: exit $rc"
grep -q "many.yaml:5:7: .*cuont" err.txt || fail "many errors: 'cuont' not reported: $(cat err.txt)"
grep -q "many.yaml:8:9: .*dleay" err.txt || fail "many errors: 'dleay' not reported: $(cat err.txt)"
grep -q "many.yaml:7:.*path" err.txt || fail "many errors: missing 'path' not reported: $(cat err.txt)"

# An out-of-tree plugin's own check (the slow test sink refuses an empty path) runs in validate.
cat > checked.yaml <<'YAML'
pipelines:
  demo:
    source: {type: generate, count: 1}
    sinks:
      - {type: slow, path: ""}
YAML
rc=0
"$SLUICE_BIN" validate --plugin-dir "$TEST_PLUGINS/slow" checked.yaml >out.txt 2>err.txt || rc=$?
[ "$rc" -eq 2 ] || fail "plugin check: exit $rc, expected 2; stderr: $(cat err.txt)"
grep -q "checked.yaml:5:22: pipelines.demo.sinks\[0\].path: the path is empty" err.txt ||
  fail "plugin check: no file:line:col for the empty path in: $(cat err.txt)"

# Every shipped pipeline validates.
count=0
for f in "$SLUICE_SOURCE_DIR"/pipelines/*.yaml; do
  rc=0
  "$SLUICE_BIN" validate "$f" >out.txt 2>err.txt || rc=$?
  [ "$rc" -eq 0 ] || fail "$f does not validate (exit $rc): $(cat err.txt)"
  grep -Eq "^ok: [0-9]+ pipelines?" out.txt || fail "$f: no 'ok: N pipelines' line: $(cat out.txt)"
  count=$((count + 1))
done
[ "$count" -gt 0 ] || fail "no pipeline in $SLUICE_SOURCE_DIR/pipelines"
echo "ok: validate errors and $count shipped pipelines"
