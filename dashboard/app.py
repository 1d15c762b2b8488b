"""CivicRadar dashboard: `streamlit run dashboard/app.py` (or `civicradar run`)."""

import streamlit as st

st.set_page_config(page_title="CivicRadar", page_icon=":material/radar:", layout="wide")
pages = [st.Page("pages/overview.py", title="Overview", icon=":material/monitoring:", default=True)]
st.navigation(pages).run()
