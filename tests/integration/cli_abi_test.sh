#!/usr/bin/env bash
# A plugin library built for another ABI (or not a plugin at all) makes
# `sluice run` exit 2 naming the file and the reason, before anything runs.
source "$(dirname "$0")/cli_lib.sh"
cd "$WORK"
cat > p.yaml <<'YAML'
pipelines:
  demo:
    source: {type: generate, count: 1}
    sinks: [{type: slow, path: out.txt}]
YAML

expect_refused() {  # DIR FILE-NAME REASON
  local rc=0
  SLUICE_ADMIN_LISTEN=127.0.0.1:0 timeout 20 "$SLUICE_BIN" run --plugin-dir "$TEST_PLUGINS/$1" p.yaml \
    >out.txt 2>err.txt || rc=$?
  [ "$rc" -eq 2 ] || fail "$1: exit $rc, expected 2; stderr: $(cat err.txt)"
  grep -qF "$TEST_PLUGINS/$1/$2" err.txt || fail "$1: the file is not named: $(cat err.txt)"
  grep -qF "$3" err.txt || fail "$1: the reason '$3' is missing: $(cat err.txt)"
  [ ! -e out.txt ] || [ ! -s out.txt ] || fail "$1: the pipeline ran"
}

abi=$("$SLUICE_BIN" version | sed -n 's/^plugin ABI //p')
[ -n "$abi" ] || fail "sluice version does not name its plugin ABI"
expect_refused wrong_abi sluice-test-wrong_abi.so "plugin ABI version 999, this sluice speaks $abi"
expect_refused no_symbol sluice-test-no_symbol.so "not a sluice plugin: no symbol sluice_plugin_library"
expect_refused bad_build sluice-test-bad_build.so "rebuild the plugin against this sluice"
expect_refused dup sluice-test-dup_b.so "duplicate sink plugin 'dup'"

# `validate` and `plugins` refuse it the same way.
rc=0
"$SLUICE_BIN" validate --plugin-dir "$TEST_PLUGINS/wrong_abi" p.yaml 2>err.txt || rc=$?
[ "$rc" -eq 2 ] && grep -q "sluice-test-wrong_abi.so: plugin ABI version 999" err.txt || fail "validate: exit $rc: $(cat err.txt)"
rc=0
"$SLUICE_BIN" plugins --plugin-dir "$TEST_PLUGINS/wrong_abi" >/dev/null 2>err.txt || rc=$?
[ "$rc" -eq 2 ] || fail "plugins: exit $rc"
echo "ok: incompatible plugins refused"
