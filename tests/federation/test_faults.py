"""Faults (R1): escalations streamed from a township to its county, two real nodes on a PostgreSQL and a
Redis of the test's own, while the sender (web, worker and beat), the receiver, Redis and PostgreSQL are
each killed and started again. Every escalation arrives exactly once: none lost, none twice.

CI runs a small stream (``SHANGLIANG_FAULTS_N``, default 40); ``make faults`` streams 1,000 and prints
the figures (docs/reliability.md).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from shangliang.core.cli import cli

from ..nodes import free_port, make_federation, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(os.environ.get("SHANGLIANG_TEST_DATABASE_URL") or os.environ.get("SHANGLIANG_TEST_BROKER_URL")),
                       reason="runs a PostgreSQL and a Redis of its own whatever the suite's servers: tested in the "
                              "embedded run"),
]

COUNTY, TOWNSHIP = "620302", "620302001"
N = int(os.environ.get("SHANGLIANG_FAULTS_N", "40"))
FAST = {
    "SHANGLIANG_FEDERATION_BACKOFF_BASE_SECONDS": "0.3",
    "SHANGLIANG_FEDERATION_BACKOFF_MAX_SECONDS": "3",
    "SHANGLIANG_FEDERATION_HOLD_START_SECONDS": "0.3",
    "SHANGLIANG_FEDERATION_HOLD_MAX_SECONDS": "2",
    "SHANGLIANG_FEDERATION_PUMP_SECONDS": "0.3",
    "SHANGLIANG_FEDERATION_LEASE_SECONDS": "3",
}


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb, pg_ctl), run as the ``postgres`` system user."""

    def __init__(self):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not bins:
            pytest.skip("PostgreSQL's pg_ctl is not installed: the faults test needs a cluster of its own")
        try:
            self.user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("no postgres system user to run a private cluster as")
        if os.geteuid() != 0:
            pytest.skip("the faults test starts its own PostgreSQL as the postgres user, which needs root")
        self.bin = bins[-1].parent
        self.dir = Path(tempfile.mkdtemp(prefix="shangliang-faults-pg-"))
        os.chmod(self.dir, 0o755)
        os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        self.port = free_port()
        self._as_postgres([str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres",
                           "--no-sync"])
        self.start()

    def _as_postgres(self, args: list[str]) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w",
                           "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start"])

    def stop(self, mode: str = "immediate") -> None:
        self._as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", mode, "-w", "stop"])

    def database(self, name: str) -> str:
        self._as_postgres([str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                           "-c", f"CREATE DATABASE {name}"])
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def close(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    def __init__(self, directory: Path):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            pytest.skip("redis-server is not installed: the faults test needs a Redis of its own")
        self.dir, self.port, self.process = directory, free_port(), None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.dir)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: _listening(self.port), 10, "redis-server")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


@pytest.fixture
def servers(tmp_path):
    postgres = PrivatePostgres()
    redis = PrivateRedis(tmp_path)
    try:
        yield postgres, redis
    finally:
        redis.process.kill()
        postgres.close()


def escalation(topic: str, n: int) -> str:
    return json.dumps({
        "topic": {"uid": topic, "title": f"跨镇事项 {n}", "description": "", "category": "交通",
                  "areas": ["620302001", "620302002"], "raised_by": {"kind": "public", "name": "村民"},
                  "raised_ms": 1763800000000, "stage": "collected"},
        "reason": "跨乡镇事项",
    }, ensure_ascii=False)


def test_every_escalation_arrives_exactly_once_through_kills_of_each_part(tmp_path, servers):
    postgres, redis = servers
    urls = {COUNTY: (postgres.database("county"), redis.url(1)), TOWNSHIP: (postgres.database("township"), redis.url(2))}

    def factory(node_id: str, name: str, url: str) -> Path:
        node_dir = tmp_path / f"node-{node_id}"
        database, broker = urls[node_id]
        result = CliRunner().invoke(cli, ["init", str(node_dir), "--id", node_id, "--name", name, "--url", url,
                                          "--database-url", database, "--broker-url", broker], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return node_dir

    nodes = make_federation(factory, [COUNTY, TOWNSHIP], in_process=True)
    county, township = nodes[COUNTY], nodes[TOWNSHIP]
    for node in nodes.values():
        node.env.update(FAST)
    try:
        county.start()
        township.start()
        topics = [f"{TOWNSHIP}:{uuid.uuid4().hex}" for _ in range(N)]
        written: list[str] = []
        failures = {"retries": 0}

        def already_written(topic: str) -> bool:
            """Whether the township's outbox holds ``topic``, asked again until the database answers."""
            while True:
                try:
                    rows = township.run_json("outbox", "list", "--limit", "100000")
                except Exception:
                    time.sleep(0.5)
                    continue
                return any(row.get("topic") == topic for row in rows)

        def stream() -> None:
            for n, topic in enumerate(topics):
                while True:
                    try:
                        township.run("outbox", "send", "topic.escalate", "--to", COUNTY, "--topic", topic,
                                     "--body", escalation(topic, n))
                        break
                    except Exception:  # the database went away (exit 2): as a careful person would, look whether
                        failures["retries"] += 1  # the message was written before the failure, else send again
                        if already_written(topic):
                            break
                written.append(topic)

        writer = threading.Thread(target=stream, daemon=True)
        writer.start()

        def after(fraction: float) -> None:
            wait_for(lambda: len(written) >= fraction * N or not writer.is_alive(), 600, f"{fraction:.0%} written")

        after(0.2)
        township.kill()  # the sender's web, worker and beat, with no chance to record anything
        township.start()
        after(0.4)
        county.kill()
        time.sleep(1)
        county.start()
        after(0.6)
        redis.stop()
        time.sleep(2)
        redis.start()
        after(0.8)
        postgres.stop("immediate")
        time.sleep(2)
        postgres.start()
        writer.join(timeout=900)
        assert not writer.is_alive() and len(written) == N, f"the stream stopped after {len(written)} of {N}"

        seen: dict = {}

        def all_sent():
            rows = township.run_json("outbox", "list", "--limit", "100000")
            seen["rows"] = rows
            return len(rows) == N and all(row["status"] == "sent" for row in rows)

        try:
            wait_for(all_sent, 300, "every outbox row sent")
        except pytest.fail.Exception:
            rows = seen.get("rows", [])
            states = {}
            for row in rows:
                states[row["status"]] = states.get(row["status"], 0) + 1
            stuck = [r for r in rows if r["status"] != "sent"][:3]
            pytest.fail(f"not every row sent: {len(rows)} rows {states}; e.g. {stuck}\n"
                        f"township log:\n{township.log_tail(5000)}\ncounty log:\n{county.log_tail(3000)}")
        received = county.inbox()
        arrived = [row["topic"] for row in received]
        assert len(arrived) == N and sorted(arrived) == sorted(topics), \
            f"{len(arrived)} arrived of {N}; lost {len(set(topics) - set(arrived))}, twice {len(arrived) - len(set(arrived))}"
        assert township.run_json("outbox", "list", "--dead") == []
        print(f"faults: {N} escalations, {failures['retries']} sends retried while PostgreSQL was down, "
              f"{len(arrived)} arrived, 0 lost, 0 twice")
    finally:
        for node in nodes.values():
            if node.running:
                node.stop()
