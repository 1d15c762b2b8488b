"""`civicradar run` as real processes: its dashboard ends with it, even on SIGKILL, and a restart comes up whole."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from helpers import free_port, wait_for

EXE = Path(sys.executable).parent / "civicradar"


def start_run(settings: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        return subprocess.Popen([str(EXE), "--settings", str(settings), "run"], stdout=out, stderr=subprocess.STDOUT,
                                env=env)


def answers(url: str) -> bool:
    return httpx.get(url, timeout=2).status_code == 200


def dashboard_of(parent: int) -> psutil.Process:
    found = [p for p in psutil.Process(parent).children() if "streamlit" in " ".join(p.cmdline())]
    assert len(found) == 1, f"expected one dashboard child of {parent}, found {found}"
    return found[0]


def gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE  # nobody left to reap it here: it is gone all the same
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def run_settings(tmp_path, write_settings):
    engine_port, dashboard_port = free_port(), free_port()
    path = write_settings(f"""
        [storage]
        path = "data/civicradar.duckdb"
        [server]
        port = {engine_port}
        [dashboard]
        port = {dashboard_port}
        users_file = "data/users.yaml"
        [classify]
        enabled = false  # no models: this test is about processes
    """)
    return path, f"http://127.0.0.1:{engine_port}/health", f"http://127.0.0.1:{dashboard_port}/_stcore/health"


@pytest.mark.slow
def test_dashboard_dies_with_a_killed_run_and_a_restart_comes_up_whole(run_settings, tmp_path):
    settings, engine_health, dashboard_health = run_settings
    runs: list[subprocess.Popen[bytes]] = []
    dashboards: list[psutil.Process] = []
    try:
        runs.append(start_run(settings, tmp_path / "first.log"))
        wait_for(lambda: answers(engine_health) and answers(dashboard_health), timeout=90, what="the first run")
        dashboards.append(dashboard_of(runs[0].pid))
        runs[0].send_signal(signal.SIGKILL)
        runs[0].wait(timeout=10)
        # restarted at once, as a supervisor would: the new run waits for the old dashboard's port
        runs.append(start_run(settings, tmp_path / "second.log"))
        wait_for(lambda: gone(dashboards[0]), timeout=8, what="the dashboard to end with its killed parent")
        wait_for(lambda: answers(engine_health) and answers(dashboard_health), timeout=90, what="the restarted run")
        dashboards.append(dashboard_of(runs[1].pid))
        runs[1].send_signal(signal.SIGTERM)
        assert runs[1].wait(timeout=30) == 0
        assert gone(dashboards[1])
        log = (tmp_path / "second.log").read_text()
        assert "is not available" not in log, log
    finally:  # never leave a process holding a port, whatever failed
        for process in (*runs, *dashboards):
            if process.poll() is None if isinstance(process, subprocess.Popen) else not gone(process):
                process.kill()


def test_a_held_dashboard_port_is_waited_for_then_named(tmp_path):
    from supervise import PortBusy, wait_for_free_port

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        started = time.monotonic()
        with pytest.raises(PortBusy) as caught:
            wait_for_free_port("127.0.0.1", port, "dashboard.port", timeout=0.6)
        assert 0.5 < time.monotonic() - started < 5
        message = str(caught.value)
        assert f"port {port}" in message and "dashboard.port" in message
        assert f"pid {os.getpid()}" in message  # who holds it, so staff can stop it
    finally:
        holder.close()
    wait_for_free_port("127.0.0.1", port, "dashboard.port", timeout=0.6)  # free again: returns at once


def test_a_child_whose_parent_is_already_gone_does_not_start():
    from supervise import PARENT_ENV

    not_the_parent = os.getppid()  # as if the parent had died and the child had been re-parented
    result = subprocess.run([sys.executable, "-m", "supervise", "http.server", "--bind", "127.0.0.1", "0"],
                            env={**os.environ, PARENT_ENV: str(not_the_parent)}, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 1
    assert f"parent process {not_the_parent} ended before http.server started" in result.stderr
