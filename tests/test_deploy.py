"""deploy/: the systemd unit passes `systemd-analyze verify` and keeps its hardening; the service and container
settings keep the data in the state folder; the Containerfile copies every module the package is made of."""

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import jobs
import settings as settings_module

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "civicradar.service"
STATE = Path("/var/lib/civicradar")
INSTALLED_EXE = "/opt/civicradar/bin/civicradar"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed "
                                   "(Debian: apt-get install systemd); the unit file is not verified")


def unit_entries() -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            entries.setdefault(key, []).append(value)
    return entries


@pytest.fixture
def local_unit(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this checkout's civicradar: verify checks that the program exists."""
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace(INSTALLED_EXE, str(Path(sys.executable).parent / "civicradar")))
    return unit


@needs_analyze
def test_the_unit_passes_systemd_analyze_verify(local_unit: Path) -> None:
    result = subprocess.run([ANALYZE, "verify", str(local_unit)], capture_output=True, text=True, timeout=120)
    # verify exits 0 on an unknown or misspelt key (it only warns): any line it prints is a failure
    assert result.returncode == 0, result.stderr
    assert not (result.stdout + result.stderr).strip(), result.stdout + result.stderr


@needs_analyze
def test_the_unit_keeps_its_hardening(local_unit: Path) -> None:
    result = subprocess.run([ANALYZE, "security", "--offline=true", str(local_unit)], capture_output=True, text=True,
                            timeout=120)
    exposure = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)
    assert exposure, result.stdout + result.stderr
    assert float(exposure.group(1)) <= 2.0, f"exposure {exposure.group(1)} (README: 1.4):\n{result.stdout}"


def test_the_unit_runs_engine_and_dashboard_as_civicradar_with_its_settings() -> None:
    entries = unit_entries()
    program, *argv = shlex.split(entries["ExecStart"][0])
    args = jobs.parser().parse_args(argv)
    assert (program, args.command, args.settings) == (INSTALLED_EXE, "run", Path("/etc/civicradar/settings.toml"))
    assert entries["User"] == ["civicradar"] and entries["Restart"] == ["on-failure"]
    assert Path("/var/lib", *entries["StateDirectory"]) == STATE and entries["StateDirectoryMode"] == ["0700"]
    assert entries["NoNewPrivileges"] == ["yes"] and entries["ProtectSystem"] == ["strict"]


@pytest.mark.parametrize(("name", "dashboard_host"), [("settings.toml", "127.0.0.1"), ("container.toml", "0.0.0.0")])
def test_the_deploy_settings_keep_the_data_in_the_state_folder(name: str, dashboard_host: str) -> None:
    s = settings_module.load(DEPLOY / name)
    assert s.db_path.parent == STATE  # service.token, pseudonym.key and snapshots/ go beside the database
    assert s.path(s.dashboard.users_file).parent == STATE
    assert (s.dashboard.host, s.server.host) == (dashboard_host, "127.0.0.1")


def containerfile() -> str:
    return (DEPLOY / "Containerfile").read_text()


def test_the_container_copies_every_module_of_the_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    copied = {source for line in containerfile().splitlines() if line.startswith("COPY ") and "--from" not in line
              for source in line.split()[1:-1]}
    assert all(list(ROOT.glob(source)) for source in copied), copied
    packages = {pattern.rstrip("*") for pattern in project["packages"]["find"]["include"]}
    assert packages <= copied, f"the Containerfile does not copy the packages {sorted(packages - copied)}"
    assert "*.py" in copied or {f"{m}.py" for m in project["py-modules"]} <= copied


def test_the_container_runs_as_a_user_with_its_settings_and_checks_both_servers() -> None:
    text = containerfile()
    s = settings_module.load(DEPLOY / "container.toml")
    assert re.search(r"COPY deploy/container.toml (\S+)", text).group(1) == "/etc/civicradar/settings.toml"
    assert "CIVICRADAR_SETTINGS=/etc/civicradar/settings.toml" in text
    assert re.search(r"^USER (\d+)", text, re.M).group(1) != "0"
    assert f"VOLUME {STATE}" in text and f"EXPOSE {s.dashboard.port}" in text
    healthcheck = re.search(r"^HEALTHCHECK .*(?:\n\s+.*)*", text, re.M).group(0)
    assert f"127.0.0.1:{s.server.port}/health" in healthcheck
    assert f"127.0.0.1:{s.dashboard.port}/_stcore/health" in healthcheck
