"""A real Apache Kafka broker (one KRaft node on 127.0.0.1) for integration tests.

    with KafkaBroker(partitions=4) as broker:
        broker.create_topic("page-views", partitions=4)
        ... broker.bootstrap ...

It wraps tests/fixtures/kafka/start_broker.sh (jars from Maven Central via
tests/fixtures/kafka/pom.xml). The broker is stopped on exit, and by the
script's watchdog if this process dies (even by kill -9). A broker that cannot
start raises BrokerError with the reason: tests fail, never skip.
"""
import os
import signal
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "fixtures", "kafka", "start_broker.sh")


class BrokerError(RuntimeError):
    pass


class KafkaBroker:
    def __init__(self, partitions=1, max_seconds=600):
        self.partitions = partitions
        self.max_seconds = max_seconds
        self.bootstrap = None
        self.pid = None
        self.dir = None

    def start(self):
        started = time.monotonic()
        proc = subprocess.run(
            ["bash", FIXTURE, "--partitions", str(self.partitions), "--watch-pid", str(os.getpid()),
             "--max-seconds", str(self.max_seconds)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
        if proc.returncode != 0:
            raise BrokerError("the Kafka broker did not start (exit %d):\n%s%s"
                              % (proc.returncode, proc.stdout, proc.stderr))
        values = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
        try:
            self.bootstrap, self.pid, self.dir = values["BOOTSTRAP"], int(values["PID"]), values["DIR"]
        except KeyError as e:
            raise BrokerError("start_broker.sh printed no %s:\n%s" % (e, proc.stdout))
        print("kafka broker: %s (pid %d) started in %.1f s" % (self.bootstrap, self.pid, time.monotonic() - started),
              flush=True)
        return self

    def create_topic(self, name, partitions=None, timeout=30):
        """Creates @name through the broker's admin API and waits until every partition has a leader."""
        from kafka.admin import KafkaAdminClient, NewTopic
        from kafka.errors import TopicAlreadyExistsError
        partitions = partitions or self.partitions
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id="sluice-tests")
        try:
            try:
                admin.create_topics([NewTopic(name, partitions, 1)], timeout_ms=timeout * 1000)
            except TopicAlreadyExistsError:
                pass
        finally:
            admin.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = subprocess.run(["kcat", "-L", "-b", self.bootstrap, "-t", name, "-m", "5"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
            if out.count("leader 1,") >= partitions:
                return
            time.sleep(0.1)
        raise BrokerError("topic %s has no leader for every partition after %d s" % (name, timeout))

    def stop(self):
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                os.kill(self.pid, 0)
                time.sleep(0.1)
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.pid = None

    def log_tail(self, lines=40):
        try:
            with open(os.path.join(self.dir, "broker.log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except (OSError, TypeError):
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
