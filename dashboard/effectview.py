"""Did the response work? One incident's recorded response, measured (responses/effect.py): the sentence, the
figures and a chart of its posts per hour against the usual. The incident view calls `show_effect(incident_id)`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.charts import SERIES, SEVERITY
from dashboard.data import now, query, settings
from responses import effect
from responses.effect import Clock, Effect

QUERIES = ("incident_effect_series", "incident_effect_about", "incident_response_engagement")


def show_effect(incident_id: int) -> None:
    st.markdown("**Did the response work?**")
    responses = query("incident_responses", incident_id=incident_id)
    if responses.empty:
        st.caption("Record a response to see how the incident's posts changed after it.")
        return
    response = _pick(incident_id, responses)
    found = effect.measure(lambda name, params: query(name, **params), incident_id, response, clock(), settings())
    if isinstance(found, str):
        st.caption(found)
        return
    st.markdown(found.sentence())
    _figures(found)
    st.altair_chart(chart(found), width="stretch")


def clock() -> Clock:
    engine_now, simulated = now()
    wall = datetime.now(UTC).replace(tzinfo=None)
    return Clock(engine_now, wall, simulated, effect.replay_speed(settings()))


def _pick(incident_id: int, responses: pd.DataFrame) -> dict[str, Any]:
    """The first response, or the one chosen when there are several."""
    ordered = responses.sort_values("posted_at").reset_index(drop=True)
    if len(ordered) == 1:
        return effect.first_response(ordered) or {}
    labels = [f"{r['posted_at']:%d %b %H:%M} on {r['channel']}" for _, r in ordered.iterrows()]
    chosen = st.selectbox("Response", range(len(ordered)), format_func=lambda i: labels[i],
                          key=f"effect-response-{incident_id}")
    return effect.first_response(ordered.iloc[[int(chosen or 0)]]) or {}


def _figures(found: Effect) -> None:
    a, b, c, d = st.columns(4)
    a.metric("Hour before", effect.rate(found.before), f"usual {effect.rate(found.usual_before)}", delta_color="off")
    if found.after is None:
        b.metric("After", "not yet", "no full hour yet", delta_color="off")
    else:
        b.metric(f"Hour {found.hours} after", effect.rate(found.after),
                 f"usual {effect.rate(found.usual_after or 0.0)}", delta_color="off")
    gone = found.excess_gone
    c.metric("Excess gone", "n/a" if gone is None else f"{gone:.0%}",
             help="Of the posts above the usual in the hour before, the share gone by the hour after")
    if found.engagement is not None:
        e = found.engagement
        d.metric("Its own post", f"{e.likes + e.reposts + e.replies + e.quotes} interactions",
                 f"{e.likes} likes · {e.reposts} reposts · {e.replies} replies", delta_color="off")


def chart(found: Effect) -> alt.LayerChart:
    """Posts per hour (hours not over yet lighter), the usual as a dashed line, the response as a rule."""
    data = found.hourly.assign(state=found.hourly["complete"].map({True: "hour over", False: "so far"}))
    base = alt.Chart(data).encode(x=alt.X("start:T", title="hour (engine clock)"))
    bars = base.mark_bar(color=SERIES[0]).encode(
        y=alt.Y("posts:Q", title=found.follow.what),
        opacity=alt.Opacity("state:N", scale=alt.Scale(domain=["hour over", "so far"], range=[0.9, 0.35]),
                            legend=None),
        tooltip=[alt.Tooltip("start:T", title="from", format="%d %b %H:%M"), "posts:Q",
                 alt.Tooltip("usual:Q", format=".1f"), "state:N"])
    usual = base.mark_line(color=SERIES[1], strokeDash=[5, 3], interpolate="step-after").encode(y="usual:Q")
    at = pd.DataFrame({"at": [found.at], "label": [f"{found.follow.response_noun} ({found.channel})"]})
    rule = alt.Chart(at).mark_rule(color=SEVERITY["high"], strokeWidth=2).encode(x="at:T", tooltip=["label:N"])
    return (bars + usual + rule).properties(height=220)
