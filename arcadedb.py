"""A local ArcadeDB server speaking Bolt, for tests, benchmarks and `make run-graph`.

ArcadeDB comes from PyPI (`arcadedb-embedded`, with a Java runtime of its own); it runs
the same Cypher texts as Neo4j 5 for the subset the Cypher store keeps to. The server
keeps its files in a folder, listens on loopback only, fsyncs every commit
(`txWalFlush=2`) and is stopped with the object that started it.
"""

from __future__ import annotations

import atexit
import base64
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Self

DATABASE = "neo4j"
READY_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _installed() -> Path:
    """Where the `arcadedb-embedded` package keeps its Java runtime and jars."""
    found = importlib.util.find_spec("arcadedb_embedded")
    if found is None or found.origin is None:
        raise RuntimeError("ArcadeDB is not installed: `pip install chainorg[graphdb]` (make does it)")
    return Path(found.origin).parent


class ArcadeDB:
    """An ArcadeDB server in `folder`, on free loopback ports unless given."""

    def __init__(self, folder: Path, password: str, bolt_port: int = 0, http_port: int = 0, memory: str = "1g"):
        if len(password) < 8:
            raise ValueError("ArcadeDB wants a root password of 8 characters or more")
        self.folder, self.password, self.memory = Path(folder), password, memory
        self.bolt_port = bolt_port or free_port()
        self.http_port = http_port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = DATABASE) -> str:
        """The store URL of a database of it, password left out (give it in CHAINORG_STORE_PASSWORD)."""
        return f"bolt://root@127.0.0.1:{self.bolt_port}/{database}"

    def command(self) -> list[str]:
        home = _installed()
        settings = {
            "arcadedb.server.rootPath": str(self.folder),
            "arcadedb.server.databaseDirectory": str(self.folder / "databases"),
            "arcadedb.server.rootPassword": self.password,
            "arcadedb.server.httpIncomingHost": "127.0.0.1",
            "arcadedb.server.httpIncomingPort": str(self.http_port),
            "arcadedb.server.plugins": "Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
            "arcadedb.bolt.host": "127.0.0.1",
            "arcadedb.bolt.port": str(self.bolt_port),
            "arcadedb.bolt.defaultDatabase": DATABASE,
            "arcadedb.server.defaultDatabases": f"{DATABASE}[root]",
            "arcadedb.txWalFlush": "2",
        }
        return [
            str(home / "jre" / "bin" / "java"), "-Xms256m", f"-Xmx{self.memory}",
            "--add-modules", "jdk.incubator.vector",
            "--add-exports", "java.management/sun.management=ALL-UNNAMED",
            *(f"-D{name}={value}" for name, value in settings.items()),
            "-cp", str(home / "jars" / "*"), "com.arcadedb.server.ArcadeDBServer",
        ]  # fmt: skip

    def start(self) -> Self:
        self.folder.mkdir(parents=True, exist_ok=True)
        out = (self.folder / "server.out").open("ab")
        self._process = subprocess.Popen(
            self.command(), cwd=self.folder, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        atexit.register(self.stop)  # stopped when the program that started it exits
        deadline = time.monotonic() + READY_SECONDS
        while not self.ready():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = (self.folder / "server.out").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"ArcadeDB did not start on bolt port {self.bolt_port}:\n{tail}")
            time.sleep(0.25)
        return self

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._process.pid if self._process is not None else None

    def create_database(self, name: str) -> None:
        """A new empty database (over HTTP: the Bolt server does not take CREATE DATABASE)."""
        self._post("/api/v1/server", {"command": f"create database {name}"})

    def _post(self, path: str, body: dict[str, str], timeout: float = 30) -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}{path}", data=json.dumps(body).encode(), method="POST"
        )
        request.add_header("Authorization", "Basic " + base64.b64encode(f"root:{self.password}".encode()).decode())
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return int(answer.status)

    def ready(self) -> bool:
        """Whether the database answers a query (the Bolt port opens before the database exists)."""
        try:
            return self._post(f"/api/v1/command/{DATABASE}", {"language": "cypher", "command": "RETURN 1"}, 2) == 200
        except OSError:
            return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def kill(self) -> None:
        """Stop it as a crash would (SIGKILL)."""
        if self._process is not None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
            self._process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    server = ArcadeDB(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0).start()
    print(server.url(), flush=True)
    try:
        signal.sigwait({signal.SIGTERM, signal.SIGINT})
    finally:
        server.stop()
