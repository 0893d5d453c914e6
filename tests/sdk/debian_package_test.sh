#!/usr/bin/env bash
# The Debian package of this build (cpack -G DEB): its control data (runtime
# dependencies from Debian's package names, the postinst that makes the
# `sluice` user), its files (the daemon, the plugins, the systemd unit), and
# the daemon run from the package unpacked into a temporary root: version,
# its plugins, and validate of the shipped pipelines.
source "$SLUICE_SOURCE_DIR/tests/integration/cli_lib.sh"
cd "$WORK"
flock "$SLUICE_BUILD_DIR/install.lock" cpack --config "$SLUICE_BUILD_DIR/CPackConfig.cmake" -B "$WORK/pkg" >cpack.log 2>&1 || fail "cpack: $(tail -30 cpack.log)"
deb=$(ls pkg/sluice_*_amd64.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no .deb made: $(ls pkg) $(tail -20 cpack.log)"
dpkg-deb --info "$deb" >info.txt || fail "dpkg-deb --info: exit $?"
grep -q "^ Package: sluice$" info.txt || fail "package name: $(cat info.txt)"
depends=$(sed -n 's/^ Depends: //p' info.txt)
for dep in adduser libc6 libstdc++6 libyaml-cpp0.7 libpocofoundation80 librdkafka1; do
  grep -q "$dep" <<<"$depends" || fail "Depends lacks $dep: $depends"
done
grep -q "postinst" info.txt || fail "no postinst in the package"
dpkg-deb --contents "$deb" >contents.txt
for f in ./usr/bin/sluice ./usr/lib/libsluice-core.so ./usr/lib/sluice/plugins/sluice-kafka.so \
  ./usr/lib/sluice/plugins/sluice-elasticsearch.so ./usr/lib/systemd/system/sluice.service \
  ./usr/share/sluice/pipelines/listings.yaml ./usr/share/sluice/conf/sluice.yaml; do
  grep -q " $f$" contents.txt || fail "the package has no $f"
done
mkdir root
dpkg-deb -x "$deb" root
dpkg-deb -e "$deb" control
grep -q "adduser --system" control/postinst || fail "the postinst does not make the sluice user"
sh -n control/postinst || fail "the postinst is not valid sh"
root/usr/bin/sluice version >version.txt || fail "sluice from the unpacked root: exit $?"
grep -q "^sluice " version.txt || fail "version: $(cat version.txt)"
root/usr/bin/sluice plugins --json >plugins.json || fail "plugins from the unpacked root: exit $?"
/usr/bin/python3 - "$WORK/root" plugins.json <<'PY' || fail "the unpacked daemon does not load the packaged plugins"
import json, sys
root, listing = sys.argv[1], json.load(open(sys.argv[2]))
assert {"kafka", "elasticsearch", "aggregate", "http"} <= {p["name"] for p in listing}
assert all(p["library"].startswith(root + "/usr/lib/sluice/plugins/") for p in listing if p.get("library"))
PY
# One file at a time: marketplace.yaml holds the other files' pipelines (same names) in one daemon.
: >validate.txt
for f in root/usr/share/sluice/pipelines/*.yaml; do
  root/usr/bin/sluice validate "$f" >>validate.txt 2>&1 || fail "validate of the packaged $(basename "$f"): $(cat validate.txt)"
done
echo "ok: $(basename "$deb"): $(wc -l <contents.txt) entries; $(cat validate.txt)"
