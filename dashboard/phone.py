"""The dashboard on a phone (about 390 px wide): what Streamlit's own narrow layout needs on top.

Streamlit stacks every column under 640 px, so the overview's tiles took a screen and a half before the first
chart; in the container keyed `tiles` they go two a row, their labels wrapping instead of cut short. Tables scroll
sideways in their own frame, and chart legends wrap (dashboard.charts.bottom_legend). tests/test_browser.py checks
sign-in, Overview and Alerts at 390 px.
"""

import streamlit as st

CSS = """<style>
@media (max-width: 640px) {
  .st-key-tiles [data-testid="stHorizontalBlock"] { flex-wrap: wrap; row-gap: 0.75rem; }
  .st-key-tiles [data-testid="stColumn"] { min-width: calc(50% - 1rem) !important; flex: 1 1 calc(50% - 1rem); }
  .st-key-tiles [data-testid="stMetricLabel"] * { white-space: normal; overflow: visible; }
}
</style>"""


def style() -> None:
    """Once per run, from app.py; style tags alone take no room on the page."""
    st.html(CSS)
