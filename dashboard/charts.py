"""Altair charts with one look everywhere: the same sentiment colours, large type, readable on a wall screen."""

from __future__ import annotations

import altair as alt
import pandas as pd

SENTIMENT = {"negative": "#d1495b", "neutral": "#a0aab4", "positive": "#2a9d8f", "unscored": "#e4e7eb"}
SEVERITY = {"critical": "#7b1e3a", "high": "#d1495b", "medium": "#edae49", "low": "#66a182", "info": "#a0aab4"}
# series colours avoid the sentiment red and green, so a watch never reads as a mood
SERIES = ["#30638e", "#edae49", "#00798c", "#8d6a9f", "#7a9cc6", "#b07d48", "#003d5b", "#9e9e9e"]


def sentiment_color(title: str | None = None) -> alt.Color:
    scale = alt.Scale(domain=list(SENTIMENT), range=list(SENTIMENT.values()))
    return alt.Color("sentiment:N", scale=scale, sort=list(SENTIMENT), legend=bottom_legend(title))


def bottom_legend(title: str | None = None) -> alt.Legend:
    """Under the chart, two entries a row: four or more in one row ran past a phone's screen and were cut off."""
    return alt.Legend(orient="bottom", title=title, columns=2, labelLimit=110)


def styled(chart: alt.Chart | alt.LayerChart, wall: bool = False) -> alt.Chart | alt.LayerChart:
    size = 18 if wall else 13
    return (chart.configure_axis(labelFontSize=size, titleFontSize=size, grid=False)
            .configure_legend(labelFontSize=size, titleFontSize=size, symbolSize=120)
            .configure_view(strokeWidth=0)
            .configure_title(fontSize=size + 3, anchor="start"))


def top_series(frame: pd.DataFrame, column: str, keep: int = 6) -> pd.DataFrame:
    """The `keep` biggest series by total, the rest folded into 'other'."""
    if frame.empty:
        return frame
    top = frame.groupby(column)["posts"].sum().nlargest(keep).index
    folded = frame.assign(**{column: frame[column].where(frame[column].isin(top), "other")})
    return folded.groupby([c for c in folded.columns if c != "posts"], as_index=False)["posts"].sum()


def volume(frame: pd.DataFrame, series: str, height: int = 300) -> alt.Chart:
    data = top_series(frame.groupby(["bucket", series], as_index=False)["posts"].sum(), series)
    return (alt.Chart(data).mark_area(opacity=0.9, interpolate="monotone")
            .encode(x=alt.X("bucket:T", title=None),
                    y=alt.Y("posts:Q", stack=True, title="posts"),
                    color=alt.Color(f"{series}:N", scale=alt.Scale(range=SERIES), legend=bottom_legend()),
                    tooltip=[alt.Tooltip("bucket:T", title="from"), f"{series}:N", "posts:Q"])
            .properties(height=height))


def sentiment_share(frame: pd.DataFrame, height: int = 300) -> alt.Chart:
    data = frame.groupby(["bucket", "sentiment"], as_index=False)["posts"].sum()
    return (alt.Chart(data).mark_area(interpolate="monotone")
            .encode(x=alt.X("bucket:T", title=None),
                    y=alt.Y("posts:Q", stack="normalize", title="share of posts", axis=alt.Axis(format="%")),
                    color=sentiment_color(), order=alt.Order("sentiment_order:Q"),
                    tooltip=[alt.Tooltip("bucket:T", title="from"), "sentiment:N", "posts:Q"])
            .transform_calculate(sentiment_order=_order_expr())
            .properties(height=height))


def mood_heatmap(frame: pd.DataFrame, series: str, height: int = 240) -> alt.Chart:
    """Negative share per series and bucket: where the mood turns, at a glance."""
    data = top_series(frame, series, keep=10)
    scored = data[data["sentiment"] != "unscored"]
    scored = scored.assign(negative=scored["posts"].where(scored["sentiment"] == "negative", 0))
    grouped = scored.groupby(["bucket", series], as_index=False)[["posts", "negative"]].sum()
    grouped["negative_share"] = grouped["negative"] / grouped["posts"]
    return (alt.Chart(grouped).mark_rect(cornerRadius=2)
            .encode(x=alt.X("bucket:T", title=None), y=alt.Y(f"{series}:N", title=None),
                    color=alt.Color("negative_share:Q", title="negative share",
                                    scale=alt.Scale(domain=[0, 1], range=["#f7f7f7", SENTIMENT["negative"]]),
                                    legend=alt.Legend(format="%", orient="bottom")),
                    tooltip=[alt.Tooltip("bucket:T", title="from"), f"{series}:N", "posts:Q",
                             alt.Tooltip("negative_share:Q", format=".0%")])
            .properties(height=height))


def growth_bars(frame: pd.DataFrame, label: str, height: int = 260) -> alt.Chart:
    """Horizontal bars of growth (x-times the usual rate), labelled with the recent count."""
    base = alt.Chart(frame).encode(y=alt.Y(f"{label}:N", sort="-x", title=None))
    bars = base.mark_bar(color=SERIES[0], cornerRadiusEnd=3).encode(
        x=alt.X("growth:Q", title="× usual rate"), tooltip=[f"{label}:N", "recent_posts:Q", alt.Tooltip(
            "growth:Q", format=".1f")])
    text = base.mark_text(align="left", dx=4).encode(x="growth:Q", text=alt.Text("recent_posts:Q"))
    return (bars + text).properties(height=height)


def bars(frame: pd.DataFrame, x: str, y: str, color: str | None = None, height: int = 220) -> alt.Chart:
    enc = {"color": alt.Color(f"{color}:N", legend=bottom_legend())} if color else {}
    return (alt.Chart(frame).mark_bar(cornerRadiusEnd=3, color=SERIES[0])
            .encode(x=alt.X(f"{x}:Q"), y=alt.Y(f"{y}:N", sort="-x", title=None), tooltip=list(frame.columns), **enc)
            .properties(height=height))


def timeline(frame: pd.DataFrame, height: int = 220) -> alt.Chart:
    """Posts over time as stacked steps (e.g. around an alert), coloured by sentiment when known."""
    color = sentiment_color() if "sentiment" in frame else alt.value(SERIES[0])
    return (alt.Chart(frame).mark_area(interpolate="step-after", opacity=0.9)
            .encode(x=alt.X("bucket:T", title=None), y=alt.Y("posts:Q", title="posts", stack=True), color=color,
                    order=alt.Order("sentiment_order:Q"), tooltip=list(frame.columns))
            .transform_calculate(sentiment_order=_order_expr())
            .properties(height=height))


def _order_expr() -> str:
    return " : ".join(f"datum.sentiment === '{s}' ? {i}" for i, s in enumerate(SENTIMENT)) + f" : {len(SENTIMENT)}"
