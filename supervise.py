"""Child processes that end with their parent, however the parent ends (SIGKILL, the OOM killer, a crash).

`civicradar run` starts the dashboard as `python -m supervise streamlit run ...`: run as the child, this module
starts a thread that watches the parent, then runs the real program (`python -m streamlit ...`) in the same
process. When the parent is gone, the watcher asks the program to stop (SIGTERM, which Streamlit handles by
closing its server) and, if it has not stopped after a grace period, ends the process, so its port is free.

Why a watcher rather than Linux's parent-death signal (prctl PR_SET_PDEATHSIG):
- the "parent" of PDEATHSIG is the *thread* that forked the child: a dashboard started from a worker thread
  (a scheduler job, a restart) would be killed when that thread ends, while the engine lives on;
- setting it in the child needs `preexec_fn`, which Python documents as unsafe once threads run (the engine's
  scheduler and storage service do by then): the child can deadlock between fork and exec;
- the parent can die before the child sets it, a race that needs this same pid check anyway.
The watcher needs only POSIX re-parenting: once the parent dies, getppid() changes, whichever thread forked. The
expected parent pid comes from the environment, so a parent that dies before the child starts is noticed too.
The cost is a wake-up every POLL_SECONDS in the child, and up to that delay before it stops.
"""

from __future__ import annotations

import errno
import os
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence

from core.errors import CivicRadarError

PARENT_ENV = "CIVICRADAR_PARENT_PID"
POLL_SECONDS = 0.25
GRACE_SECONDS = 5.0
PORT_WAIT_SECONDS = 10.0


class PortBusy(CivicRadarError):
    """A port the settings name is held by another process."""


def start_child(argv: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """`python -m ARGV...` as a child that ends when this process ends, even on SIGKILL."""
    command = [sys.executable, "-m", "supervise", *argv]
    return subprocess.Popen(command, env={**env, PARENT_ENV: str(os.getpid())})


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)  # the program's own clean stop
    time.sleep(GRACE_SECONDS)
    os._exit(1)  # it did not stop in time: go anyway, so the next start finds its port free


def main(argv: Sequence[str]) -> None:
    """`python -m supervise MODULE ARGS...`: runs `python -m MODULE ARGS...`, ending when the parent ends."""
    if not argv:
        sys.exit("usage: python -m supervise MODULE [ARGS...]")
    parent = int(os.environ.pop(PARENT_ENV, "0"))
    if parent:
        if os.getppid() != parent:
            sys.exit(f"supervise: parent process {parent} ended before {argv[0]} started; not starting it")
        threading.Thread(target=_watch, args=(parent,), name="parent-watcher", daemon=True).start()
    sys.argv = list(argv)
    runpy.run_module(argv[0], run_name="__main__", alter_sys=True)


def wait_for_free_port(host: str, port: int, setting: str, timeout: float = PORT_WAIT_SECONDS) -> None:
    """Returns once host:port can be listened on; a dashboard of a run that just crashed may need a moment to go."""
    deadline = time.monotonic() + timeout
    while not _can_listen(host, port):
        if time.monotonic() >= deadline:
            raise PortBusy(_busy_message(host, port, setting, timeout))
        time.sleep(0.2)


def _can_listen(host: str, port: int) -> bool:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror:
        return True  # an unknown host name: the server itself reports it
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Tornado and uvicorn do: TIME_WAIT is fine
        try:
            probe.bind(address)
        except OSError as e:
            return e.errno != errno.EADDRINUSE  # anything else (a wrong host) the server itself reports
    return True


def _busy_message(host: str, port: int, setting: str, timeout: float) -> str:
    held = f"port {port} ({setting}) on {host} is still in use after {timeout:g} s"
    holder = _listener(port)
    if holder is None:
        return (f"{held} by another program (find it with `ss -ltnp 'sport = :{port}'`). "
                f"Stop it, or choose another {setting} in the settings file.")
    pid, command = holder
    if "dashboard/app.py" in command and "streamlit" in command:
        return (f"{held} by pid {pid} ({command}): a CivicRadar dashboard left over from an earlier run that "
                f"ended without stopping it. Stop it (`kill {pid}`) and start again.")
    return f"{held} by pid {pid} ({command}). Stop that program, or choose another {setting} in the settings file."


def _listener(port: int) -> tuple[int, str] | None:
    """The pid and command line of the process listening on `port`, where this user may see it."""
    import psutil

    try:
        for conn in psutil.net_connections("tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
                return conn.pid, " ".join(psutil.Process(conn.pid).cmdline())
    except psutil.Error:
        pass  # not allowed to look (another user's process): the message says how to find it
    return None


if __name__ == "__main__":
    main(sys.argv[1:])
