"""The touchpoint view's data and charts: channel x topic cells (storage/touchpoint_queries.py), one incident's path
across channels, and their downloads (CSV through the formula-safe writer, PNG through vl-convert, else matplotlib),
each recorded in the audit log before the file is handed over."""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.charts import SENTIMENT, SERIES
from dashboard.data import client, query, session, settings
from dashboard.exports import to_bytes
from responses import effect
from storage.client import StorageClient

log = logging.getLogger(__name__)
ALL = "(all posts)"  # storage.touchpoint_queries.ALL
CHANNELS = {  # platform -> how staff call the channel, in the order the view lists them
    "x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon", "reddit": "Reddit", "facebook": "Facebook",
    "instagram": "Instagram", "news": "News / RSS", "open311": "311 requests", "email": "E-mail",
    "webform": "Web form", "sms": "SMS", "import": "Imported"}
MEASURES = {  # column -> (label, number format, colour at the high end)
    "posts": ("Volume (posts)", ",.0f", SERIES[0]),
    "negative_share": ("Negative share", ".0%", SENTIMENT["negative"]),
    "open_incidents": ("Open incidents", ",.0f", "#7b1e3a"),
    "median_minutes_to_first_response": ("Median minutes to first response", ",.0f", SERIES[3]),
}
COLUMNS = ["channel", "topic", "posts", "negative_share", "open_incidents", "incidents",
           "median_minutes_to_first_response", "inbox_items", "median_minutes_to_answer"]


def label(platform: str) -> str:
    return CHANNELS.get(platform, platform)


def _order(platform: str) -> int:
    return list(CHANNELS).index(platform) if platform in CHANNELS else len(CHANNELS)


def cells(since: datetime, until: datetime) -> pd.DataFrame:
    """One row per channel and topic: volume, negative share, open incidents, median time to first response."""
    window = {"since": since.isoformat(), "until": until.isoformat(),
              "topic_min_score": settings().alerts.topic_min_score}
    posts, incidents = query("touchpoint_matrix", **window), query("touchpoint_incidents", **window)
    if posts.empty and incidents.empty:
        return pd.DataFrame(columns=COLUMNS)
    found = posts.merge(incidents.drop(columns="incident_ids"), on=["channel", "topic"], how="outer")
    found = found.fillna({"posts": 0, "negative": 0, "inbox_items": 0, "incidents": 0, "open_incidents": 0})
    found = found.assign(order=found["channel"].map(_order), channel=found["channel"].map(label))
    found = found.sort_values(["order", "channel", "topic"]).reset_index(drop=True)
    return found[COLUMNS].astype({c: "int64" for c in ("posts", "open_incidents", "incidents", "inbox_items")})


def heatmap(frame: pd.DataFrame, measure: str) -> alt.LayerChart:
    """Channels down, topics across, each cell coloured and labelled by `measure`."""
    title, fmt, high = MEASURES[measure]
    channels = list(dict.fromkeys(frame["channel"]))
    topics = [ALL, *sorted(t for t in set(frame["topic"]) if t != ALL)]
    base = alt.Chart(frame).encode(x=alt.X("topic:N", sort=topics, title=None, axis=alt.Axis(labelAngle=-30)),
                                   y=alt.Y("channel:N", sort=channels, title=None))
    rect = base.mark_rect(cornerRadius=2).encode(
        color=alt.Color(f"{measure}:Q", title=title, scale=alt.Scale(range=["#f4f6f8", high]),
                        legend=alt.Legend(orient="bottom", format=fmt)),
        tooltip=["channel:N", "topic:N", alt.Tooltip("posts:Q", format=","),
                 alt.Tooltip("negative_share:Q", format=".0%"), "open_incidents:Q",
                 alt.Tooltip("median_minutes_to_first_response:Q", format=",.0f", title="min to first response")])
    text = base.mark_text(fontSize=11).encode(text=alt.Text(f"{measure}:Q", format=fmt))
    return (rect + text).properties(height=max(34 * len(channels), 120), title=f"{title} by channel and topic")


@dataclass(frozen=True)
class Journey:
    """One incident across channels: posts per hour per channel, and each channel's first post."""

    hourly: pd.DataFrame  # channel, hour, posts
    first: pd.DataFrame  # channel, first_at, posts (ordered by first_at)
    what: str

    def sentence(self) -> str:
        if self.first.empty:
            return "None of its posts are stored any more."
        steps = [f"{r['channel']} ({r['first_at']:%d %b %H:%M})" for _, r in self.first.iterrows()]
        if len(steps) == 1:
            return f"Seen on {steps[0]} only ({self.what})."
        return f"First seen on {steps[0]}, then {', then '.join(steps[1:])} ({self.what}; engine clock)."


def journey(incident_id: int) -> Journey | None:
    """The incident's followed posts (as 'did the response work?' follows them) and evidence, per channel."""
    s = settings()
    about = query("incident_effect_about", incident_id=incident_id)
    follow = effect.follow_of(about.iloc[0]) if len(about) else None
    rows = query("incident_channels", incident_id=incident_id, min_claim_score=s.alerts.claim_match_score,
                 topic_min_score=s.alerts.topic_min_score)
    kind = follow.kind if follow is not None else "evidence"
    mine = rows[rows["kind"] == kind] if len(rows) else rows
    evidence = rows[rows["kind"] == "evidence"] if len(rows) else rows
    if mine.empty and evidence.empty:
        return None
    firsts = pd.concat([mine, evidence]).groupby("channel", as_index=False)["first_at"].min()
    posts = mine.groupby("channel", as_index=False)["posts"].sum() if len(mine) else mine[["channel", "posts"]]
    first = firsts.merge(posts, on="channel", how="left").fillna({"posts": 0}).sort_values("first_at")
    first = first.assign(channel=first["channel"].map(label)).reset_index(drop=True)
    hourly = (mine if len(mine) else evidence)[["channel", "hour", "posts"]]
    what = follow.what if follow is not None else "its evidence posts"
    return Journey(hourly.assign(channel=hourly["channel"].map(label)), first, what)


def journey_chart(moved: Journey) -> alt.LayerChart:
    """A lane per channel (in the order the incident reached them): posts per hour as circles, the first post as
    a tick."""
    order = list(moved.first["channel"])
    y = alt.Y("channel:N", sort=order, title=None)
    dots = alt.Chart(moved.hourly).mark_circle(color=SERIES[0], opacity=0.8).encode(
        x=alt.X("hour:T", title="hour (engine clock)"), y=y, size=alt.Size("posts:Q", title="posts an hour",
                                                                            legend=alt.Legend(orient="bottom")),
        tooltip=["channel:N", alt.Tooltip("hour:T", format="%d %b %H:%M"), "posts:Q"])
    first = alt.Chart(moved.first).mark_tick(color=SENTIMENT["negative"], thickness=3, size=26).encode(
        x="first_at:T", y=y, tooltip=["channel:N", alt.Tooltip("first_at:T", title="first post",
                                                                format="%d %b %H:%M"), "posts:Q"])
    return (dots + first).properties(height=max(40 * len(order), 120), title="How it moved across channels")


def png(chart: alt.TopLevelMixin, frame: pd.DataFrame) -> bytes:
    """The chart as PNG (vl-convert renders Vega-Lite offline); matplotlib draws the table if it is missing."""
    try:
        import vl_convert as vlc
    except ImportError:
        log.warning("vl-convert-python is not installed: the PNG is a table drawn with matplotlib")
        return table_png(frame)
    return bytes(vlc.vegalite_to_png(chart.to_json(), scale=2))


def table_png(frame: pd.DataFrame, rows: int = 40) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    shown = frame.head(rows).astype(str)
    fig, ax = plt.subplots(figsize=(min(2 + 1.6 * len(shown.columns), 20), 0.8 + 0.3 * len(shown)))
    ax.axis("off")
    ax.table(cellText=shown.values.tolist(), colLabels=list(shown.columns), loc="center")
    sink = io.BytesIO()
    fig.savefig(sink, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    return sink.getvalue()


Builder = Callable[[], bytes]


def _recorded(build: Builder, record: Callable[[], None]) -> bytes:
    """Built on Streamlit's download thread when clicked, and recorded before it is handed over (no record, no
    file: see dashboard/exports.py)."""
    data = build()
    record()
    return data


def files(frame: pd.DataFrame, chart: alt.TopLevelMixin, stem: str, described: str, service: StorageClient,
          actor: str) -> dict[str, tuple[Builder, str, str]]:
    """Per format: the deferred file (built and recorded as `actor` when asked for), its name and its type."""
    def recorder(fmt: str) -> Callable[[], None]:
        def record() -> None:
            service.action("download", actor, view=stem, sql=described, format=fmt, rows=len(frame))

        return record

    return {"CSV": (functools.partial(_recorded, lambda: to_bytes(frame, "CSV"), recorder("CSV")), f"{stem}.csv",
                    "text/csv"),
            "PNG": (functools.partial(_recorded, lambda: png(chart, frame), recorder("PNG")), f"{stem}.png",
                    "image/png")}


def downloads(frame: pd.DataFrame, chart: alt.TopLevelMixin, stem: str, key: str, described: str) -> None:
    """Download CSV (formula-safe) and PNG, each recorded in the audit log as the signed-in user. The client and
    the user are taken while the page runs: the files are built on Streamlit's download thread, without a session."""
    made = files(frame, chart, stem, described, client(), session().username)
    for column, (fmt, (build, name, mime)) in zip(st.columns(len(made)), made.items(), strict=True):
        column.download_button(f"Download {fmt}", build, file_name=name, mime=mime, key=f"{key}-{fmt}",
                               icon=":material/download:", on_click="ignore")


def describe(name: str, **params: Any) -> str:
    """What a download was built from, for the audit log: the named query and its parameters."""
    return f"named query {name}(" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")"
