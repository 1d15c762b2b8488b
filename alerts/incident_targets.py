"""The team's targets for incidents (`[incidents.targets.<severity>]`): which are overdue, and the share met.

Two targets, in wall-clock minutes from the incident's opening: acknowledge it (any first action by a person),
and record a first response (the agency's answer, posted). An incident dismissed as noise needs no response.
Pure functions over rows of the `incidents` / `incident_response_times` queries (dicts or pandas rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from settings import IncidentTargets

TARGETS = ("acknowledge", "respond")
DONE_AT = {"acknowledge": "acknowledged_at", "respond": "first_response_at"}
OPEN = ("new", "acknowledged", "assigned")


def missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


@dataclass(frozen=True)
class Due:
    target: str  # acknowledge | respond
    minutes: float
    deadline: datetime

    def words(self, severity: str) -> str:
        verb = "acknowledged" if self.target == "acknowledge" else "responded to"
        return f"not {verb} within {self.minutes:.0f} min (the target for a {severity} incident)"


def deadlines(row: Mapping[str, Any], targets: IncidentTargets) -> list[Due]:
    """The incident's targets that apply to it (a dismissed incident needs no response)."""
    target = targets.of(str(row["severity"]))
    opened = pd.Timestamp(row["opened_at"]).to_pydatetime()
    found = [Due("acknowledge", target.acknowledge_minutes, opened + timedelta(minutes=target.acknowledge_minutes))]
    if row["status"] != "dismissed":
        found.append(Due("respond", target.respond_minutes, opened + timedelta(minutes=target.respond_minutes)))
    return found


def overdue(row: Mapping[str, Any], targets: IncidentTargets, now: datetime) -> list[Due]:
    """The targets an open incident has passed without meeting them."""
    if row["status"] not in OPEN:
        return []
    return [d for d in deadlines(row, targets) if missing(row[DONE_AT[d.target]]) and now > d.deadline]


def met(row: Mapping[str, Any], due: Due, now: datetime) -> bool | None:
    """True or False once it can be judged; None while the target is still ahead and unmet."""
    done = row[DONE_AT[due.target]]
    if not missing(done):
        return bool(pd.Timestamp(done).to_pydatetime() <= due.deadline)
    return False if now > due.deadline else None


@dataclass(frozen=True)
class Share:
    """Incidents that met each target, of those that can be judged yet."""

    acknowledged: tuple[int, int] = (0, 0)  # (met, judged)
    responded: tuple[int, int] = (0, 0)

    @property
    def overall(self) -> float | None:
        judged = self.acknowledged[1] + self.responded[1]
        return (self.acknowledged[0] + self.responded[0]) / judged if judged else None

    def text(self) -> str:
        def one(what: str, counts: tuple[int, int]) -> str:
            hit, judged = counts
            return f"{what}: {hit / judged:.0%} ({hit} of {judged})" if judged else f"{what}: none due yet"

        return (f"{one('acknowledged within target', self.acknowledged)}; "
                f"{one('first response within target', self.responded)}")


def share_within(rows: Iterable[Mapping[str, Any]], targets: IncidentTargets, now: datetime) -> Share:
    counts = {t: [0, 0] for t in TARGETS}
    for row in rows:
        for due in deadlines(row, targets):
            verdict = met(row, due, now)
            if verdict is not None:
                counts[due.target][0] += int(verdict)
                counts[due.target][1] += 1
    return Share((counts["acknowledge"][0], counts["acknowledge"][1]), (counts["respond"][0], counts["respond"][1]))


def share_of(frame: pd.DataFrame, targets: IncidentTargets, now: datetime) -> Share:
    """`share_within` over a DataFrame of the `incident_response_times` or `incidents` query."""
    return share_within((row for _, row in frame.iterrows()), targets, now) if len(frame) else Share()
