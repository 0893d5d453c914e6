#!/usr/bin/env bash
# The installed SDK, as a plugin author uses it: `cmake --install` of this
# build into a fresh prefix; the installed daemon finds its own plugins; a
# plugin outside the tree (tests/sdk/example-plugin) is built with
# find_package(Sluice) + sluice_add_plugin, its harness test passes, and the
# installed daemon loads it with --plugin-dir and runs it in a pipeline.
source "$SLUICE_SOURCE_DIR/tests/integration/cli_lib.sh"
cd "$WORK"
prefix=$WORK/prefix
cmake --install "$SLUICE_BUILD_DIR" --prefix "$prefix" >install.log 2>&1 || fail "cmake --install: $(tail -20 install.log)"
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
"$prefix/bin/sluice" validate "$prefix"/share/sluice/pipelines/*.yaml >/dev/null || fail "installed pipelines do not validate"

# A plugin outside the tree.
cp -r "$SLUICE_SOURCE_DIR/tests/sdk/example-plugin" src
cmake -S src -B out -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$prefix" >configure.log 2>&1 ||
  fail "configure against the installed SDK: $(tail -30 configure.log)"
cmake --build out >build.log 2>&1 || fail "build against the installed SDK: $(tail -30 build.log)"
[ -f out/plugins/sluice-example.so ] || fail "no out/plugins/sluice-example.so"
ctest --test-dir out --output-on-failure >ctest.log 2>&1 || fail "the plugin's own test: $(tail -30 ctest.log)"
grep -q "100% tests passed" ctest.log || fail "the plugin's test did not run: $(cat ctest.log)"

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
echo "ok: installed SDK, out-of-tree plugin built, tested, loaded and run"
