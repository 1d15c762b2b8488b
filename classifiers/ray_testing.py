"""A real local Ray cluster for tests and bench/scale.py: a head and worker processes on 127.0.0.1, token auth on.

    with LocalCluster(tmp_path, workers=2) as cluster:
        connect(cluster.address, cluster.token)

Every process is started in its own process group and killed by group at the end (never `ray stop`, which
would stop other people's clusters on the same machine too).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import psutil

RAY = str(Path(sys.executable).with_name("ray"))
ROOT = Path(__file__).resolve().parents[1]


PORT_OPTIONS = ("node-manager-port", "object-manager-port", "metrics-export-port", "dashboard-agent-listen-port",
                "dashboard-agent-grpc-port", "runtime-env-agent-port")


def free_ports(n: int) -> list[int]:
    """`n` distinct free ports (held open together while picked)."""
    held = [socket.socket() for _ in range(n)]
    try:
        for s in held:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in held]
    finally:
        for s in held:
            s.close()


class LocalCluster:
    def __init__(self, workdir: Path, workers: int = 2, cpus_per_worker: int = 1) -> None:
        self.workers, self.cpus = workers, cpus_per_worker
        self.temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # Ray's socket paths must stay short
        self.log = workdir / "ray-start.log"
        self.token = secrets.token_hex(16)
        self.port, *self._ports = free_ports(1 + len(PORT_OPTIONS) * (1 + workers))
        self.address = f"127.0.0.1:{self.port}"
        self.groups: list[int] = []

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": self.token, "RAY_USAGE_STATS_ENABLED": "0",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

    def _start(self, *args: str) -> subprocess.Popen[bytes]:
        # every port explicit: nodes started side by side on one machine would otherwise race for the same ones
        ports = [f"--{name}={self._ports.pop()}" for name in PORT_OPTIONS]
        common = ["--node-ip-address=127.0.0.1", "--disable-usage-stats", "--object-store-memory=100000000", *ports]
        with self.log.open("ab") as log:
            process = subprocess.Popen([RAY, "start", *args, *common], env=self.env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
        self.groups.append(process.pid)  # its own session: every Ray process it starts stays in it
        return process

    def start(self) -> LocalCluster:
        head = self._start("--head", f"--port={self.port}", "--num-cpus=0", "--include-dashboard=false",
                           f"--temp-dir={self.temp}")
        self._wait(head, "head")
        for _ in range(self.workers):  # one after the other: two raylets starting at once clash over a port
            self._wait(self._start(f"--address={self.address}", f"--num-cpus={self.cpus}"), "worker")
        return self

    def _wait(self, process: subprocess.Popen[bytes], what: str) -> None:
        if process.wait(timeout=120) != 0:
            raise RuntimeError(f"ray start ({what}) failed; see {self.log}:\n{self.log.read_text()[-3000:]}")

    def processes(self) -> list[psutil.Process]:
        """The cluster's live processes: those of its `ray start` sessions (Ray's workers leave the process group
        but not the session). A killed one may linger as a zombie until its new parent reaps it."""
        found = []
        for p in psutil.process_iter():
            try:
                if os.getsid(p.pid) in self.groups and p.status() != psutil.STATUS_ZOMBIE:
                    found.append(p)
            except (ProcessLookupError, psutil.Error):
                continue
        return found

    def stop(self) -> None:
        for group in self.groups:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        for p in self.processes():  # workers in process groups of their own: by pid
            with contextlib.suppress(psutil.Error):
                p.kill()
        deadline = time.monotonic() + 10
        while self.processes() and time.monotonic() < deadline:
            time.sleep(0.1)
        shutil.rmtree(self.temp, ignore_errors=True)  # Ray's sessions and logs (ray-start.log stays in workdir)

    def __enter__(self) -> LocalCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
                 ) -> None:
        self.stop()
