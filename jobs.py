"""CivicRadar's entry point (`civicradar`): reads settings once, builds everything, runs the jobs.

The engine is the only process that opens the DuckDB file read-write. It runs the scheduled jobs
(collect, classify, detect) in an APScheduler BackgroundScheduler and serves reads to the dashboard and
analysts over local HTTP (storage.service). `civicradar run` starts the engine and the dashboard together.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

import settings as settings_module
from alerts import registry as detector_registry
from alerts.engine import jobs as alert_jobs
from collection import Collection, RunSummary
from collectors import registry
from collectors.intake import contact_hash
from collectors.replay import ReplayCollector
from core.errors import CivicRadarError
from core.runs import Job, Progress
from core.users import UserFile
from dashboard import users_cli
from responses.library import library_jobs
from runner import Runner, Scheduled
from settings import Settings
from storage import retention
from storage.callers import OPERATOR_CLIENT, OPERATOR_PREFIX, Directory
from storage.client import TOKEN_ENV, URL_ENV, StorageClient
from storage.db import Database, StorageError, naive_utc
from storage.lake import LakeError
from storage.lake import config_from as lake_config
from storage.lake_maintenance import maintenance_jobs
from storage.local import Client, client_path
from storage.runs import RunLog
from storage.service import Service, create_app
from supervise import start_child, wait_for_free_port

log = logging.getLogger("civicradar")
ROOT = Path(__file__).resolve().parent


def service_token(s: Settings) -> str:
    """The configured token, or one generated once per data folder (readable by this user only)."""
    if s.server.token is not None:
        return s.server.token.get("server.token")
    return s.local_secret("service.token")


def open_database(s: Settings) -> Database:
    """The engine's storage: the DuckDB file, or the lake ([storage] kind = "ducklake")."""
    try:
        return Database(s.db_path, s.storage.memory_limit, lake=lake_config(s))
    except LakeError as e:
        raise StorageError(str(e)) from e


class Engine:
    def __init__(self, s: Settings, db: Database | None = None) -> None:
        s = registry.typed(s)  # each source by its kind's settings model (settings.load keeps them as written)
        self.settings = s
        self.db = db or open_database(s)
        self.runner = Runner(RunLog(self.db))  # every scheduled job runs through it, as a recorded run
        self.runner.runs.abandon_unfinished()
        self._stopping = threading.Event()
        self.collection = Collection(s, self.db, self._stopping)
        self.collectors, self.broken = self.collection.collectors, self.collection.broken
        self.label_job = self._label_job() if s.classify.enabled else None
        self.scheduler: BackgroundScheduler | None = None
        self.service: Service | None = None

    def _label_job(self) -> Any:
        from alerts.fastpath import label_hook
        from classifiers.job import LabelJob  # loads ONNX Runtime: only when labelling is on
        from classifiers.ray_pool import pool_for  # Ray label workers with [labels] workers = "ray", else None
        from storage.label_store import LabelStore

        clock = lambda: self.clock()[0]  # noqa: E731
        return LabelJob(LabelStore(self.db), self.settings, clock, labeller=pool_for(self.settings),  # type: ignore[arg-type]
                        on_labelled=label_hook(self.db, self.settings, clock))

    def clock(self) -> tuple[datetime, bool]:
        """Now, as naive UTC; a demo replay with `drives_clock` supplies a simulated clock."""
        for name, collector in self.collectors.items():
            source = self.settings.sources[name]
            if isinstance(collector, ReplayCollector) and getattr(source, "drives_clock", False):
                simulated = collector.now()
                if simulated is not None:
                    return naive_utc(simulated), True
        return naive_utc(datetime.now(UTC)), False

    def collect(self, name: str) -> RunSummary:
        """One recorded run of one source, now (collection.py): pages until it has nothing more."""
        run = self.runner.run(self.collection.job(name))
        assert run is not None  # a source's job is always due
        return RunSummary.of(run)

    def scheduled_jobs(self) -> list[Job]:
        """Every job the engine schedules, each run through the runner as a recorded run."""
        found = self.collection.jobs()
        if self.label_job is not None:
            found.append(self.label_job.job())
        found.append(self.retention_job())
        found += alert_jobs(self.db, self.settings, lambda: self.clock()[0])
        found += library_jobs(self.db, self.settings)
        return found + maintenance_jobs(self.db, self.settings)  # the lake's (none for the DuckDB file)

    def jobs(self) -> list[Scheduled]:
        """(job id, function, interval seconds) for the scheduler: each call is one run of a job."""
        return self.runner.scheduled(self.scheduled_jobs())

    def retention_job(self) -> Job:
        r, c = self.settings.retention, self.settings.classify
        key = self.settings.local_secret("pseudonym.key").encode()

        def work(progress: Progress) -> None:
            result = retention.run(self.db, self.clock()[0], r.days, r.action, c.embedding_days, key)
            progress.add(result.posts)
            progress.note({"embeddings_pruned": result.embeddings})

        return Job("retention", "retention", "retention", r.every_hours * 3600, work)

    def start(self, serve: bool = True) -> None:
        if serve:
            token = service_token(self.settings)
            server = self.settings.server
            app = create_app(self.db, token, self.clock, server.sql_row_limit, server.sql_timeout_seconds,
                             info=public_info(self.settings), snapshot_dir=self.settings.db_path.parent / "snapshots",
                             read_slots=server.read_slots, directory=directory(self.settings))
            self.service = Service(app, server.host, server.port)
            self.service.start()
        self.db.lock_down()
        self.scheduler = BackgroundScheduler(timezone=self.settings.zone)
        now = datetime.now(UTC)
        for job_id, fn, every in self.jobs():
            self.scheduler.add_job(fn, "interval", seconds=every, id=job_id, name=job_id, max_instances=1,
                                   coalesce=True, misfire_grace_time=max(int(every), 1), next_run_time=now)
        self.scheduler.start()

    def stop(self) -> None:
        """In-flight batches finish and commit (or roll back) whole; then the service and the file close."""
        self._stopping.set()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
        if self.service is not None:
            self.service.stop()
        self.db.close()


class RedactSecrets(logging.Filter):
    """Secrets read from the environment never reach a log line, whatever a library or a server put in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = settings_module.redact(message)
        if cleaned != message or record.exc_info:
            record.msg, record.args = cleaned, None
            if record.exc_info:
                record.msg += "\n" + settings_module.redact(logging.Formatter().formatException(record.exc_info))
                record.exc_info, record.exc_text = None, None
        return True


def public_info(s: Settings) -> dict[str, Any]:
    """What the dashboard may know of the settings: never secrets."""
    return {
        "agency": s.agency,
        "timezone": s.timezone,
        "refresh_seconds": s.dashboard.refresh_seconds,
        "watches": [w.name for w in s.watches],
        "topics": [t.name for t in s.topics],
        "sources": {name: src.kind for name, src in s.sources.items()},
        "sql_row_limit": s.server.sql_row_limit,
        "sql_timeout_seconds": s.server.sql_timeout_seconds,
    }


def directory(s: Settings) -> Directory:
    """Who may act through the storage service: the users file the dashboard signs in against."""
    return Directory(UserFile(s.path(s.dashboard.users_file)), s.dashboard.sso_default_role)


def service_url(s: Settings) -> str:
    return f"http://{s.server.host}:{s.server.port}"


def stop_on_signal() -> threading.Event:
    """An event SIGINT / SIGTERM set. Installed before the engine starts: a stop asked while it is starting (its
    service already answers, so a supervisor may ask then) waits for the start to finish and then stops cleanly,
    where before it killed the process mid-start (seen in CI: exit -15, nothing printed)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def cmd_engine(s: Settings, args: argparse.Namespace) -> int:
    s.check_secrets()
    if args.command == "run":  # before the engine starts: a run comes up whole or not at all
        wait_for_free_port(s.dashboard.host, s.dashboard.port, "dashboard.port")
    stop = stop_on_signal()
    engine = Engine(s)
    engine.start()
    print(f"CivicRadar engine: storage service at {service_url(s)}, database {s.db_path}", flush=True)
    for name, error in engine.broken.items():
        print(f"source {name} cannot start: {error}", file=sys.stderr, flush=True)
    dashboard = start_dashboard(s) if args.command == "run" and not stop.is_set() else None
    try:
        stop.wait()
    finally:
        print("stopping: finishing in-flight batches ...", flush=True)
        if dashboard is not None:
            dashboard.terminate()
            dashboard.wait(timeout=10)
        engine.stop()
    return 0


def start_dashboard(s: Settings) -> subprocess.Popen[bytes]:
    from storage import replica_serve  # [dashboard] read_url

    first_admin = users_cli.first_admin_line(s)
    if first_admin:
        print(first_admin, flush=True)
    env = {**os.environ, URL_ENV: service_url(s), TOKEN_ENV: service_token(s),
           "CIVICRADAR_SETTINGS": str(s.file), **replica_serve.dashboard_env(s)}
    command = ["streamlit", "run", str(ROOT / "dashboard" / "app.py"),
               "--server.address", s.dashboard.host, "--server.port", str(s.dashboard.port),
               "--server.headless", "true", "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer"]
    process = start_child(command, env)  # ends with this process, even on SIGKILL (supervise.py)
    print(f"CivicRadar dashboard: http://{s.dashboard.host}:{s.dashboard.port}", flush=True)
    return process


def cmd_dashboard(s: Settings, args: argparse.Namespace) -> int:
    wait_for_free_port(s.dashboard.host, s.dashboard.port, "dashboard.port")
    return start_dashboard(s).wait()


def cmd_collect(s: Settings, args: argparse.Namespace) -> int:
    if args.source not in s.sources:
        known = ", ".join(sorted(s.sources)) or "none"
        raise settings_module.SettingsError(f"no source named {args.source!r} in settings (known: {known})")
    s.check_secrets()
    source = s.sources[args.source].model_copy(update={"enabled": True})
    forced = s.model_copy(update={"sources": {args.source: source}})
    engine = Engine(forced)
    try:
        while True:
            summary = engine.collect(args.source)
            print(summary.line(), flush=True)
            if args.once or summary.status != "ok":
                return 0 if summary.status == "ok" else 1
            threading.Event().wait(forced.sources[args.source].every_seconds)
    finally:
        engine.db.close()


def operator_client(s: Settings, timeout: float) -> AbstractContextManager[tuple[Client, str]]:
    """The CLI's one client path (storage.local): the running engine's service, else the database file."""
    remote = partial(StorageClient, service_url(s), service_token(s), timeout=timeout, client=OPERATOR_CLIENT)
    return client_path(remote, lambda: open_database(s), service_url(s))


def cmd_status(s: Settings, args: argparse.Namespace) -> int:
    with operator_client(s, timeout=5) as (client, where):
        counts, health = client.query("post_counts"), client.query("source_health")
    print(where)
    print("\nPosts stored:\n" + (counts.to_string(index=False) if len(counts) else "  none yet"))
    print("\nLast runs:\n" + (health.to_string(index=False) if len(health) else "  none yet"))
    print("\nStorage (a replica's lag: the age of the newest lake snapshot it reads):")
    from storage.replica_serve import lag_lines

    print("\n".join(lag_lines(service_url(s), s.dashboard.read_url, service_token(s))))
    return 0


def cmd_serve(s: Settings, args: argparse.Namespace) -> int:
    from storage.replica_serve import serve  # a replica loads no collectors, classifiers or jobs

    s.check_secrets()
    return serve(s, service_token(s), public_info(s), directory(s), args)


def cmd_digest(s: Settings, args: argparse.Namespace) -> int:
    """Preview a daily digest: through the running engine's service, or from the file when no engine holds it."""
    from alerts.engine import preview_digest

    with operator_client(s, timeout=60) as (client, where):
        return preview_digest(lambda name, params: client.query(name, **params), s, args.date, args.to,
                              client.clock()[0], where)


def cmd_intake(s: Settings, args: argparse.Namespace) -> int:
    from intake.app import serve  # its web stack (twilio) loads only in the intake's own process

    return serve(s)


def cmd_forget(s: Settings, args: argparse.Namespace) -> int:
    """A person's request to be forgotten: through the running engine, or straight into the file."""
    author = args.author or contact_hash(s.local_secret("pseudonym.key").encode(), args.contact or "")
    if author is None:
        print(f"{args.contact!r} is neither an e-mail address nor a phone number", file=sys.stderr)
        return 2
    params = {"author_id": author, "platform": args.platform}
    actor = f"{OPERATOR_PREFIX}{os.environ.get('USER', 'unknown')}"
    with operator_client(s, timeout=30) as (client, _):
        result = client.action("forget_author", actor, **params)
    print(f"removed {result['posts_removed']} posts (and their labels) by that author")
    return 0


def cmd_train(s: Settings, args: argparse.Namespace) -> int:
    from classifiers import retrain  # scikit-learn and the models load only for this command

    return retrain.command(s, args)


COMMANDS: dict[str, tuple[Callable[[Settings, argparse.Namespace], int], str]] = {
    "run": (cmd_engine, "start the engine and the dashboard (the embedded default)"),
    "engine": (cmd_engine, "start the engine alone (collectors, jobs, storage service)"),
    "dashboard": (cmd_dashboard, "start the dashboard alone, against a running engine"),
    "serve": (cmd_serve, "a read replica (storage kind ducklake): the storage service over the lake, read-only"),
    "collect": (cmd_collect, "run one source now, without the engine"),
    "status": (cmd_status, "sources, last runs and counts"),
    "digest": (cmd_digest, "preview the daily digest: --date D (default: the latest), --to FILE.html"),
    "forget": (cmd_forget, "remove every post of one author (a request to be forgotten)"),
    "intake": (cmd_intake, "the public intake on its own port: tip form, SMS and Meta webhooks"),
    "users": (users_cli.run, "dashboard users: list, add, role, disable, enable, reset-password, remove"),
    "train": (cmd_train, "refit the sentiment head on staff corrections (--from-feedback); engine stopped"),
}


def load_settings(path: Path) -> Settings:
    """Sources typed and [alerts.<table>] checked: a bad key fails every command at its start, naming file and key."""
    s = registry.load(path)
    detector_registry.check(s)
    return s


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="civicradar", description=__doc__.splitlines()[0])
    p.add_argument("--settings", type=Path, default=Path(os.environ.get("CIVICRADAR_SETTINGS", "settings.toml")),
                   help="settings file (default: ./settings.toml or $CIVICRADAR_SETTINGS)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)
    from classifiers.cli import add_commands, train_options

    for name, (fn, help_text) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text)
        cmd.set_defaults(func=lambda a, fn=fn: fn(load_settings(a.settings), a))  # checked now
        if name == "collect":
            cmd.add_argument("--source", required=True, help="the source's name in settings.toml")
            cmd.add_argument("--once", action="store_true", help="one run, then exit")
        if name == "digest":
            cmd.add_argument("--date", type=date.fromisoformat, help="the digest's date, YYYY-MM-DD (local)")
            cmd.add_argument("--to", type=Path, help="write the HTML (and a CSV beside it) to this file")
        if name == "forget":
            who = cmd.add_mutually_exclusive_group(required=True)
            who.add_argument("--author", help="the author's platform id (posts.author_id)")
            who.add_argument("--contact", help="an e-mail address or phone number a resident wrote from (stored only "
                                               "as a keyed hash: e-mail tips, web form, SMS)")
            cmd.add_argument("--platform", help="only on this platform (default: every platform)")
        if name == "users":
            users_cli.add_arguments(cmd)
        if name == "serve":
            from storage.replica_serve import serve_options

            serve_options(cmd)
        if name == "train":
            train_options(cmd)
    add_commands(sub)  # classify, match-claims, evaluate
    from classifiers.ray_relabel import register

    register(sub)  # relabel (Ray Data)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecrets())
    try:
        return int(args.func(args))
    except CivicRadarError as e:  # every error CivicRadar explains (core.errors); anything else is a bug
        print(f"civicradar: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
