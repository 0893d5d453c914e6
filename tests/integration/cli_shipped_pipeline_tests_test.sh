#!/usr/bin/env bash
# The config unit tests of the shipped pipelines (pipelines/tests/*.test.yaml)
# pass, and every shipped pipeline file is covered by one of them.
source "$(dirname "$0")/cli_lib.sh"
cd "$WORK"
tests=("$SLUICE_SOURCE_DIR"/pipelines/tests/*.test.yaml)
rc=0
"$SLUICE_BIN" test "${tests[@]}" >out.txt 2>err.txt || rc=$?
[ "$rc" -eq 0 ] || fail "sluice test of the shipped pipelines: exit $rc: $(cat out.txt err.txt)"
grep -q " 0 failed" out.txt || fail "no summary: $(cat out.txt)"
for f in "$SLUICE_SOURCE_DIR"/pipelines/*.yaml; do
  name=$(basename "$f" .yaml)
  [ -f "$SLUICE_SOURCE_DIR/pipelines/tests/$name.test.yaml" ] || fail "pipelines/$name.yaml has no pipelines/tests/$name.test.yaml"
  # Each pipeline of the file has a test.
  for p in $(/usr/bin/python3 -c 'import sys, yaml; print(" ".join(yaml.safe_load(open(sys.argv[1]))["pipelines"]))' "$f"); do
    /usr/bin/python3 -c 'import sys, yaml
t = yaml.safe_load(open(sys.argv[1]))["tests"]
sys.exit(0 if any(x["pipeline"] == sys.argv[2] for x in t) else 1)' "$SLUICE_SOURCE_DIR/pipelines/tests/$name.test.yaml" "$p" ||
      fail "pipeline $p of pipelines/$name.yaml has no test"
  done
done
echo "ok: $(tail -1 out.txt)"
