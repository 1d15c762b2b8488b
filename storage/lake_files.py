"""The lake's `posts` as its own Parquet data files, for a Ray Data job to read (`civicradar relabel` on the lake).

Storage lists the files of the current snapshot (`posts_files`, after flushing inlined rows so no post sits only in
the catalog); each Ray Data read task reads one data file with pyarrow and drops the rows its delete file names
(`live_posts`), so a task sees exactly the posts the snapshot holds: an updated post's old version and a deleted
post are in the data files until maintenance rewrites them, and their row positions are in the delete file.
`outdated` keeps those since a date whose labels are not the current ones (`storage.relabel_export`'s semantics).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyarrow import fs

from storage.db import Database, StorageError
from storage.labels import PENDING_SCHEMA
from storage.lake import ALIAS, S3

FLUSH = f"SELECT count(*) FROM ducklake_flush_inlined_data('{ALIAS}', table_name => 'posts')"
LIST = (f"SELECT data_file, delete_file, data_file_encryption_key IS NOT NULL OR delete_file_encryption_key IS NOT "
        f"NULL FROM ducklake_list_files('{ALIAS}', 'posts') ORDER BY data_file")
KEYS = ["platform", "post_id"]


@dataclass(frozen=True)
class PostsFile:
    data: str  # a path, or s3://bucket/key
    delete: str | None  # DuckLake's positional delete file for it (file_path, pos), if any row is deleted


def posts_files(db: Database) -> list[PostsFile]:
    """The data files of `posts` at the current snapshot, inlined rows flushed to Parquet first (one writer: the
    caller, with the engine stopped)."""
    if db.lake is None:
        raise StorageError("posts_files needs [storage] kind = \"ducklake\"; the DuckDB file has no data files")

    def run(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None, bool]]:
        con.execute(FLUSH).fetchall()  # its own commit: DuckLake refuses flushing and changes in one transaction
        return con.execute(LIST).fetchall()

    try:
        rows = db.exclusive(run)
    except duckdb.Error as e:
        raise StorageError(f"cannot list the lake's posts files: {str(e).splitlines()[0]}. Is PostgreSQL running "
                           "and the data path reachable?") from e
    if any(encrypted for *_, encrypted in rows):
        raise StorageError("the lake's posts files are encrypted (DuckLake ENCRYPTED), which the relabel's Ray Data "
                           "readers cannot read; relabel from an unencrypted lake")
    return [PostsFile(data, delete) for data, delete, _ in rows]


def filesystem(s3: S3 | None) -> fs.FileSystem:
    """How a reader reaches the lake's files: the local (or shared-mount) file system, or the lake's S3 store with
    its own credentials."""
    if s3 is None:
        return fs.LocalFileSystem()
    return fs.S3FileSystem(access_key=s3.key_id, secret_key=s3.secret, region=s3.region,
                           endpoint_override=s3.endpoint or None, scheme="https" if s3.use_ssl else "http",
                           force_virtual_addressing=s3.url_style == "vhost")


def _path(path: str) -> str:
    return path.removeprefix("s3://")


def live_posts(file: PostsFile, s3: S3 | None) -> pa.Table:
    """The posts of one data file (platform, post_id, created_at, text), without the rows its delete file names."""
    where = filesystem(s3)
    try:
        posts = pq.read_table(_path(file.data), columns=PENDING_SCHEMA.names, filesystem=where)
        if file.delete is None:
            return posts.cast(PENDING_SCHEMA)
        gone = pq.read_table(_path(file.delete), columns=["pos"], filesystem=where).column("pos")
    except (OSError, pa.ArrowInvalid) as e:
        raise StorageError(f"cannot read the lake's posts file {file.data}: {e}. Every Ray node must reach the "
                           "lake's data path (the same shared folder, or the S3 endpoint)") from e
    keep = np.ones(posts.num_rows, dtype=bool)
    keep[gone.to_numpy()] = False
    return posts.filter(pa.array(keep)).cast(PENDING_SCHEMA)


def outdated(posts: pa.Table, since: datetime, current: pa.Table) -> pa.Table:
    """Posts created since `since` whose key is not in `current` (the posts whose labels are all the current
    models'): what `relabel_export.OUTDATED_SINCE` selects, from a data file's rows."""
    recent = posts.filter(pc.greater_equal(posts.column("created_at"), pa.scalar(since, pa.timestamp("us"))))
    if not recent.num_rows or not current.num_rows:
        return recent
    return recent.join(current.select(KEYS), KEYS, join_type="left anti").select(PENDING_SCHEMA.names)
