"""Build demo/inbox.jsonl.gz: the demo's inbox, residents writing to Harbor County Public Health.

Every row is synthetic (`synthetic: true`, `scenario_event: "inbox"`): written here, not taken from a data set. The
rows use the scenario's clock (`t`, seconds from day 0 local midnight; see demo/README.md) and are replayed by the
`demo_inbox` source beside the scenario, so they arrive as its story unfolds: questions and complaints on every
channel (e-mail, web form, SMS, X, Bluesky, Mastodon, Reddit), the gargling rumour asked about during the rumour burst
(hours 56-57.5), complaints about the fairgrounds testing site during the complaint spike (hours 62-64), and the
agency's own replies on the platforms (`direction: by_agency`, `reply_to_id`), which answer the items they reply to.
Residents who wrote by e-mail, web form or SMS appear under keyed-hash-shaped ids (`email:` / `phone:` + 16 hex
digits of a hash of a fictional address), as the real sources store them; some write twice, across channels.

Run `python demo/build_inbox.py` to rebuild; the output is byte-identical every time.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "inbox.jsonl.gz"
AGENCY = {"x": "HarborCountyPH", "bluesky": "harborhealth.bsky.social", "mastodon": "harborhealth",
          "reddit": "HarborCountyPH"}

# (hour, platform, key, author, text, replies to key or None, by the agency?)
ROWS: list[tuple[float, str, str, str, str, str | None, bool]] = [
    (14.2, "x", "x01", "port_harbor_dad", "@HarborCountyPH are boosters available at the Port Harbor clinic without "
     "an appointment?", None, False),
    (14.9, "x", "x02", "", "@port_harbor_dad Yes: walk-ins 9 am-5 pm on weekdays at the Port Harbor clinic, no "
     "appointment needed.", "x01", True),
    (20.5, "x", "x03", "marisol_h", "@HarborCountyPH the testing hotline keeps hanging up on me after 10 minutes",
     None, False),
    (21.3, "x", "x04", "", "@marisol_h Sorry about that. The line is busy in the evening; please try after 8 am, or "
     "book online at the county website.", "x03", True),
    (27.0, "bluesky", "b01", "harborteacher.bsky.social", "@harborhealth.bsky.social do kids need a consent form "
     "signed by a parent for the vaccine clinic at school?", None, False),
    (28.5, "bluesky", "b02", "", "Yes, a parent or guardian signs the consent form; schools send it home this week.",
     "b01", True),
    (33.0, "mastodon", "m01", "tideline@mastodon.social", "@harborhealth is the fairgrounds testing site open on "
     "Sunday?", None, False),
    (33.6, "mastodon", "m02", "", "@tideline Yes, 10 am to 4 pm on Sunday.", "m01", True),
    (37.0, "reddit", "r01", "", "Clinic and testing hours for this week, Harbor County Public Health", None, True),
    (38.0, "reddit", "r02", "fogbell_77", "Thanks for posting the hours. Is parking free at the fairgrounds?", "r01",
     False),
    (40.0, "reddit", "r03", "", "Parking is free; use the north gate on Route 9.", "r02", True),
    (40.2, "email", "e01", "email:maria", "Test results — I tested at the fairgrounds on Tuesday and still have no "
     "results. Who do I call?", None, False),
    (44.0, "x", "x05", "quayside_kim", "@HarborCountyPH my test results haven't arrived after 4 days", None, False),
    (45.0, "webform", "w01", "email:maria", "Following up on my e-mail: still no test results (reference HC-2291).",
     None, False),
    (46.0, "x", "x06", "", "@quayside_kim Results take 2-3 days; please send us a message with your reference and we "
     "will check.", "x05", True),
    (47.0, "bluesky", "b03", "esteban-ph.bsky.social", "@harborhealth.bsky.social is there a Spanish-language "
     "hotline for appointments?", None, False),
    (48.0, "sms", "s01", "phone:ana", "Is the fairgrounds site open today? Lines were 2 hrs yesterday", None, False),
    (49.5, "x", "x07", "nurse_friend_ph", "@HarborCountyPH thank you to the nurses at the fairgrounds, so kind to my "
     "mum", None, False),
    (50.5, "sms", "s02", "phone:joe", "Where can my elderly father get a home test kit? He can't stand in line",
     None, False),
    (51.0, "email", "e02", "email:lee", "Flu shot and COVID booster on the same day: is that safe for me at 70?",
     None, False),
    (53.0, "x", "x08", "harbor_lights", "@HarborCountyPH how long do test results usually take?", None, False),
    (54.5, "sms", "s03", "phone:ana", "Any update on the wait at the fairgrounds today?", None, False),
    (56.2, "x", "x09", "saltmarsh_sue", "@HarborCountyPH is it true gargling warm salt water kills the virus?? "
     "everyone in my group chat is sharing it", None, False),
    (56.5, "bluesky", "b04", "dockside.bsky.social", "@harborhealth.bsky.social my aunt says vinegar gargles "
     "prevent covid, is that real?", None, False),
    (56.8, "email", "e03", "email:pat", "A neighbour forwarded a message saying gargling warm salt water or vinegar "
     "eliminates the coronavirus. Is this official advice?", None, False),
    (57.0, "webform", "w02", "email:lee", "Please confirm: does salt water gargling protect against coronavirus?",
     None, False),
    (57.1, "sms", "s04", "phone:joe", "Is the salt water gargle thing true? My dad is doing it instead of testing",
     None, False),
    (57.4, "x", "x10", "", "@saltmarsh_sue No: gargling salt water or vinegar does not kill or prevent COVID-19. "
     "Please test if you have symptoms.", "x09", True),
    (62.3, "sms", "s05", "phone:rosa", "3 hour line at the fairgrounds and no water for people waiting", None, False),
    (62.6, "webform", "w03", "email:sam", "Traffic is backed up to Route 9 from the test site. Please send staff to "
     "direct cars.", None, False),
    (62.9, "x", "x11", "portharbor_mike", "@HarborCountyPH the fairgrounds site closed early and sent us all home",
     None, False),
    (63.1, "email", "e04", "email:rivera", "Complaint: no shade and no toilets at the fairgrounds testing site. "
     "Elderly people are waiting in the sun.", None, False),
    (63.3, "mastodon", "m03", "gullwing@mastodon.social", "@harborhealth two lanes are closed at the test site, "
     "will they reopen today?", None, False),
    (63.5, "x", "x12", "", "@portharbor_mike We are sorry: the site closed early for a staffing gap. It reopens at "
     "8 am with two more lanes.", "x11", True),
    (63.8, "reddit", "r04", "fogbell_77", "Do you have an update on the fairgrounds test site? It's chaos today.",
     None, False),
    (65.0, "sms", "s06", "phone:rosa", "Thanks for the water station, much better now", None, False),
    (66.0, "email", "e05", "email:sam", "Thank you for opening a second lane this afternoon.", None, False),
    (68.5, "bluesky", "b05", "harborteacher.bsky.social", "@harborhealth.bsky.social will the school clinic still run "
     "on Friday after the testing site problems?", None, False),
]


def contact(kind_and_name: str) -> str:
    """A keyed-hash-shaped id for a fictional contact, as the e-mail, web-form and SMS sources store senders."""
    kind, _, name = kind_and_name.partition(":")
    digest = hashlib.sha256(f"civicradar-demo:{kind}:{name}".encode()).hexdigest()[:16]
    return f"{kind}:{digest}"


def row(hour: float, platform: str, key: str, author: str, text: str, reply_to: str | None, own: bool) -> dict:
    handle = AGENCY[platform] if own else (None if ":" in author and "@" not in author else author)
    author_id = (f"demo-agency-{platform}" if own else contact(author) if handle is None else
                 f"demo-{platform}-{hashlib.sha256(author.encode()).hexdigest()[:10]}")
    return {"t": round(hour * 3600.0, 1), "platform": platform, "post_id": f"demo-inbox-{platform}-{key}",
            "text": text, "author_id": author_id, "author_handle": handle, "url": None, "lang": "en",
            "reply_to_id": f"demo-inbox-{platform}-{reply_to}" if reply_to else None, "repost_of_id": None,
            "quote_of_id": None, "like_count": 0, "repost_count": 0, "reply_count": 0, "quote_count": 0,
            "direction": "by_agency" if own else "to_agency", "synthetic": True, "scenario_event": "inbox"}


def build() -> bytes:
    lines = [json.dumps(row(*r), ensure_ascii=False, sort_keys=True) for r in sorted(ROWS, key=lambda r: r[0])]
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as f:
        f.write(("\n".join(lines) + "\n").encode())
    return buffer.getvalue()


if __name__ == "__main__":
    OUT.write_bytes(build())
    print(f"{OUT}: {len(ROWS)} rows")
