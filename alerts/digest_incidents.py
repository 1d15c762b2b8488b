"""The digest's incident parts: the day's incidents with their alerts beneath, the team's response times per
incident, and the share of incidents that met their targets (`alerts.incident_targets`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd

from alerts import explain as ex
from alerts.incident_targets import Share, share_of
from settings import Settings

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
OPEN = ("new", "acknowledged", "assigned")


def gather(run: Callable[[str, dict[str, Any]], pd.DataFrame], span: dict[str, str]) -> dict[str, pd.DataFrame]:
    return {"incidents": run("incidents", {**span, "limit": 1000}),
            "members": run("incident_alerts", span),
            "incident_team": run("incident_team_response", span)}


def duration(minutes: Any) -> str:
    if minutes is None or pd.isna(minutes):
        return "n/a"
    minutes = float(minutes)
    return f"{minutes:.0f} min" if minutes < 90 else f"{int(minutes // 60)} h {int(minutes % 60):02d} min"


def headline(incidents: pd.DataFrame, alerts: pd.DataFrame) -> str:
    if not len(incidents):
        return f"no incidents ({len(alerts)} alerts)" if len(alerts) else "no alerts"
    high = int((incidents["severity"] == "high").sum())
    still = int(incidents["status"].isin(OPEN).sum())
    plural = "s" if len(incidents) != 1 else ""
    return (f"{len(incidents)} incident{plural} ({high} high), {still} still open; "
            f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''}")


def share(incidents: pd.DataFrame, s: Settings, until: datetime) -> Share:
    """Targets met by the day's incidents, judged at the digest's time."""
    return share_of(incidents, s.incidents.targets, until)


def response_fact(team: pd.DataFrame, met: Share) -> str | None:
    overall = team[team["severity"] == "all"]
    if not len(overall) or not overall.iloc[0]["incidents"]:
        return None
    row = overall.iloc[0]
    total, acked, responded = int(row["incidents"]), int(row["acknowledged"]), int(row["responded"])
    if not acked:
        return f"Team response: none of the {total} incidents acknowledged yet. Targets: {met.text()}."
    fact = (f"Team response: {acked} of {total} incidents acknowledged, median "
            f"{duration(row['median_minutes_to_acknowledge'])} after they opened")
    if responded:
        fact += (f"; {responded} answered, first response after a median "
                 f"{duration(row['median_minutes_to_first_response'])}")
    if int(row["resolved"]):
        fact += f"; {int(row['resolved'])} resolved, median {duration(row['median_minutes_to_resolve'])}"
    return f"{fact}. Targets: {met.text()}."


def rows(incidents: pd.DataFrame, members: pd.DataFrame, s: Settings) -> list[dict[str, Any]]:
    """Incidents most severe first, then by time, each with its alerts (oldest first) beneath."""
    if not len(incidents):
        return []
    beneath = _plain(members).groupby("incident_id") if len(members) else None
    ordered = _plain(incidents.assign(rank=incidents["severity"].map(SEVERITY_ORDER)))
    found = []
    for r in ordered.sort_values(["rank", "first_seen_at"]).to_dict("records"):
        alerts = beneath.get_group(r["incident_id"]) if beneath is not None and r["incident_id"] in beneath.groups \
            else members.iloc[0:0]
        found.append({**r, "seen": ex.day_and_clock(r["first_seen_at"], s.zone),
                      "first_post": ex.day_and_clock(r["first_post_at"], s.zone) if r["first_post_at"] else "n/a",
                      "to_ack": duration(r["minutes_to_acknowledge"]),
                      "to_respond": duration(r["minutes_to_first_response"]),
                      "to_resolve": duration(r["minutes_to_resolve"]),
                      "alerts": [{**a, "seen": ex.day_and_clock(a["first_seen_at"], s.zone)}
                                 for a in alerts.to_dict("records")]})
    return found


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing values print as nothing, not 'nan' or 'NaT'."""
    return frame.astype(object).where(frame.notna(), None)


def team_rows(team: pd.DataFrame) -> list[dict[str, Any]]:
    found = []
    for r in team.to_dict("records"):
        times = {name: duration(r[f"{stat}_minutes_to_{what}"]) for name, stat, what in (
            ("to_ack", "median", "acknowledge"), ("to_ack_p90", "p90", "acknowledge"),
            ("to_respond", "median", "first_response"), ("to_respond_p90", "p90", "first_response"),
            ("to_resolve", "median", "resolve"), ("to_resolve_p90", "p90", "resolve"))}
        found.append({"severity": r["severity"], "incidents": int(r["incidents"]), "open": int(r["open"]), **times})
    return found


def incident_of(members: pd.DataFrame) -> dict[int, int]:
    """alert_id -> incident_id, for the CSV."""
    return {int(a): int(i) for a, i in zip(members["alert_id"], members["incident_id"], strict=True)} \
        if len(members) else {}
