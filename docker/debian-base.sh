#!/usr/bin/env bash
# Makes the base images docker/Dockerfile starts from, debian:12 and
# debian:12-slim, from Debian's own packages, for machines that cannot pull
# from Docker Hub: a minimal bookworm (debootstrap --variant=minbase, about a
# minute) imported with `docker import`. Images already present are kept.
#   docker/debian-base.sh [MIRROR]     (default http://deb.debian.org/debian)
# Environment: DOCKER (the docker CLI to use, default docker).
set -euo pipefail
docker=${DOCKER:-docker}
mirror=${1:-http://deb.debian.org/debian}
security=${SLUICE_DEBIAN_SECURITY:-${mirror%/debian}/debian-security}
if "$docker" image inspect debian:12 >/dev/null 2>&1; then
  "$docker" image inspect debian:12-slim >/dev/null 2>&1 || "$docker" tag debian:12 debian:12-slim
  exit 0
fi
command -v debootstrap >/dev/null || { echo "debian-base.sh: debootstrap is not installed" >&2; exit 2; }
root=$(mktemp -d "${TMPDIR:-/tmp}/sluice-debian-base.XXXXXX")
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 ||
  { tail -20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
# The sources of Debian's own images: the release, its updates and security.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
chmod 0755 "$root"  # the image's /: mktemp made it 0700, which locks out every user but root
tar -C "$root" -c . | "$docker" import - debian:12 >/dev/null
"$docker" tag debian:12 debian:12-slim
echo "debian-base.sh: made debian:12 and debian:12-slim from $mirror"
