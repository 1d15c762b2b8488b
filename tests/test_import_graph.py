"""The seams between packages hold: the dashboard pulls in no platform client library, `core` stands on no project
package, storage does not reach up into collectors or alerts, and the top-level packages import one another
without a cycle (function-level imports count: they hide a cycle, they do not remove it)."""

import ast
import itertools
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "collectors", "classifiers", "alerts", "dashboard", "storage", "responses", "intake",
            "jobs", "settings", "supervise")
SDKS = ("tweepy", "praw", "mastodon", "atproto", "websockets", "feedparser", "imap_tools", "twilio")

# The modules the dashboard's app and pages import (they are Streamlit scripts, not imported themselves), every
# dashboard module, and the settings load of the sign-in gate; then the platform SDKs found in sys.modules.
PROBE = """
import ast, importlib, json, pathlib, sys
root = pathlib.Path("dashboard")
names = {f"dashboard.{p.stem}" for p in root.glob("*.py") if p.stem not in ("app", "__init__")}
for script in [root / "app.py", *sorted((root / "pages").glob("*.py"))]:
    for node in ast.walk(ast.parse(script.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
import settings
settings.load("settings.toml")
for name in sorted(names):
    importlib.import_module(name)
for extra in sys.argv[1:]:
    importlib.import_module(extra)
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(SDKS))))
"""


def sdks_after_importing_the_dashboard(*extra: str) -> list[str]:
    script = f"SDKS = {SDKS!r}\n" + PROBE
    done = subprocess.run([sys.executable, "-c", script, *extra], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_dashboard_imports_no_platform_sdk():
    assert sdks_after_importing_the_dashboard() == []


def test_the_probe_sees_an_sdk_when_one_is_imported():
    assert {"tweepy", "praw", "feedparser"} <= set(sdks_after_importing_the_dashboard("collectors.registry"))


def imports(path: Path) -> set[str]:
    """The top-level project packages one source file imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


def package_files(package: str) -> list[Path]:
    single = ROOT / f"{package}.py"
    return [single] if single.exists() else sorted((ROOT / package).rglob("*.py"))


def graph() -> dict[str, dict[str, list[str]]]:
    """package -> imported package -> the files that import it."""
    edges: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for package in PACKAGES:
        for path in package_files(package):
            for target in imports(path) - {package}:
                edges[package][target].append(str(path.relative_to(ROOT)))
    return edges


def test_core_imports_no_project_package():
    assert package_files("core"), "core/ is missing"
    assert dict(graph()["core"]) == {}


def test_storage_imports_neither_collectors_nor_alerts():
    reaching_up = {k: v for k, v in graph()["storage"].items() if k in ("collectors", "alerts")}
    assert reaching_up == {}


def find_cycle(edges: dict[str, dict[str, list[str]]]) -> list[str]:
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = "open"
        for nxt in sorted(edges.get(node, {})):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt):], nxt] if nxt in path else [node, nxt]
            if nxt not in state and (cycle := visit(nxt, [*path, nxt])):
                return cycle
        state[node] = "done"
        return []

    for start in sorted(set(PACKAGES) | set(edges)):
        if start not in state and (cycle := visit(start, [start])):
            return cycle
    return []


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b": []}, "b": {"c": []}, "c": {"a": []}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": []}, "b": {}}) == []


def test_no_import_cycle_among_the_top_level_packages():
    edges = graph()
    cycle = find_cycle(edges)
    where = {f"{a} -> {b}": edges[a][b] for a, b in itertools.pairwise(cycle)}
    assert not cycle, f"import cycle {' -> '.join(cycle)}: {where}"


DATABASE_CALLS = ("reader", "write", "transaction", "new_cursor")  # a connection or transaction of its own


def connection_uses(path: Path) -> list[str]:
    """Where a module imports duckdb or calls `db.reader()`, `db.write(...)`, `db.transaction()`, `db.new_cursor()`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if any(n.split(".")[0] == "duckdb" for n in names):
            found.append(f"{path.name}:{node.lineno} imports duckdb")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in DATABASE_CALLS:
            receiver = ast.unparse(node.func.value)
            if receiver == "db" or receiver.endswith(".db") or receiver.endswith("database"):
                found.append(f"{path.name}:{node.lineno} calls {receiver}.{node.func.attr}()")
    return found


def test_the_alerts_package_gets_typed_stores_never_a_connection():
    found = [use for path in package_files("alerts") for use in connection_uses(path)]
    assert package_files("alerts") and found == [], "use storage.alert_stores (reading / read / write) instead"


def test_the_connection_check_sees_a_connection(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import duckdb\ndef f(db):\n    return db.reader(), db.write(print), self.db.transaction()\n")
    assert connection_uses(module) == ["m.py:1 imports duckdb", "m.py:3 calls db.reader()", "m.py:3 calls db.write()",
                                       "m.py:3 calls self.db.transaction()"]
