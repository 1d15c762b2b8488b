"""`make demo`'s two incidents each get their approved answer from the demo library: the scenario detected for real
(test_alerts_demo's fixture), the library file imported as the engine does, `incident_detail` read back, ranked with
the shipped sentence encoder."""

from pathlib import Path

from test_alerts_demo import COMPLAINT, RUMOUR, demo, hours  # noqa: F401  # the module-scoped fixture

from responses import library, suggest
from responses.model import entries_from_rows
from responses.similarity import EncoderSimilarity
from storage.queries import QUERIES

ROOT = Path(__file__).resolve().parents[1]


def query(db, name, **params):
    return db.reader().sql(QUERIES[name].sql, params=QUERIES[name].bind(name, params)).df()


def test_the_rumour_burst_and_the_complaint_spike_each_get_their_approved_answer(demo):  # noqa: F811
    db, s, _, _ = demo
    library.load(db, ROOT / "demo" / "responses.yaml")
    entries = entries_from_rows(query(db, "responses_live").to_dict("records"))
    opened = db.reader().execute("SELECT incident_id, first_seen_at FROM incidents ORDER BY incident_id").fetchall()
    encoder = EncoderSimilarity()
    for span, answer in ((RUMOUR, "HCPH-RESP-001"), (COMPLAINT, "HCPH-RESP-002")):
        (incident,) = [i for i, seen in opened if span[0] <= hours(seen) <= span[1] + 1]
        detail = query(db, "incident_detail", incident_id=incident).iloc[0].to_dict()
        found = suggest.for_incident(detail, entries, s, encoder)
        assert found and found[0].entry.response_id == answer, (span, [f.reason for f in found])
        print(incident, [(f.entry.response_id, f.reason) for f in found])
        assert len(suggest.context_of(detail, s).evidence_texts) <= suggest.MAX_POSTS
