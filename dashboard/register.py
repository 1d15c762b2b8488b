"""The agency's rumour register (claims with origin 'register'): list, add, edit, remove, all audited."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.auth import Session
from dashboard.data import act, flash, query, text

RATINGS = ["False", "Misleading", "Missing context", "Unproven", "True", "Official fact"]
NEW = "(new entry)"


def editor(user: Session) -> None:
    entries = query("claims_list", origin="register")
    st.dataframe(entries.drop(columns=["origin"]), hide_index=True, width="stretch",
                 column_config={"url": st.column_config.LinkColumn("fact-check")})
    if not user.can("edit_register"):
        st.caption(f"Your role ({user.role}) can read the register; comms staff and admins edit it.")
        return
    ids = [NEW, *entries["claim_id"]]
    picked = st.selectbox("Edit", ids, key="register-pick")
    rows = entries.set_index("claim_id")
    current = rows.loc[picked] if picked in rows.index else pd.Series(dtype=object)
    with st.form("register-form", clear_on_submit=picked == NEW):
        claim = st.text_area("Claim, and the official fact", text(current.get("text")) or "")
        a, b, c = st.columns(3)
        rating = a.selectbox("Rating", RATINGS, index=_index(RATINGS, current.get("rating")))
        url = b.text_input("Fact-check or official page", text(current.get("url")) or "")
        source = c.text_input("Source", text(current.get("source")) or "Rumour register")
        if st.form_submit_button("Save entry", type="primary"):
            done = act("register_save", claim_id=None if picked == NEW else picked, text=claim, rating=rating,
                       url=url or None, source=source or None)
            if done:
                flash(f"Saved {done['claim_id']} in the rumour register.")
    remove = picked != NEW and st.button(f"Remove {picked} from the register", icon=":material/delete:")
    if remove and act("register_remove", claim_id=picked):
        flash(f"Removed {picked} from the rumour register.")


def _index(options: list[str], value: object) -> int:
    return options.index(value) if isinstance(value, str) and value in options else 0
