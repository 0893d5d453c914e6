#!/usr/bin/env bash
# docker/docker-compose.yml, checked without running it (its Kafka and Elasticsearch images
# cannot be pulled here): `docker-compose config` accepts it, the batch service builds
# docker/Dockerfile, and the pipelines it runs, with its environment, pass `sluice validate`.
source "$SLUICE_SOURCE_DIR/tests/integration/cli_lib.sh"
compose="$SLUICE_SOURCE_DIR/docker/docker-compose.yml"
command -v docker-compose >/dev/null || fail "no docker-compose (scripts/install-deps.sh installs it)"
docker-compose -f "$compose" config >"$WORK/resolved.yaml" 2>"$WORK/compose.err" ||
  fail "docker-compose config: $(cat "$WORK/compose.err")"
/usr/bin/python3 - "$WORK/resolved.yaml" "$SLUICE_SOURCE_DIR" >"$WORK/batch.env" <<'PY' || fail "the compose file's batch service"
import os, sys, yaml
spec, src = yaml.safe_load(open(sys.argv[1])), sys.argv[2]
services = spec["services"]
assert {"kafka", "es", "batch"} <= set(services), sorted(services)
batch = services["batch"]
assert os.path.samefile(os.path.join(batch["build"]["context"], batch["build"]["dockerfile"]),
                        os.path.join(src, "docker/Dockerfile")), batch["build"]
assert set(batch["depends_on"]) >= {"kafka", "es"}, batch["depends_on"]
env = batch["environment"]
assert env["KAFKA_BROKERS"].startswith("kafka:"), env
for k, v in env.items():
    print(f"export {k}={v!r}")
files = []
for arg in batch["command"]:
    assert arg.startswith("/usr/share/sluice/pipelines/"), arg  # where the package installs them
    files.append(os.path.join(src, "pipelines", os.path.basename(arg)))
    assert os.path.isfile(files[-1]), arg
print("pipelines=(" + " ".join(repr(f) for f in files) + ")")
PY
source "$WORK/batch.env"
"$SLUICE_BIN" validate "${pipelines[@]}" >"$WORK/validate.txt" 2>&1 ||
  fail "the batch service's pipelines do not validate: $(cat "$WORK/validate.txt")"
echo "ok: ${#pipelines[@]} pipeline files, $(cat "$WORK/validate.txt")"
