"""One post opened: its labels with their models and reasons, the matched claim, and 'mark a label wrong'."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.auth import Session
from dashboard.data import act, flash, pseudonymise, query, text
from storage.dashboard_queries import MATCH

LABELS = {"sentiment": "Sentiment", "topics": "Topics", "misinfo": "Misinformation score",
          "claim_match": "Matched claim", "lang": "Language"}


def label_rows(post: pd.Series) -> pd.DataFrame:
    topics = [] if post["topics"] is None else list(post["topics"])
    return pd.DataFrame([
        {"label": "sentiment", "value": post["sentiment"], "score": post["sentiment_score"],
         "model": post["sentiment_model"]},
        {"label": "topics", "value": ", ".join(f"{t['name']} ({t['score']:.2f})" for t in topics) or None,
         "score": None, "model": post["topics_model"]},
        {"label": "misinfo", "value": post["misinfo_reason"], "score": post["misinfo_score"],
         "model": post["misinfo_model"]},
        {"label": "claim_match", "value": post["matched_claim_id"], "score": post["matched_claim_score"],
         "model": post["misinfo_model"]},
        {"label": "lang", "value": post["lang"], "score": None, "model": None},
    ])


def show(platform: str, post_id: str, user: Session) -> None:
    found = pseudonymise(query("post_detail", platform=platform, post_id=post_id), user)
    if found.empty:
        st.info("This post is no longer stored (deleted upstream or past retention).")
        return
    post = found.iloc[0]
    st.container(border=True).text(post["text"])  # as written: never rendered as Markdown
    link = f" · [open on {platform}]({post['url']})" if text(post["url"]) else ""
    st.caption(f"{platform} · {post['post_id']} · {text(post['author_handle']) or 'unknown author'} · "
               f"{post['created_at']:%d %b %Y %H:%M} UTC{link}")
    if pd.isna(post["labelled_at"]):
        st.info("Not labelled yet: the classifier labels new posts on its schedule.")
        return
    st.dataframe(label_rows(post), hide_index=True, width="stretch",
                 column_config={"score": st.column_config.NumberColumn(format="%.2f")})
    if text(post["claim"]):
        check = f" · [fact-check]({post['factcheck_url']})" if text(post["factcheck_url"]) else ""
        score = post["matched_claim_score"]
        lead = ("**Matches known claim**" if score >= MATCH else
                f"Nearest known claim (match probability {score:.2f}, below {MATCH}: not counted as a match)")
        st.markdown(f"{lead} {post['matched_claim_id']} ({text(post['claim_rating']) or 'unrated'}): "
                    f"{post['claim']}{check}")
    feedback = query("label_feedback_for", platform=platform, post_id=post_id)
    if not feedback.empty:
        st.caption("Feedback on these labels")
        st.dataframe(feedback, hide_index=True, width="stretch")
    if user.can("label_feedback"):
        feedback_form(platform, post_id)


def feedback_form(platform: str, post_id: str) -> None:
    with st.form(f"feedback-{platform}-{post_id}", clear_on_submit=True):
        st.markdown("**Mark a label wrong**")
        label = st.selectbox("Label", list(LABELS), format_func=lambda key: LABELS[key]) or "sentiment"
        correct = st.text_input("Right value (optional)")
        note = st.text_input("Note (optional)")
        if st.form_submit_button("Mark wrong") and act("label_feedback", platform=platform, post_id=post_id,
                                                       label=label, correct_value=correct or None, note=note or None):
            flash(f"Recorded: {LABELS[label].lower()} of {platform}/{post_id} marked wrong.")
