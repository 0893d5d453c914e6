"""Shared helpers of the integration tests: the environment ctest sets, the
sluice process, the mock cluster helper process, kcat, polling with deadlines.

Every check raises TestFailure with what was expected and seen; run(main)
prints it and exits 1. Nothing is skipped: a missing prerequisite fails.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


class TestFailure(AssertionError):
    pass


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def run(main):
    """Runs @main(env), prints PASS/FAIL with the wall time, exits accordingly. The test's temporary
    directory is removed either way (SLUICE_KEEP_TMP=1 keeps it, and says where, for a look after a
    failure); logs a failing test needs are printed before that."""
    started = time.monotonic()
    env = None
    failed = False
    try:
        env = Env()
        main(env)
    except Exception as e:  # noqa: BLE001 - every error is a failure with its story
        if not isinstance(e, TestFailure):
            traceback.print_exc()
        print("FAIL: %s (%.1f s)" % (e, time.monotonic() - started), flush=True)
        failed = True
    finally:
        if env is not None:
            env.cleanup()
    if failed:
        sys.exit(1)
    print("PASS (%.1f s)" % (time.monotonic() - started), flush=True)


class Env:
    """Paths ctest passes (SLUICE_BIN, SLUICE_BUILD_DIR, SLUICE_SOURCE_DIR, SLUICE_PLUGIN_DIR)."""

    def __init__(self):
        here = os.path.dirname(os.path.abspath(__file__))
        self.source_dir = os.environ.get("SLUICE_SOURCE_DIR") or os.path.abspath(os.path.join(here, "..", ".."))
        self.build_dir = os.environ.get("SLUICE_BUILD_DIR") or os.path.join(self.source_dir, "build")
        self.bin = os.environ.get("SLUICE_BIN") or os.path.join(self.build_dir, "bin", "sluice")
        self.plugin_dir = os.environ.get("SLUICE_PLUGIN_DIR") or os.path.join(self.build_dir, "plugins")
        self.mock_cluster_bin = os.environ.get("SLUICE_MOCK_CLUSTER") or os.path.join(
            self.build_dir, "bin", "sluice-mock-cluster")
        check(os.access(self.bin, os.X_OK), "sluice binary not found at %s (set SLUICE_BIN)" % self.bin)
        self.tmp = tempfile.mkdtemp(prefix="sluice-it-")

    def cleanup(self):
        if os.environ.get("SLUICE_KEEP_TMP") == "1":
            print("kept %s (SLUICE_KEEP_TMP=1)" % self.tmp, flush=True)
            return
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def write(self, name, text):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def pipeline(self, name):
        return os.path.join(self.source_dir, "pipelines", name)


def derived_access_log_pipeline(env, source_options, sink_options=None):
    """pipelines/access-log.yaml's `access-log` pipeline alone (no sample generator), its Kafka source
    given @source_options on top (e.g. a short session timeout for tests that kill -9 a member: a killed
    member keeps its partitions until its session expires, 45 s by librdkafka's default), and its file
    sink @sink_options."""
    import yaml
    with open(env.pipeline("access-log.yaml")) as f:
        doc = yaml.safe_load(f)
    pipeline = doc["pipelines"]["access-log"]
    pipeline["source"].update(source_options)
    pipeline["sinks"][0].update(sink_options or {})
    return env.write("access-log.derived.yaml", yaml.safe_dump({"pipelines": {"access-log": pipeline}}))


def wait_until(pred, timeout, what, interval=0.05):
    """Polls @pred until truthy; returns its value or raises TestFailure naming @what."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TestFailure("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sanitized(pid):
    """True when process @pid runs with ASan or TSan (their runtime is mapped): its RSS then says nothing
    about a memory budget (quarantine, shadow memory), so such bounds are checked in the normal build only."""
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read()
    return "libasan" in maps or "libtsan" in maps


def read_lines(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    # Only complete lines: a line being written has no newline yet.
    end = data.rfind(b"\n")
    return data[:end + 1].decode("utf-8", "replace").splitlines() if end >= 0 else []


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


class Sluice:
    """One `sluice run` process; its stderr goes to a log file shown on failure."""

    def __init__(self, env, pipelines, extra_env=None, name="sluice", admin=False, test_plugins=(), stdin_path=None):
        """@test_plugins: names of test-only plugin folders (build/test-plugins/NAME, e.g. `slow`);
        @stdin_path: a file given to the process as its standard input (for the `stdin` source)."""
        self.stdin_path = stdin_path
        self.env = env
        self.name = name
        self.admin = "127.0.0.1:%d" % free_port() if admin else None
        conf = env.write("%s.conf.yaml" % name,
                         "plugin_dirs: [%s]\nadmin: {listen: \"%s\"}\ndata_dir: %s\nshutdown_timeout: 20s\n"
                         % (", ".join(json.dumps(d) for d in [env.plugin_dir] + [
                             os.path.join(env.build_dir, "test-plugins", t) for t in test_plugins]),
                            self.admin or "off", json.dumps(env.path(name + "-data"))))
        self.args = [env.bin, "run", "--config", conf] + list(pipelines)
        self.proc_env = dict(os.environ)
        self.proc_env.pop("SLUICE_ADMIN_LISTEN", None)
        self.proc_env.update(extra_env or {})
        self.log_path = env.path("%s.sluice-log" % name)
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        stdin = open(self.stdin_path, "rb") if self.stdin_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(self.args, env=self.proc_env, cwd=self.env.tmp, stdin=stdin,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        if self.stdin_path:
            stdin.close()
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self):
        if not self.alive():
            raise TestFailure("%s exited with %s:\n%s" % (self.name, self.proc.returncode, self.log_tail()))

    def metric(self, name, labels=None):
        """Sum of every sample of metric @name on /metrics whose labels include @labels (a dict; all
        samples when None); None while the endpoint is not up."""
        import urllib.request
        try:
            with urllib.request.urlopen("http://%s/metrics" % self.admin, timeout=2) as r:
                text = r.read().decode()
        except OSError:
            return None
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                if labels and not all('%s="%s"' % kv in line for kv in labels.items()):
                    continue
                total += float(line.rsplit(" ", 1)[1])
        return total

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout=30):
        """SIGTERM and wait; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise TestFailure("%s did not stop within %d s of SIGTERM:\n%s" % (self.name, timeout, self.log_tail()))
        return self.proc.returncode

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure("%s still running after %d s:\n%s" % (self.name, timeout, self.log_tail()))

    def data_dir(self):
        return self.env.path(self.name + "-data")

    def dead_letters(self, pipeline):
        """The records of the default dead-letter file of @pipeline (parsed JSON lines)."""
        return [json.loads(line) for line in read_lines(os.path.join(self.data_dir(), "dead-letter", pipeline + ".jsonl"))]

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        if exc[0] is not None:
            print("--- %s log (tail) ---\n%s" % (self.name, self.log_tail()), flush=True)
        return False


class MockCluster:
    """tests/fixtures/mock_cluster: librdkafka's mock cluster in a helper process.

    Exits when this process dies (its stdin closes)."""

    def __init__(self, env, brokers=3, topics=()):
        check(os.access(env.mock_cluster_bin, os.X_OK),
              "mock cluster helper not found at %s (build target sluice-mock-cluster)" % env.mock_cluster_bin)
        self.args = [env.mock_cluster_bin, "--brokers", str(brokers)] + ["%s:%d" % t for t in topics]
        self.proc = None
        self.bootstrap = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        line = self.proc.stdout.readline().strip()
        check(line.startswith("BOOTSTRAP="), "mock cluster helper printed %r" % line)
        self.bootstrap = line.split("=", 1)[1]
        return self

    def command(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline().strip()
        check(reply == "ok", "mock cluster: %s -> %s" % (text, reply))

    def __exit__(self, *exc):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return False


def kcat_produce(bootstrap, topic, lines, partition=None, key_delim=None, headers=(), extra=()):
    """Produces @lines (one message each) with kcat -P; fails the test when kcat fails."""
    args = ["kcat", "-P", "-b", bootstrap, "-t", topic, "-X", "receive.message.max.bytes=1000000000"]
    if partition is not None:
        args += ["-p", str(partition)]
    if key_delim:
        args += ["-K", key_delim]
    for h in headers:
        args += ["-H", h]
    args += list(extra)
    data = "".join(line + "\n" for line in lines)
    proc = subprocess.run(args, input=data.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    check(proc.returncode == 0, "kcat -P failed: %s" % proc.stderr.decode(errors="replace"))


def kcat_produce_spread(bootstrap, topic, lines, partitions):
    """Produces @lines round-robin over @partitions (keyless kcat -P sticks to one partition at a time)."""
    for p in range(partitions):
        kcat_produce(bootstrap, topic, lines[p::partitions], partition=p)


def kcat_consume(bootstrap, topic, count, fmt="%s\\n", timeout=30):
    """Reads @count messages from the start of @topic with kcat -C; returns kcat's output lines."""
    args = ["kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-c", str(count), "-f", fmt,
            "-X", "receive.message.max.bytes=1000000000", "-q"]
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    check(proc.returncode == 0, "kcat -C failed: %s" % proc.stderr.decode(errors="replace"))
    return proc.stdout.decode("utf-8", "replace").splitlines()


def committed_offsets(bootstrap, group, topic, partitions):
    """The group's committed offsets per partition, read with python3-kafka (-1 when none)."""
    from kafka import KafkaConsumer, TopicPartition
    # A fixed api_version: the mock cluster answers version probes differently from a real broker.
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, api_version=(2, 0, 0))
    try:
        return {p: (c.committed(TopicPartition(topic, p)) or -1) for p in range(partitions)}
    finally:
        c.close()
