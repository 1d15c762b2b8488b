"""Helpers for the incident tests: posts on watches, findings about them, and alerts placed in incidents."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import settings
from alerts import incident_notify, incidents
from alerts.model import Evidence, Finding
from collectors.base import Batch, Post
from storage import alert_stores
from storage.db import Database
from storage.queries import QUERIES

T = datetime(2026, 11, 3, 15, 0)
COOLDOWN = timedelta(hours=2)
TEXTS = {
    "salt": "Gargling with warm salt water and vinegar kills the virus before it reaches your lungs, share this",
    "fair": "The fairgrounds testing site ran out of swabs again and the line goes back to Route 9",
    "bus": "Route 12 bus detour near the library starts Monday because of the water main works",
}


def make_settings(tmp_path: Path, **sections: object) -> settings.Settings:
    data = {"timezone": "America/Chicago", "smtp": {"host": "127.0.0.1", "sender": "radar@county.example"},
            **sections}
    return settings.parse(data, tmp_path / "settings.toml")


def posts(db: Database, prefix: str, n: int, text: str, watch: str | None, start: datetime = T) -> list[Post]:
    """n posts, a minute apart from an hour before `start`, each saying `text` with a small variation."""
    made = [Post("x", f"{prefix}{i}", f"{text} #{i}", start - timedelta(minutes=60 - i), author_id=f"{prefix}a{i}",
                 watches=(watch,) if watch else ()) for i in range(n)]
    db.write_batch("test", Batch(made, None))
    return made


def finding(kind: str, key: str, shown: list[Post], at: datetime = T, severity: str = "medium", posts: int = 30,
            **fields: object) -> Finding:
    evidence = tuple(Evidence(p.platform, p.post_id, p.created_at.replace(tzinfo=None), p.text) for p in shown[:5])
    return Finding(kind, f"{kind}:{key}", severity, at, f"{kind.replace('_', ' ')} on {key} ({posts} posts)",
                   f"Something about {key}: {posts} posts.", evidence=evidence, metrics={"posts": posts},
                   **fields)  # type: ignore[arg-type]


def place(db: Database, s: settings.Settings, *found: Finding, now: datetime = T) -> list[incidents.Notice]:
    """Store findings as alerts and place them in incidents (what a detection pass does), with their messages."""
    def run(w):
        recorded = [w.record(f, COOLDOWN, now) for f in found]
        notices = incidents.place(w, recorded, s, now)
        incident_notify.enqueue(w, notices, s, now)
        return notices

    return alert_stores.write(db, run)


def query(db: Database, name: str, **params: object):
    return db.reader().sql(QUERIES[name].sql, params=QUERIES[name].bind(name, params)).df()


def membership(db: Database) -> list[tuple]:
    return db.reader().execute("SELECT alert_id, incident_id, reason FROM incident_alerts ORDER BY alert_id").fetchall()
