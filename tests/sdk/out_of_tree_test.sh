#!/usr/bin/env bash
# The installed SDK, as a plugin author uses it: `cmake --install` of this
# build into a fresh prefix; the installed daemon finds its own plugins; a
# plugin outside the tree (tests/sdk/example-plugin) is built with
# find_package(Sluice) + sluice_add_plugin, its harness test passes, and the
# installed daemon loads it with --plugin-dir and runs it in a pipeline; then
# `sluice new-plugin` scaffolds a source, a transform and a sink, and each is
# built, tested and run the same way. Each plugin's ctest includes the conformance
# checks of sluice/conformance.hpp (sluice-conformance, from sluice_add_plugin).
source "$SLUICE_SOURCE_DIR/tests/integration/cli_lib.sh"
cd "$WORK"
prefix=$WORK/prefix
flock "$SLUICE_BUILD_DIR/install.lock" cmake --install "$SLUICE_BUILD_DIR" --prefix "$prefix" >install.log 2>&1 || fail "cmake --install: $(tail -20 install.log)"
for f in bin/sluice lib/libsluice-core.so lib/libsluice-testing.so include/sluice/sdk.hpp \
  lib/cmake/Sluice/SluiceConfig.cmake lib/cmake/Sluice/SluiceConfigVersion.cmake \
  lib/sluice/plugins/sluice-kafka.so lib/sluice/plugins/sluice-aggregate.so share/sluice/pipelines/clicks.yaml \
  share/sluice/conf/sluice.yaml; do
  [ -e "$prefix/$f" ] || fail "the install has no $f"
done
[ ! -e "$prefix/lib/sluice/plugins/sluice-test-tag.so" ] || fail "a test plugin was installed"

# The installed binary runs from its prefix and loads the plugins installed beside it.
"$prefix/bin/sluice" version >version.txt || fail "installed sluice version: exit $?"
"$prefix/bin/sluice" plugins --json >plugins.json || fail "installed sluice plugins: exit $?"
/usr/bin/python3 - "$prefix" plugins.json <<'PY' || fail "the installed daemon does not load its own plugins"
import json, sys
prefix, listing = sys.argv[1], json.load(open(sys.argv[2]))
names = {p["name"] for p in listing}
assert {"generate", "kafka", "aggregate", "elasticsearch"} <= names, names
libs = {p.get("library", "") for p in listing}
assert all(l.startswith(prefix + "/lib/sluice/plugins/") for l in libs if l), libs
PY
# One file at a time: marketplace.yaml holds the other files' pipelines (same names) in one daemon.
for f in "$prefix"/share/sluice/pipelines/*.yaml; do
  "$prefix/bin/sluice" validate "$f" >/dev/null || fail "installed $(basename "$f") does not validate"
done

# A plugin outside the tree.
cp -r "$SLUICE_SOURCE_DIR/tests/sdk/example-plugin" src
cmake -S src -B out -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$prefix" >configure.log 2>&1 ||
  fail "configure against the installed SDK: $(tail -30 configure.log)"
cmake --build out >build.log 2>&1 || fail "build against the installed SDK: $(tail -30 build.log)"
[ -f out/plugins/sluice-example.so ] || fail "no out/plugins/sluice-example.so"
ctest --test-dir out --output-on-failure >ctest.log 2>&1 || fail "the plugin's own test: $(tail -30 ctest.log)"
grep -q "100% tests passed" ctest.log || fail "the plugin's test did not run: $(cat ctest.log)"
grep -Eq "conformance\.example \.+ +Passed" ctest.log || fail "the plugin's conformance checks did not run: $(cat ctest.log)"
"$prefix/lib/sluice/sluice-conformance" out/plugins/sluice-example.so >conformance.txt || fail "sluice-conformance: $(cat conformance.txt)"
grep -q "^6 of 6 conformance checks passed" conformance.txt || fail "sluice-conformance: $(cat conformance.txt)"
# And they fail a plugin that does not conform (its docs example is not valid: the build's test plugin).
rc=0
"$prefix/lib/sluice/sluice-conformance" "$TEST_PLUGINS/slow/sluice-test-slow.so" >conformance-bad.txt || rc=$?
[ "$rc" -eq 1 ] && grep -q "^FAIL .*: example: " conformance-bad.txt || fail "a plugin with a bad example: exit $rc; $(cat conformance-bad.txt)"

"$prefix/bin/sluice" plugins --plugin-dir out/plugins upper >upper.txt || fail "installed daemon: plugins upper: exit $?"
grep -q "field" upper.txt || fail "the plugin's options are not listed: $(cat upper.txt)"
cat >p.yaml <<'YAML'
pipelines:
  p:
    source: {type: generate, count: 3, template: {name: "user{seq}"}}
    transforms: [{type: upper, field: name}]
    sinks: [{type: stdout}]
YAML
SLUICE_ADMIN_LISTEN=off "$prefix/bin/sluice" run --plugin-dir out/plugins p.yaml >run.txt 2>run-err.txt ||
  fail "installed daemon running the plugin: exit $?; $(cat run-err.txt)"
[ "$(grep -c '"name":"USER[123]"' run.txt)" -eq 3 ] || fail "expected 3 upper-cased events, got: $(cat run.txt)"
# Scaffolded plugins, one of each kind.
build_and_test() {  # DIR
  cmake -S "$1" -B "$1/build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >"$1.configure.log" 2>&1 ||
    fail "configure $1: $(tail -30 "$1.configure.log")"
  cmake --build "$1/build" >"$1.build.log" 2>&1 || fail "build $1: $(tail -30 "$1.build.log")"
  grep -q "warning:" "$1.build.log" && fail "$1 builds with warnings: $(grep warning: "$1.build.log")"
  ctest --test-dir "$1/build" --output-on-failure >"$1.ctest.log" 2>&1 || fail "test of $1: $(tail -30 "$1.ctest.log")"
  # Its harness test, and the conformance checks sluice_add_plugin(TESTS) adds.
  grep -q "100% tests passed, 0 tests failed out of 2" "$1.ctest.log" || fail "$1's tests did not run: $(cat "$1.ctest.log")"
  grep -Eq "conformance\.$(basename "$1") \.+ +Passed" "$1.ctest.log" || fail "$1's conformance checks did not run: $(cat "$1.ctest.log")"
}
for kind in source transform sink; do
  "$prefix/bin/sluice" new-plugin "my_$kind" --kind "$kind" --dir "gen/my_$kind" >new.txt || fail "new-plugin --kind $kind: exit $?"
  build_and_test "gen/my_$kind"
done
lines=$(wc -l <gen/my_transform/src/my_transform.cpp)
[ "$lines" -le 60 ] || fail "the generated transform has $lines lines (at most 60)"
run_gen() {  # NAME PIPELINE-YAML: runs it with the installed daemon and the generated plugin
  printf '%s' "$2" >"$1.yaml"
  SLUICE_ADMIN_LISTEN=off "$prefix/bin/sluice" run --plugin-dir "gen/$1/build/plugins" "$1.yaml" >"$1.out" 2>"$1.err" ||
    fail "running $1: exit $?; $(cat "$1.err")"
}
run_gen my_source $'pipelines:\n  p:\n    source: {type: my_source, count: 3}\n    sinks: [{type: stdout}]\n'
[ "$(grep -c '"text":"hello"' my_source.out)" -eq 3 ] || fail "my_source: $(cat my_source.out)"
run_gen my_transform $'pipelines:\n  p:\n    source: {type: generate, count: 3}\n    transforms: [{type: my_transform, field: env, value: prod}]\n    sinks: [{type: stdout}]\n'
[ "$(grep -c '"env":"prod"' my_transform.out)" -eq 3 ] || fail "my_transform: $(cat my_transform.out)"
run_gen my_sink $'pipelines:\n  p:\n    source: {type: generate, count: 3}\n    sinks: [{type: my_sink, path: sink.out}]\n'
[ "$(wc -l <sink.out)" -eq 3 ] || fail "my_sink wrote: $(cat sink.out)"
# Each README's example is the pipeline a user tries first: it validates with the plugin.
for kind in source transform sink; do
  sed -n '/^```yaml$/,/^```$/p' "gen/my_$kind/README.md" | sed '1d;$d' >"readme-$kind.yaml"
  "$prefix/bin/sluice" validate --plugin-dir "gen/my_$kind/build/plugins" "readme-$kind.yaml" >/dev/null 2>&1 ||
    fail "the README example of my_$kind does not validate: $(cat "readme-$kind.yaml")"
done

rc=0
"$prefix/bin/sluice" new-plugin Bad-Name --kind sink >/dev/null 2>err.txt || rc=$?
[ "$rc" -eq 2 ] && grep -q "lower-case" err.txt || fail "a bad name: exit $rc; $(cat err.txt)"
rc=0
"$prefix/bin/sluice" new-plugin ok_name --kind filter >/dev/null 2>err.txt || rc=$?
[ "$rc" -eq 2 ] && grep -q "source, transform or sink" err.txt || fail "a bad kind: exit $rc; $(cat err.txt)"
rc=0
"$prefix/bin/sluice" new-plugin my_sink --kind sink --dir gen/my_sink >/dev/null 2>err.txt || rc=$?
[ "$rc" -eq 1 ] && grep -q "not empty" err.txt || fail "an existing folder: exit $rc; $(cat err.txt)"
echo "ok: installed SDK, out-of-tree plugins built, tested, loaded and run"
