"""Every registered detector on one seeded database: it reads through the read-only store and what it finds is
well-formed (declared kind, severity, step, words, evidence that exists, storable numbers). Also the registry's own
contract: a module in alerts/detectors/ that declares no DETECTOR is refused by name."""

import json
import textwrap
from datetime import datetime, timedelta

import pyarrow as pa
import pytest

import settings
from alerts import engine, registry
from alerts.context import Context
from alerts.detect import run_pass
from alerts.model import SEVERITIES, Evidence, Finding
from collectors.base import Batch, Claim, Post
from storage import alert_stores
from storage.alert_store import to_json
from storage.db import Database

END = datetime(2026, 10, 27, 15, 0)
STEPS = (END - timedelta(minutes=5), END)
BURST = "Boil water notice for the whole county starting tonight, share this with your neighbours"


def posts(prefix: str, start: datetime, count: int, minutes: float, text: str) -> list[Post]:
    return [Post("x", f"{prefix}{i}", text.format(i=i), start + timedelta(minutes=minutes * i / count),
                 author_id=f"{prefix}-a{i}", watches=("water",)) for i in range(count)]


def label(db: Database, shown: list[Post], sentiment: str, claim: str | None = None) -> None:
    n = len(shown)
    rows = pa.table({
        "platform": [p.platform for p in shown], "post_id": [p.post_id for p in shown],
        "created_at": pa.array([p.created_at for p in shown], pa.timestamp("us")), "sentiment": [sentiment] * n,
        "topics": [[{"name": "water", "score": 0.9}]] * n, "matched_claim_id": [claim] * n,
        "matched_claim_score": [0.9 if claim else None] * n, "misinfo_model": ["test@1"] * n,
        "labelled_at": pa.array([END] * n, pa.timestamp("us"))})

    def insert(con) -> None:
        con.register("new_labels", rows)
        con.execute("INSERT INTO labels BY NAME SELECT * FROM new_labels")
        con.unregister("new_labels")

    db.write(insert)


@pytest.fixture(scope="module")
def seeded():
    """A quiet week on a watch, then a burst of one repeated, negative text, part of it matching a false claim:
    enough for every detector shipped today to fire."""
    db = Database(":memory:")
    quiet = [p for day in range(1, 8) for p in posts(f"q{day}-", END - timedelta(days=day, hours=1), 4, 60,
                                                        "Water main works on Elm street, day update {i}")]
    burst = posts("b", END - timedelta(minutes=40), 60, 39, BURST)
    db.write_batch("test", Batch(quiet + burst, None, claims=[
        Claim("C-1", "Boil water notice for the whole county. Official fact: there is none.", "False")]))
    label(db, quiet, "neutral")
    label(db, burst[:40], "negative")
    label(db, burst[40:], "negative", claim="C-1")
    yield db
    db.close()


def run(db: Database, detector: registry.Detector, s: settings.Settings) -> list[Finding]:
    with alert_stores.reading(db) as reader:
        ctx = Context(reader, STEPS, s.alerts, s.zone, reader.first_post_at())
        assert all(w % ctx.bucket_minutes == 0 for w in detector.windows(ctx.rules)), "bucket_minutes must divide"
        return detector.detect(ctx)


def test_the_registry_finds_the_shipped_detectors_and_their_settings_tables():
    assert [d.name for d in registry.detectors()] == ["volume", "claims", "coordination", "narratives"]
    assert set(registry.rule_models()) == {"volume", "sentiment", "claims", "coordination", "narrative"}
    assert [d.name for d in registry.fast()] == ["volume", "claims"]


@pytest.mark.parametrize("detector", registry.detectors(), ids=lambda d: d.name)
def test_every_detector_finds_well_formed_findings_on_the_seeded_database(seeded, detector):
    s = settings.Settings(timezone="America/Chicago")
    found = run(seeded, detector, s)
    assert found, f"{detector.name} found nothing on data made to trip it"
    assert {f.kind for f in found} <= set(detector.kinds)
    stored = {tuple(r) for r in seeded.reader().execute("SELECT platform, post_id FROM posts").fetchall()}
    for f in found:
        assert f.fingerprint.startswith(f.kind + ":") and f.severity in SEVERITIES and f.seen_at in STEPS
        assert f.title.strip() and len(f.explanation) > 40 and f.evidence
        assert all(isinstance(e, Evidence) and (e.platform, e.post_id) in stored for e in f.evidence)
        json.loads(to_json(f.metrics))  # numbers the alert store can keep
    recorded = alert_stores.write(seeded, lambda w: [w.record(f, timedelta(hours=2), END) for f in found])
    assert {r.event for r in recorded} <= {"raised", "updated", "escalated", "recurred", "suppressed"}


@pytest.mark.parametrize("detector", registry.detectors(), ids=lambda d: d.name)
def test_every_detector_has_documented_switchable_settings(detector):
    off = settings.parse({"alerts": {table: {"enabled": False} for table in detector.rules}}, settings.DEFAULT_PATH)
    for model in detector.rules.values():
        assert "enabled" in model.model_fields and model.__doc__
    with alert_stores.reading(Database(":memory:")) as reader:
        assert detector.detect(Context(reader, STEPS, off.alerts, off.zone, None)) == []


def test_bad_detector_tables_fail_naming_file_and_key(write_settings):
    path = write_settings("[alerts.volume]\nwindow_minutes = -5\n[alerts.volumee]\nenabled = true\n")
    s = settings.load(path)  # settings.load keeps the detectors' tables as written
    with pytest.raises(settings.SettingsError) as info:
        registry.check(s)
    message = str(info.value)
    assert f"{path}: alerts.volume.window_minutes: Input should be greater than 0" in message
    assert "alerts.volumee: no detector has a table of that name (known: claims, coordination" in message
    with pytest.raises(settings.SettingsError, match=r"alerts\.volume\.window_minutes"):
        engine.jobs(Database(":memory:"), s, lambda: END)  # the engine's start checks them


@pytest.mark.parametrize("command", [["status"], ["collect", "--source", "a", "--once"], ["forget", "--author", "x"]])
def test_every_cli_command_fails_at_start_on_a_bad_detector_table(write_settings, tmp_path, capsys, command):
    import jobs

    path = write_settings('[storage]\npath = "data/db.duckdb"\n[sources.a]\nkind = "replay"\npath = "a.jsonl"\n'
                          "[alerts.volume]\nwindow_minutes = -5\n")
    assert jobs.main(["--settings", str(path), *command]) == 2
    assert f"{path}: alerts.volume.window_minutes: Input should be greater than 0" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()  # refused before the command opened anything


ECHO = """
from pydantic import Field

from alerts.model import Finding
from alerts.registry import Detector
from settings import StrictModel


class EchoRule(StrictModel):
    \"\"\"[alerts.echo]: one finding per step when at least `min_posts` posts are stored.\"\"\"

    enabled: bool = True
    min_posts: int = Field(1, gt=0)


def detect(ctx):
    rule = ctx.rule(EchoRule)
    if not rule.enabled or ctx.data_start is None:
        return []
    return [Finding("echo", "echo:all", "low", end, "Echo", "Posts are stored.") for end in ctx.steps]


DETECTOR = Detector(detect, kinds=("echo",), rules={"echo": EchoRule}, order=1, windows=lambda rules: (7,))
"""


def use_package(tmp_path, monkeypatch, name: str, modules: dict[str, str]):
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module, text in modules.items():
        (package / f"{module}.py").write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "package", __import__(name))
    registry.detectors.cache_clear()


def test_one_new_file_is_a_detector_the_pass_runs(tmp_path, monkeypatch, fresh_db):
    shipped = {d.name: f"from alerts.detectors.{d.name} import DETECTOR\n" for d in registry.detectors()}
    use_package(tmp_path, monkeypatch, "onefile", {"echo": ECHO, **shipped})  # the shipped ones and one new file
    try:
        s = settings.parse({"alerts": {"echo": {"min_posts": 2}}}, settings.DEFAULT_PATH)
        assert registry.check(s)(registry.rule_models()["echo"]).min_posts == 2 and registry.kinds()[0] == "echo"
        fresh_db.write_batch("test", Batch(posts("e", END - timedelta(minutes=30), 3, 20, "hello {i}"), None))
        result = run_pass(fresh_db, s, END)
        assert [r.finding.kind for r in result.recorded] == ["echo"] and result.counts()["raised"] == 1
        with alert_stores.reading(fresh_db) as reader:
            assert Context(reader, STEPS, s.alerts, s.zone, None).bucket_minutes == 1  # gcd(7, 5, 60)
    finally:
        monkeypatch.undo()
        registry.detectors.cache_clear()


def test_a_module_without_the_contract_is_refused_by_name(tmp_path, monkeypatch):
    use_package(tmp_path, monkeypatch, "somedetectors", {"halfdone": "def detect(ctx):\n    return []\n"})
    try:
        with pytest.raises(registry.DetectorError, match=r"halfdone.py \(somedetectors.halfdone\) declares no DETEC"):
            registry.detectors()
    finally:
        monkeypatch.undo()
        registry.detectors.cache_clear()
