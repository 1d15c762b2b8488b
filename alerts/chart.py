"""The digest's trend chart: posts per hour (bars) and the negative share (line), as a PNG."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")  # no display: the engine and the CLI render to memory
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd


def trend_png(hourly: pd.DataFrame, zone: ZoneInfo, marks: list[pd.Timestamp] | None = None) -> bytes:
    """`hourly` has hour (naive UTC), posts, labelled, negative; `marks` are high-severity alert times."""
    fig, ax = plt.subplots(figsize=(8, 2.8), dpi=100)
    hours = pd.to_datetime(hourly["hour"]).dt.tz_localize("UTC").dt.tz_convert(zone) if len(hourly) else []
    ax.bar(hours, hourly["posts"] if len(hourly) else [], width=1 / 24 * 0.9, align="edge", color="#4C78A8")
    ax.set_ylabel("posts per hour")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%a %H:%M", tz=zone))
    for mark in marks or []:
        ax.axvline(pd.Timestamp(mark).tz_localize("UTC").tz_convert(zone), color="#E45756", linewidth=1,
                   linestyle="--")
    if len(hourly) and hourly["labelled"].sum():
        _negative_share(ax, hours, hourly)
    ax.set_title("Volume and sentiment (dashed: high-severity alerts)", fontsize=10)
    fig.autofmt_xdate()
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()


def _negative_share(ax: plt.Axes, hours: pd.Series, hourly: pd.DataFrame) -> None:
    share = 100 * hourly["negative"] / hourly["labelled"].where(hourly["labelled"] > 0)
    twin = ax.twinx()
    twin.plot(hours, share, color="#F58518", marker=".")
    twin.set_ylabel("% negative")
    twin.set_ylim(0, 100)
