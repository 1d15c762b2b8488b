"""DuckLake storage: the catalog in PostgreSQL, the data as Parquet files in a folder or S3-compatible storage.

`[storage] kind = "ducklake"`. The engine's one DuckDB connection is an in-memory database with the lake attached
as `lake` and made the default catalog, so every statement of `storage/` runs on it unchanged, apart from the few
that DuckLake refuses (see `ddl` and `storage.db`). One writer: the engine. Readers (replicas) attach read-only.

The DuckDB extensions load from their PyPI wheels (`pip install -e '.[lake]'`) by file path, with automatic
installs and loads off: nothing is downloaded, nothing is written to ~/.duckdb.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from core.errors import CivicRadarError
from settings import Settings

ALIAS = "lake"
EXTRA = "pip install -e '.[lake]'"
# DuckDB refuses to load an extension built for another version; the wheels exist only for 1.5.5 (README).
EXTENSION_VERSION = "v1.5.5"
NO_AUTO = {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}


class LakeError(CivicRadarError):
    """The lake cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class S3:
    endpoint: str  # host:port of an S3-compatible store; empty for AWS itself
    region: str
    key_id: str
    secret: str
    url_style: str  # path | vhost
    use_ssl: bool


@dataclass(frozen=True)
class LakeConfig:
    catalog: str  # libpq connection string of the PostgreSQL catalog, password included
    data_path: str  # a folder (ending in /) or s3://bucket/prefix/
    inline_rows: int  # inserts of at most this many rows go into the catalog, not a Parquet file
    s3: S3 | None = None


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: int
    at: datetime  # naive UTC


def extension_path(name: str) -> Path:
    """The extension's file inside its `duckdb-extension-*` wheel."""
    package = f"duckdb_extension_{name}"
    spec = importlib.util.find_spec(package)
    found = spec and spec.submodule_search_locations and list(spec.submodule_search_locations)
    path = Path(found[0]) / "extensions" / EXTENSION_VERSION / f"{name}.duckdb_extension" if found else None
    if path is None or not path.exists():
        raise LakeError(f"the DuckDB extension {name!r} ({EXTENSION_VERSION}) is not installed, and "
                        f'[storage] kind = "ducklake" needs it: run {EXTRA}')
    return path


def load_extensions(con: duckdb.DuckDBPyConnection, s3: bool) -> None:
    for name in ("postgres_scanner", *(("httpfs",) if s3 else ()), "ducklake"):
        con.execute(f"LOAD '{extension_path(name)}'")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _s3_secret(con: duckdb.DuckDBPyConnection, s3: S3) -> None:
    options = {"KEY_ID": s3.key_id, "SECRET": s3.secret, "REGION": s3.region, "URL_STYLE": s3.url_style}
    if s3.endpoint:
        options["ENDPOINT"] = s3.endpoint
    body = ", ".join(f"{k} {_literal(v)}" for k, v in options.items())
    con.execute(f"CREATE OR REPLACE SECRET civicradar_s3 (TYPE s3, {body}, USE_SSL {str(s3.use_ssl).lower()})")


def connect(config: LakeConfig, memory_limit: str = "2GB", read_only: bool = False,
            threads: int = 0) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached as `lake` and in use: the engine's connection, or a replica's.
    `threads`: DuckDB's worker threads (0: its default, one per core)."""
    con = duckdb.connect(":memory:", config={**NO_AUTO, "memory_limit": memory_limit,
                                             **({"threads": str(threads)} if threads else {})})
    con.execute("SET TimeZone = 'UTC'")
    try:
        attach(con, config, read_only)
    except duckdb.Error as e:
        con.close()
        why = f"{str(e).splitlines()[0]}. Is PostgreSQL running and the data path reachable?"
        raise LakeError(redacted(f"cannot attach the lake (catalog {config.catalog}, data {config.data_path}): "
                                 + why)) from e
    con.execute(f"USE {ALIAS}")
    return con


def attach(con: duckdb.DuckDBPyConnection, config: LakeConfig, read_only: bool = False,
           alias: str = ALIAS) -> None:
    """Attach the lake to `con` as `alias`; read-only for a replica (it never blocks the writer)."""
    load_extensions(con, config.s3 is not None)
    if config.s3 is not None:
        _s3_secret(con, config.s3)
    options = [f"DATA_PATH {_literal(config.data_path)}"]
    options.append("READ_ONLY" if read_only else f"DATA_INLINING_ROW_LIMIT {int(config.inline_rows)}")
    con.execute(f"ATTACH {_literal('ducklake:postgres:' + config.catalog)} AS {alias} ({', '.join(options)})")


def attach_read_only(config: LakeConfig, memory_limit: str = "1GB", threads: int = 0) -> duckdb.DuckDBPyConnection:
    """A replica's connection: the lake attached READ_ONLY and in use."""
    return connect(config, memory_limit, read_only=True, threads=threads)


def newest_snapshot(con: duckdb.DuckDBPyConnection, alias: str = ALIAS) -> Snapshot:
    """The newest committed snapshot of the lake: a replica's lag is now minus its time."""
    row = con.execute(f"SELECT snapshot_id, timezone('UTC', snapshot_time) FROM {alias}.snapshots() "
                      "ORDER BY snapshot_id DESC LIMIT 1").fetchone()
    if row is None:
        raise LakeError(f"the lake {alias!r} has no snapshot yet; start the engine once to create its tables")
    return Snapshot(int(row[0]), row[1])


def redacted(dsn: str) -> str:
    return re.sub(r"password=[^\s\"']+", "password=[redacted]", dsn)


def allowed_directories(config: LakeConfig) -> list[str]:
    """What the locked-down engine may still read and write: only the lake's own data path."""
    return [config.data_path]


def config_from(s: Settings) -> LakeConfig | None:
    """The lake the settings describe; None for the embedded DuckDB file (kind "duckdb"). Every store runs on the
    lake (labels, alerts and incidents too), so any job may be on."""
    if s.storage.kind != "ducklake":
        return None
    lk = s.storage.lake
    catalog = lk.catalog + (f" password={lk.password.get('storage.lake.password')}" if lk.password else "")
    if not lk.data_path.startswith("s3://"):
        return LakeConfig(catalog, str(s.path(Path(lk.data_path))).rstrip("/") + "/", lk.inline_rows)
    if lk.s3_key_id is None or lk.s3_secret is None:
        raise LakeError(f"storage.lake.data_path is {lk.data_path}: set storage.lake.s3_key_id and s3_secret "
                        '(e.g. { env = "CIVICRADAR_S3_KEY_ID" }) in settings.toml')
    s3 = S3(lk.s3_endpoint, lk.s3_region, lk.s3_key_id.get("storage.lake.s3_key_id"),
            lk.s3_secret.get("storage.lake.s3_secret"), lk.s3_url_style, lk.s3_use_ssl)
    return LakeConfig(catalog, lk.data_path.rstrip("/") + "/", lk.inline_rows, s3)
