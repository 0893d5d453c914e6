#!/usr/bin/env bash
# The batch container as a user runs it: the image of docker/Dockerfile, built from this
# build's Debian package (SLUICE_DEB=dist, BuildKit), runs the access-log pipeline on the
# embedded broker with a volume mounted on its state directory. The lines land in the volume,
# written by the image's non-root user; /health answers 200 from the container and its
# HEALTHCHECK turns healthy; `docker stop` (SIGTERM) ends it with exit 0 before the stop
# timeout would kill it.
#
# Docker Hub is not reachable here: a missing debian:12 base is made by docker/debian-base.sh
# (debootstrap). A Docker daemon that is not running is started for the test and stopped after
# it, as `dockerd --iptables=false --bridge=none --storage-driver=vfs` (containers use the
# host's network, loopback only here).
source "$SLUICE_SOURCE_DIR/tests/integration/cli_lib.sh"
# Debian's docker CLI: it builds with the daemon's BuildKit without the buildx plugin.
export DOCKER=${SLUICE_DOCKER:-/usr/bin/docker}
[ -x "$DOCKER" ] || DOCKER=$(command -v docker) || fail "no docker CLI (scripts/install-deps.sh installs docker.io)"
name="sluice-test-$$"
image="sluice-test:$$"
started_dockerd=""
docker_cleanup() {
  "$DOCKER" rm -f "$name" >/dev/null 2>&1 || true
  "$DOCKER" rmi -f "$image" >/dev/null 2>&1 || true
  if [ -n "$started_dockerd" ]; then
    kill -TERM "$started_dockerd" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$started_dockerd" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$started_dockerd" 2>/dev/null || true
  fi
  cleanup
}
trap docker_cleanup EXIT

if ! "$DOCKER" info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || fail "no Docker daemon and no dockerd (scripts/install-deps.sh installs docker.io)"
  dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
    --pidfile "$WORK/dockerd.pid" >"$WORK/dockerd.log" 2>&1 &
  started_dockerd=$!
  wait_for 60 "$DOCKER" info >/dev/null 2>&1 || fail "dockerd did not start: $(tail -20 "$WORK/dockerd.log")"
fi
bash "$SLUICE_SOURCE_DIR/docker/debian-base.sh" || fail "no debian:12 base image"

# The build context: the Dockerfile and this build's package in dist/ (one install of the
# build tree at a time: tests/sdk install it too).
mkdir -p "$WORK/ctx/docker" "$WORK/ctx/dist"
cp "$SLUICE_SOURCE_DIR/docker/Dockerfile" "$WORK/ctx/docker/"
flock "$SLUICE_BUILD_DIR/install.lock" cpack --config "$SLUICE_BUILD_DIR/CPackConfig.cmake" -B "$WORK/pkg" >"$WORK/cpack.log" 2>&1 ||
  fail "cpack: $(tail -30 "$WORK/cpack.log")"
mv "$WORK"/pkg/sluice_*_amd64.deb "$WORK/ctx/dist/" || fail "no .deb made"
DOCKER_BUILDKIT=1 "$DOCKER" build --network host --build-arg SLUICE_DEB=dist \
  -f "$WORK/ctx/docker/Dockerfile" -t "$image" "$WORK/ctx" >"$WORK/build.log" 2>&1 ||
  fail "docker build: $(tail -40 "$WORK/build.log")"
[ "$("$DOCKER" image inspect --format '{{.Config.User}}' "$image")" = sluice ] ||
  fail "the image does not run as the sluice user"

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/volume"
chmod 0777 "$WORK/volume"  # the container's sluice user is not a user of this machine
"$DOCKER" run -d --name "$name" --network host -e SLUICE_ADMIN_LISTEN="127.0.0.1:$port" \
  --health-interval=1s --health-start-period=0s -v "$WORK/volume:/var/lib/sluice" "$image" >/dev/null ||
  fail "docker run failed"

log="$WORK/volume/data/access.log"
lines() { [ -f "$log" ] && wc -l <"$log" || echo 0; }
all_written() { [ "$(lines)" -ge 1000 ]; }
wait_for 60 all_written ||
  fail "the access log has $(lines) of 1000 lines; container log: $("$DOCKER" logs "$name" 2>&1 | tail -20)"
[ "$(lines)" -eq 1000 ] || fail "the access log has $(lines) lines, not 1000"
bad=$(grep -cvP '^[0-9]+\t[0-9]+$' "$log" || true)
[ "$bad" -eq 0 ] || fail "$bad lines of the access log are not user_id<TAB>item_id: $(head -3 "$log")"
owner=$(stat -c %u "$log")
[ "$owner" -ne 0 ] || fail "the access log is owned by root: the daemon ran as root"

status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")
[ "$status" = 200 ] || fail "/health answered $status"
health() { [ "$("$DOCKER" inspect --format '{{.State.Health.Status}}' "$name")" = healthy ]; }
wait_for 60 health || fail "the HEALTHCHECK says $("$DOCKER" inspect --format '{{json .State.Health}}' "$name")"

# SIGTERM (the image's STOPSIGNAL) drains and exits 0; a hang past 40 s would be a SIGKILL (137).
"$DOCKER" stop -t 40 "$name" >/dev/null || fail "docker stop failed"
code=$("$DOCKER" inspect --format '{{.State.ExitCode}}' "$name")
[ "$code" = 0 ] || fail "the container exited $code after SIGTERM: $("$DOCKER" logs "$name" 2>&1 | tail -20)"
"$DOCKER" logs "$name" >"$WORK/container.log" 2>&1
grep -q "consumer closed, offsets committed" "$WORK/container.log" ||
  fail "the Kafka source did not close: $(tail -20 "$WORK/container.log")"
echo "ok: image $(du -sh "$WORK/ctx/dist" | cut -f1) package, $(lines) lines written as uid $owner, healthy, exit 0 on SIGTERM"
