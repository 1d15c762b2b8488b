"""`civicradar relabel --since DATE`: a new model version over history, as a Ray Data job, with the engine stopped.

Storage exports the posts since DATE whose labels are missing or came from other models as Parquet files;
:func:`read_posts` reads them into a Ray Data dataset (a lake storage kind can point it at its own data files);
actors label them (each with its own ONNX Runtime sessions); this process writes the labels as they stream back,
through the label job's own write path, so tags, rollups and embeddings are exactly those of the engine's labelling.
The process is the only writer; a relabel that stops half-way leaves what it wrote, and run again does the rest.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from settings import Settings, SettingsError
from storage.db import Database, naive_utc
from storage.relabel_export import export_outdated

from . import Claim, Labels, Topic
from .errors import ClassifierError
from .job import LabelJob, topics_from
from .ray_pool import LabelWorker, connect

POST_COLUMNS = ["platform", "post_id", "created_at", "text"]
LABEL_SCHEMA = pa.schema([
    ("lang", pa.string()), ("sentiment", pa.string()), ("sentiment_score", pa.float64()),
    ("topics", pa.list_(pa.struct([("name", pa.string()), ("score", pa.float64())]))),
    ("misinfo_score", pa.float64()), ("matched_claim_id", pa.string()), ("matched_claim_score", pa.float64()),
    ("misinfo_reason", pa.string()), ("embedding", pa.list_(pa.float32())),
])
WRITE_BATCH = 512  # posts per labels transaction, as [classify] batch_size


def read_posts(paths: Sequence[str], shared: bool = False) -> Any:
    """Posts (platform, post_id, created_at, text) from Parquet files, as a Ray Data dataset.

    `shared`: files every node can read (object storage, a shared mount: a lake's data files, passing those of the
    current snapshot without rows in delete files), read by Ray Data's read tasks, which need a CPU the label
    workers leave free. Otherwise the files are on this machine only (storage's export): read here, handed over."""
    import ray.data

    if shared:
        return ray.data.read_parquet(list(paths), columns=POST_COLUMNS)
    return ray.data.from_arrow([pq.read_table(path, columns=POST_COLUMNS) for path in paths])


class RelabelWorker:
    """A Ray Data actor: Arrow batches of posts in, the same batches with every label column out."""

    def __init__(self, topics: Sequence[Topic], claims: Sequence[Claim], models_dir: str | None, threads: int,
                 models: dict[str, str]) -> None:
        self.worker = LabelWorker(topics, models_dir, threads)
        if self.worker.labeller.models != models:
            raise ClassifierError(f"this worker has other models ({self.worker.labeller.models}) than the relabel "
                               f"({models}): install the same CivicRadar and model files on every worker machine")
        self.worker.labeller.set_claims(claims)

    def __call__(self, batch: pa.Table) -> pa.Table:
        found = self.worker.labeller.label(batch.column("text").to_pylist())
        columns = [to_column(found, f) for f in LABEL_SCHEMA.names]
        return pa.Table.from_arrays([*batch.select(POST_COLUMNS).columns, *columns],
                                    names=[*POST_COLUMNS, *LABEL_SCHEMA.names])


def to_column(found: Sequence[Labels], name: str) -> pa.Array:
    if name == "topics":
        values: list[Any] = [[{"name": k, "score": float(v)} for k, v in x.topics.items()] for x in found]
    elif name == "embedding":
        values = [None if x.embedding is None else x.embedding.astype(np.float32) for x in found]
    else:
        values = [getattr(x, name) for x in found]
    return pa.array(values, LABEL_SCHEMA.field(name).type)


def from_row(row: dict[str, Any]) -> Labels:
    fields = {name: row[name] for name in LABEL_SCHEMA.names if name not in ("topics", "embedding")}
    vector = row["embedding"]
    return Labels(**fields, topics={t["name"]: t["score"] for t in row["topics"] or ()},
                  embedding=None if vector is None else np.asarray(vector, np.float32))


class _Returned:
    """The label job's labeller, answering with labels the Ray Data job already computed (same order)."""

    def __init__(self, models: dict[str, str]) -> None:
        self.models = models
        self.next: list[Labels] = []

    def set_claims(self, claims: Sequence[Claim]) -> None:
        pass

    def label(self, texts: Sequence[str], batch_size: int = 0) -> list[Labels]:
        assert len(texts) == len(self.next), "labels and posts out of step"
        return self.next


def relabel(db: Database, s: Settings, since: datetime, workdir: Path, actors: int,
            progress: bool = True) -> int:
    """Label every post since `since` whose labels are not from the current models; returns how many."""
    from tqdm import tqdm

    from .labeller import Labeller

    models_dir = s.classify.models_dir and s.path(s.classify.models_dir)
    job = LabelJob(db, s, lambda: naive_utc(datetime.now(UTC)), Labeller(topics_from(s), models_dir=models_dir))
    claims = [Claim(**row) for row in job.store.claims()]
    tags = job.tags(job.store.claims_version())
    folder = workdir / "relabel"
    try:
        files = export_outdated(db, since, tags, folder)
        total = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        returned = _Returned(job.labeller.models)
        job.labeller = returned  # type: ignore[assignment]
        done = 0
        with tqdm(total=total, unit="post", disable=not progress or not total, file=sys.stderr, desc="relabel") as bar:
            for batch in labelled(files, s, topics_from(s), claims, models_dir, actors, returned.models):
                returned.next = [from_row(r) for r in batch.select(LABEL_SCHEMA.names).to_pylist()]
                job._label(batch.select(POST_COLUMNS), tags)  # the label job's write path: rows, vectors, rollups
                done += batch.num_rows
                bar.update(batch.num_rows)
        return done
    finally:  # the export holds posts' texts: never left behind for retention to miss
        shutil.rmtree(folder, ignore_errors=True)


def labelled(files: Sequence[Path], s: Settings, topics: Sequence[Topic], claims: Sequence[Claim],
             models_dir: Path | None, actors: int, models: dict[str, str]) -> Iterator[pa.Table]:
    """The exported posts with their labels, as the Ray Data job yields them (nothing when there are none)."""
    if not files:
        return
    import ray.data

    connect(s.labels.ray_address, s.labels.ray_token.get("labels.ray_token"))
    ray.data.DataContext.get_current().enable_progress_bars = False  # one bar: the posts written
    threads = s.labels.ray_threads
    kwargs = {"topics": tuple(topics), "claims": tuple(claims), "models_dir": models_dir and str(models_dir),
              "threads": threads, "models": models}
    ds = read_posts([str(f) for f in files]).map_batches(
        RelabelWorker, fn_constructor_kwargs=kwargs, batch_format="pyarrow", batch_size=s.labels.ray_chunk_size,
        compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=threads, max_restarts=3)
    try:
        yield from ds.iter_batches(batch_size=WRITE_BATCH, batch_format="pyarrow")
    except ray.exceptions.RayError as e:
        raise ClassifierError(f"the relabel's Ray Data job failed ({type(e).__name__}: {str(e)[-500:]}); the labels "
                              "written so far are kept: run the same command again for the rest") from e


def register(subparsers: argparse._SubParsersAction) -> None:
    """`civicradar relabel`, added to the CLI by jobs.py."""
    import settings

    cmd = subparsers.add_parser("relabel", help="relabel posts since a date with the current models, on the Ray "
                                                "cluster of [labels] (engine stopped)")
    add_options(cmd)
    cmd.set_defaults(func=lambda a: command(settings.load(a.settings), a))


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=date.fromisoformat, required=True,
                        help="relabel posts created on or after this date (YYYY-MM-DD, UTC)")
    parser.add_argument("--actors", type=int, help="label workers (default: [labels] ray_actors)")


def command(s: Settings, args: argparse.Namespace) -> int:
    if s.storage.kind != "duckdb":  # the lake's label store is not ported yet (README, DuckLake storage)
        raise SettingsError(f"{s.file}: civicradar relabel writes labels, which are not on the lake yet "
                            f"([storage] kind = {s.storage.kind!r}); it runs on the DuckDB file only for now")
    since = datetime(args.since.year, args.since.month, args.since.day)
    db = Database(s.db_path, s.storage.memory_limit)  # fails, saying so, while an engine holds the file
    try:
        done = relabel(db, s, since, s.db_path.parent, args.actors or s.labels.ray_actors)
    finally:
        db.close()
    print(f"relabelled {done} posts since {args.since} (the rest already had labels from these models)")
    return 0
