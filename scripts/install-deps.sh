#!/usr/bin/env bash
# Installs everything sluice needs to build and test on Debian 12.
# Every package comes from Debian; nothing is vendored.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# What compiles sluice and packs it (SLUICE_INSTALL_TEST_DEPS=0 stops here: docker/Dockerfile's build
# stage); cpack's Debian generator needs `file` and dpkg-shlibdeps (dpkg-dev).
PKGS=(
  build-essential cmake ninja-build pkg-config git curl ca-certificates file dpkg-dev
  libyaml-cpp-dev libpoco-dev nlohmann-json3-dev zlib1g-dev libre2-dev
  libboost-dev libboost-filesystem-dev librdkafka-dev libxapian-dev libncurses-dev
)
if [ "${SLUICE_INSTALL_TEST_DEPS:-1}" = "1" ]; then
  # The tests: GoogleTest; kcat and python3-kafka as Kafka clients we did not write; clang for
  # the fuzz targets; h11 as the second HTTP/1 parser; wrk for the HTTP benchmarks. Java and
  # Maven run the real Kafka broker and OpenSearch node of the tests (tests/fixtures/); the JDK
  # compiles the OpenSearch fixture's launcher; python3-elasticsearch reads back what the
  # elasticsearch sink wrote; graphviz renders `sluice graph` output in its test. Docker
  # (Debian's docker.io, its daemon started by the test when none runs), debootstrap for the
  # base image Docker Hub would give, and docker-compose build, run and check the batch
  # container (tests/docker). Chromium (headless), chromium-driver and Selenium drive the search
  # page's browser test (plugins/srp/tests/browser).
  PKGS+=(
    libgtest-dev googletest kcat python3-kafka clang-format wrk procps
    clang libclang-rt-14-dev python3-h11 python3-yaml
    default-jre-headless default-jdk-headless maven python3-flask python3-elasticsearch graphviz
    docker.io docker-compose debootstrap tmux
    chromium chromium-driver python3-selenium
  )
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
