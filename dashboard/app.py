"""CivicRadar dashboard: `streamlit run dashboard/app.py` (or `civicradar run`).

Nobody sees a page before signing in, and a role's navigation holds only the pages it may open: a page that is
not registered cannot be reached by URL either. `?wall=1` sizes charts and type for a wall screen.
"""

import streamlit as st

from dashboard.guard import page_errors
from dashboard.phone import style
from dashboard.signin import gate, sign_out

# (file, title, icon, capability needed). No page file may share a top-level package's name (a page named
# responses.py run with its folder on sys.path, as AppTest does, shadows the `responses` package it imports)
PAGES = [
    ("pages/overview.py", "Overview", ":material/monitoring:", "read"),
    ("pages/incidents.py", "Incidents", ":material/crisis_alert:", "read"),
    ("pages/alerts.py", "Alerts", ":material/notifications_active:", "read"),
    ("pages/inbox.py", "Inbox", ":material/inbox:", "read"),
    ("pages/touchpoints.py", "Touchpoints", ":material/hub:", "read"),
    ("pages/narratives.py", "Narratives and fact-checks", ":material/fact_check:", "read"),
    ("pages/response_library.py", "Responses", ":material/campaign:", "read"),
    ("pages/explore.py", "Explore posts", ":material/search:", "read"),
    ("pages/sources.py", "Sources", ":material/sensors:", "read"),
    ("pages/sql.py", "SQL and exports", ":material/database:", "sql"),
    ("pages/admin.py", "Admin", ":material/admin_panel_settings:", "admin"),
]

wall = st.query_params.get("wall") == "1"
st.set_page_config(page_title="CivicRadar", page_icon=":material/radar:", layout="wide",
                   initial_sidebar_state="collapsed" if wall else "auto")
style()  # phones: see dashboard/phone.py
user = gate()
allowed = [(f, title, icon) for f, title, icon, capability in PAGES if user.can(capability)]
URL_PATHS = {"pages/response_library.py": "responses"}  # the address it had before the rename
navigation = st.navigation([st.Page(f, title=title, icon=icon, default=i == 0, url_path=URL_PATHS.get(f))
                            for i, (f, title, icon) in enumerate(allowed)])
with st.sidebar:
    st.caption(f"Signed in as **{user.name}** ({user.role})")
    st.button("Sign out", on_click=sign_out, icon=":material/logout:")
with page_errors():  # anything a page's loaders did not catch: a short message, the details logged
    navigation.run()
