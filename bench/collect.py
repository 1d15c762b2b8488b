"""Jetstream path throughput: decode + to_posts + Database.write_batch, on a recorded stream of 100k events.

The stream is generated here from realistic templates with a fixed seed (posts, replies, quotes, edits,
deletes, identity and account events, a few broken frames, unicode and emoji), written to a JSONL
file as Jetstream sends it, then replayed in pages of 5,000 frames the way the collector handles them: each
frame decoded, mapped by `collectors.bluesky.parse`, and the page written with its cursor in one transaction
to a temp DuckDB file. Every post is stored (the worst case: `keep_all = true`, no watch filter).
Prints one figure: events per second, mapped and stored. Goal: >= 20,000.

    .venv/bin/python bench/collect.py [--events 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collectors.bluesky import parse
from collectors.mapping import Mapped, decode_json, dump_state
from storage.db import Database

SEED, PAGE, T0 = 20261120, 5000, 1763650800000000
PHRASES = ["the booster clinic at the fairgrounds", "my cat", "la vacuna", "test site on Main St", "the game tonight",
           "coffee ☕", "long queue again 😩", "new mask rules", "free flu shots", "traffic on the bridge 🚗",
           "COVID numbers", "this weather 🌧️", "the county hospital", "ワクチン予約", "rumour about 5G"]
ENDINGS = ["?", "!", " 🙏", " — thoughts?", "", " #vaccine", " https://example.org/a", " 👀👀"]


def _post(rng: random.Random, did: str, rkey: str, i: int, kind: str) -> dict[str, Any]:
    text = f"{rng.choice(PHRASES).capitalize()} {rng.choice(PHRASES)}{rng.choice(ENDINGS)}"
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": _iso(i), "langs": [rng.choice("ee es ja")],
                              "text": text}
    if kind == "reply":
        parent = f"at://did:plc:{rng.getrandbits(64):016x}/app.bsky.feed.post/3k{rng.getrandbits(40):010x}"
        record["reply"] = {"root": {"cid": "bafyroot", "uri": parent}, "parent": {"cid": "bafyparent", "uri": parent}}
    if kind == "quote":
        record["embed"] = {"$type": "app.bsky.embed.record", "record": {"cid": "bafyq", "uri": f"at://{did}/x/1"}}
    if rng.random() < 0.3:
        record["facets"] = [{"index": {"byteStart": 0, "byteEnd": 5}, "features": [
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org"}]}]
    return {"did": did, "time_us": T0 + i * 1000, "kind": "commit", "commit": {
        "rev": f"3l{i:011d}", "operation": "update" if kind == "update" else "create",
        "collection": "app.bsky.feed.post", "rkey": rkey, "record": record, "cid": f"bafyrei{i:020d}"}}


def _iso(i: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(T0 / 1e6 + i / 1000)) + f".{i % 1000:03d}Z"


def event(rng: random.Random, i: int, rkeys: list[tuple[str, str]]) -> str:
    roll, did = rng.random(), f"did:plc:{rng.getrandbits(100):025x}"
    if roll < 0.04:
        return json.dumps({"did": did, "time_us": T0 + i * 1000, "kind": rng.choice(["identity", "account"]),
                           "identity": {"did": did, "handle": "someone.bsky.social", "seq": i, "time": _iso(i)}})
    if roll < 0.10 and rkeys:
        old_did, rkey = rng.choice(rkeys)
        return json.dumps({"did": old_did, "time_us": T0 + i * 1000, "kind": "commit", "commit": {
            "rev": f"3l{i:011d}", "operation": "delete", "collection": "app.bsky.feed.post", "rkey": rkey}})
    if roll < 0.101:
        return '{"did": "did:plc:broken", "time_us": ' + str(T0 + i * 1000) + ', "kind": "commit", "comm'
    kind = "update" if roll < 0.13 and rkeys else "reply" if roll < 0.25 else "quote" if roll < 0.30 else "post"
    did, rkey = rng.choice(rkeys) if kind == "update" else (did, f"3k{rng.getrandbits(52):013x}")
    rkeys.append((did, rkey))
    return json.dumps(_post(rng, did, rkey, i, kind), ensure_ascii=False)


def record_stream(path: Path, n: int) -> None:
    rng, rkeys = random.Random(SEED), list[tuple[str, str]]()
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            f.write(event(rng, i, rkeys) + "\n")
            del rkeys[:-5000]  # edits and deletes touch recent posts


def replay(stream: Path, db: Database) -> tuple[int, int, int]:
    posts = deleted = quarantined = 0
    with stream.open("rb") as f:
        frames = f.read().splitlines()
    for start in range(0, len(frames), PAGE):
        out = Mapped()
        events = [e for e in (decode_json(f, "jetstream message", out) for f in frames[start:start + PAGE]) if e]
        out.extend(parse(events))
        written = db.write_batch("bench", out.batch(dump_state({"time_us": T0 + start * 1000})))
        posts, deleted = posts + written.posts, deleted + written.deleted
        quarantined += len(out.quarantined)
    return posts, deleted, quarantined


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        stream = Path(folder) / "jetstream.jsonl"
        record_stream(stream, args.events)
        db = Database(Path(folder) / "bench.duckdb")
        try:
            started, cpu = time.perf_counter(), time.process_time()
            posts, deleted, quarantined = replay(stream, db)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        finally:
            db.close()
    print(f"jetstream collect: {args.events / elapsed:,.0f} events/s mapped and stored "
          f"({args.events:,} events: {posts:,} posts upserted, {deleted:,} deleted, {quarantined:,} quarantined; "
          f"{elapsed:.2f} s wall, {cpu:.2f} s CPU)")


if __name__ == "__main__":
    main()
