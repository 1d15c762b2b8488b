"""`civicradar relabel --since DATE`: a new model version over history, as a Ray Data job, with the engine stopped.

On the DuckDB file, storage exports the posts since DATE whose labels are missing or came from other models as
Parquet files, and :func:`read_posts` reads them into a Ray Data dataset. On the lake, Ray Data's read tasks read
the lake's own Parquet data files of `posts` (:func:`lake_posts`: the current snapshot's files, inlined rows flushed
first, rows in delete files dropped) and leave out the posts whose labels are already current. Actors label them
(each with its own ONNX Runtime sessions); this process writes the labels as they stream back, through the label
job's own write path, so tags, rollups and embeddings are exactly those of the engine's labelling. The process is
the only writer; a relabel that stops half-way leaves what it wrote, and run again does the rest.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from settings import Settings
from storage.db import Database, StorageError, naive_utc
from storage.labels import ModelTags
from storage.lake import S3, LakeError, config_from
from storage.lake_files import PostsFile, live_posts, outdated, posts_files
from storage.relabel_export import count_outdated, current_keys, export_outdated

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


def read_posts(paths: Sequence[str], shared: bool = False) -> Any:
    """Posts (platform, post_id, created_at, text) from Parquet files, as a Ray Data dataset.

    `shared`: files every node can read (a shared mount), read by Ray Data's read tasks, which need a CPU the label
    workers leave free. Otherwise the files are on this machine only (storage's export): read here, handed over.
    A lake's data files need their delete files applied: :func:`lake_posts`."""
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


@dataclass(frozen=True)
class Posts:
    """The posts a relabel has to do: how many, and their Ray Data dataset (built once connected to the cluster)."""
    total: int
    dataset: Callable[[], Any]


def lake_posts(files: Sequence[PostsFile], since: datetime, current: pa.Table, s3: S3 | None) -> Any:
    """A Ray Data dataset of the lake's posts since `since` whose keys are not in `current`: one read task a data
    file, on any node (it reads files, it takes no CPU from the label workers)."""
    import ray
    import ray.data

    items = [{"data": f.data, "delete": f.delete or ""} for f in files]
    read = functools.partial(read_lake_files, since=since, current=ray.put(current), s3=s3)
    return ray.data.from_items(items).map_batches(read, batch_size=1, batch_format="pyarrow", num_cpus=0)


def read_lake_files(batch: pa.Table, since: datetime, current: Any, s3: S3 | None) -> pa.Table:
    """A Ray Data read task: the outdated posts of some data files (`current`: the object of the current keys)."""
    import ray

    keys = ray.get(current)
    files = [PostsFile(d, x or None) for d, x in zip(batch.column("data").to_pylist(),
                                                     batch.column("delete").to_pylist(), strict=True)]
    return pa.concat_tables([outdated(live_posts(f, s3), since, keys) for f in files])


def outdated_posts(db: Database, since: datetime, tags: ModelTags, folder: Path) -> Posts:
    """On the lake its own data files (flushed first); on the DuckDB file storage's export into `folder`."""
    if db.lake is not None:
        files = posts_files(db)
        total, current, s3 = count_outdated(db, since, tags), current_keys(db, since, tags), db.lake.s3
        return Posts(total, lambda: lake_posts(files, since, current, s3))
    exported = export_outdated(db, since, tags, folder)
    return Posts(sum(pq.ParquetFile(f).metadata.num_rows for f in exported),
                 lambda: read_posts([str(f) for f in exported]))


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
        posts = outdated_posts(db, since, tags, folder)
        returned = _Returned(job.labeller.models)
        job.labeller = returned  # type: ignore[assignment]
        done = 0
        with tqdm(total=posts.total, unit="post", disable=not progress or not posts.total, file=sys.stderr,
                  desc="relabel") as bar:
            for batch in labelled(posts, s, topics_from(s), claims, models_dir, actors, returned.models):
                returned.next = [from_row(r) for r in batch.select(LABEL_SCHEMA.names).to_pylist()]
                job._label(batch.select(POST_COLUMNS), tags)  # the label job's write path: rows, vectors, rollups
                done += batch.num_rows
                bar.update(batch.num_rows)
        return done
    finally:  # the export holds posts' texts: never left behind for retention to miss
        shutil.rmtree(folder, ignore_errors=True)


def labelled(posts: Posts, s: Settings, topics: Sequence[Topic], claims: Sequence[Claim],
             models_dir: Path | None, actors: int, models: dict[str, str]) -> Iterator[pa.Table]:
    """The posts with their labels, as the Ray Data job yields them (nothing when there are none)."""
    if not posts.total:
        return
    import ray.data

    connect(s.labels.ray_address, s.labels.ray_token.get("labels.ray_token"))
    ray.data.DataContext.get_current().enable_progress_bars = False  # one bar: the posts written
    threads = s.labels.ray_threads
    kwargs = {"topics": tuple(topics), "claims": tuple(claims), "models_dir": models_dir and str(models_dir),
              "threads": threads, "models": models}
    ds = posts.dataset().map_batches(
        RelabelWorker, fn_constructor_kwargs=kwargs, batch_format="pyarrow", batch_size=s.labels.ray_chunk_size,
        compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=threads, max_restarts=3)
    try:
        yield from ds.iter_batches(batch_size=s.classify.batch_size, batch_format="pyarrow")
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


def open_database(s: Settings) -> Database:
    """The DuckDB file or the lake, as their one writer: refused, saying who holds it, while an engine runs on it
    (DuckDB's file lock; the lake's writer lock, storage.lake_lease)."""
    try:
        return Database(s.db_path, s.storage.memory_limit, lake=config_from(s))
    except LakeError as e:
        raise StorageError(str(e)) from e


def command(s: Settings, args: argparse.Namespace) -> int:
    since = datetime(args.since.year, args.since.month, args.since.day)
    db = open_database(s)
    try:
        done = relabel(db, s, since, s.db_path.parent, args.actors or s.labels.ray_actors)
    finally:
        db.close()
    print(f"relabelled {done} posts since {args.since} (the rest already had labels from these models)")
    return 0
