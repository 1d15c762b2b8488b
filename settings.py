"""Typed settings, parsed once from settings.toml.

Every key has a default; unknown keys and wrong types fail at start with the file, the key and the expected
type. Secrets are never written in the file: a secret is `{ env = "NAME" }` and is read from the environment
when needed, with one clear error naming the variable if it is missing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator

# re-exported: the rest of the project imports these from here
from core.settings_base import SecretRef as SecretRef
from core.settings_base import SettingsError as SettingsError
from core.settings_base import SourceSettings as SourceSettings
from core.settings_base import SourceTable as SourceTable
from core.settings_base import StrictModel as StrictModel
from core.settings_base import describe_errors as describe_errors
from core.settings_base import redact as redact

DEFAULT_PATH = Path("settings.toml")


class WatchSettings(StrictModel):
    name: str
    keywords: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    places: tuple[str, ...] = ()


class TopicSettings(StrictModel):
    name: str
    description: str
    examples: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


class LakeSettings(StrictModel):
    """[storage.lake]: DuckLake, used when [storage] kind = "ducklake" (storage/lake.py)."""

    catalog: str = "dbname=civicradar host=127.0.0.1 port=5432 user=civicradar"  # libpq DSN, no password
    password: SecretRef | None = None
    data_path: str = "data/lake/"  # a folder (relative to settings.toml) or s3://bucket/prefix/
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    s3_key_id: SecretRef | None = None
    s3_secret: SecretRef | None = None
    s3_url_style: Literal["path", "vhost"] = "path"
    s3_use_ssl: bool = True
    inline_rows: int = Field(10, ge=0)
    maintain_every_hours: float = Field(6.0, gt=0)
    keep_snapshots_hours: float = Field(24.0, ge=0)
    delete_files_after_hours: float = Field(24.0, ge=0)


class StorageSettings(StrictModel):
    kind: Literal["duckdb", "ducklake"] = "duckdb"
    path: Path = Path("data/civicradar.duckdb")
    memory_limit: str = "2GB"
    lake: LakeSettings = LakeSettings()


class ServerSettings(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)
    token: SecretRef | None = None
    sql_row_limit: int = Field(10_000, gt=0)
    sql_timeout_seconds: float = Field(10.0, gt=0)
    read_slots: int = Field(2, gt=0)


class DashboardSettings(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(8501, ge=0, le=65535)
    refresh_seconds: float = Field(5.0, gt=0)
    read_url: str = ""  # a read replica's storage service (`civicradar serve`); "" reads from the engine
    users_file: Path = Path("data/users.yaml")
    session_minutes: float = Field(480.0, gt=0)
    signin_attempts: int = Field(5, gt=0)
    signin_window_minutes: float = Field(15.0, gt=0)
    sso_provider: str = ""
    sso_default_role: Literal["", "viewer", "comms", "lead", "analyst", "admin"] = ""
    handles_roles: tuple[Literal["viewer", "comms", "lead", "analyst", "admin"], ...] = ("comms", "lead", "analyst",
                                                                                          "admin")


class ClassifySettings(StrictModel):
    enabled: bool = True
    every_seconds: float = Field(30.0, gt=0)
    batch_size: int = Field(512, gt=0)
    max_seconds_per_run: float = Field(20.0, gt=0)
    rematch_days: float = Field(7.0, ge=0)
    embedding_days: float = Field(14.0, ge=0)
    models_dir: Path | None = None


class LabelSettings(StrictModel):
    """Where labels are computed: in the engine's process, or by label workers on a Ray cluster."""

    workers: Literal["local", "ray"] = "local"
    ray_address: str = "127.0.0.1:6379"
    ray_token: SecretRef = SecretRef(env="CIVICRADAR_RAY_TOKEN")
    ray_actors: int = Field(2, gt=0)
    ray_threads: int = Field(1, gt=0)
    ray_chunk_size: int = Field(64, gt=0)
    ray_timeout_seconds: float = Field(120.0, gt=0)


Severity = Literal["low", "medium", "high"]
CLAIM_MATCH_SCORE = 0.5  # [alerts.claims] min_match_score's default (alerts.detectors.claims.ClaimRule)


class WebhookSettings(StrictModel):
    """One webhook: Slack- or Teams-compatible payloads, or plain JSON."""

    name: str
    url: str | SecretRef
    format: Literal["slack", "teams", "json"] = "json"
    min_severity: Severity = "medium"
    kinds: tuple[str, ...] = ()
    watches: tuple[str, ...] = ()
    timeout_seconds: float = Field(10.0, gt=0)


class EmailRuleSettings(StrictModel):
    """Alert emails to a list of addresses, for the alerts this rule selects."""

    name: str
    to: tuple[str, ...]
    min_severity: Severity = "high"
    kinds: tuple[str, ...] = ()
    watches: tuple[str, ...] = ()
    escalate_to: tuple[str, ...] = ()  # told when an incident this rule selects stays past its target


class SmtpSettings(StrictModel):
    host: str = "localhost"
    port: int = Field(587, ge=0, le=65535)
    starttls: bool = True
    username: SecretRef | None = None
    password: SecretRef | None = None
    sender: str = "civicradar@localhost"
    ca_file: Path | None = None
    timeout_seconds: float = Field(10.0, gt=0)


class AlertSettings(StrictModel):
    enabled: bool = True
    every_seconds: float = Field(60.0, gt=0)
    step_minutes: int = Field(5, gt=0, le=60)
    max_steps_per_pass: int = Field(36, gt=0)
    settle_minutes: float = Field(2.0, ge=0)
    fast_path: bool = True
    cooldown_minutes: float = Field(120.0, ge=0)
    topic_min_score: float = Field(0.5, ge=0, le=1)
    dashboard_url: str = ""
    notify_every_seconds: float = Field(30.0, gt=0)
    retry_initial_seconds: float = Field(30.0, gt=0)
    retry_max_seconds: float = Field(900.0, gt=0)
    max_attempts: int = Field(50, gt=0)
    webhooks: tuple[WebhookSettings, ...] = ()
    emails: tuple[EmailRuleSettings, ...] = ()
    rules: dict[str, dict[str, Any]] = Field(default_factory=dict)  # [alerts.<table>] of the detectors, as written

    @model_validator(mode="before")
    @classmethod
    def _detector_tables(cls, data: Any) -> Any:
        """[alerts.volume], [alerts.claims], ...: each detector's table kept as written; `alerts.registry` types them
        by the detectors' own settings models where detection runs (settings does not import the detectors)."""
        if not isinstance(data, dict):
            return data
        tables = {k: v for k, v in data.items() if k not in cls.model_fields and isinstance(v, dict)}
        rest = {k: v for k, v in data.items() if k not in tables}
        return {**rest, "rules": {**rest.get("rules", {}), **tables}} if tables else data

    @property
    def claim_match_score(self) -> float:
        """[alerts.claims] min_match_score, for readers outside alerts (the claims detector's ClaimRule checks it)."""
        return float(self.rules.get("claims", {}).get("min_match_score", CLAIM_MATCH_SCORE))


class DigestSettings(StrictModel):
    enabled: bool = False
    time: dt.time = dt.time(8, 0)
    recipients: tuple[str, ...] = ()
    top: int = Field(5, gt=0)


class TargetSettings(StrictModel):
    """How fast the team should act on an incident of one severity: wall-clock minutes from its opening."""

    acknowledge_minutes: float = Field(60.0, gt=0)
    respond_minutes: float = Field(480.0, gt=0)


class IncidentTargets(StrictModel):
    high: TargetSettings = TargetSettings(acknowledge_minutes=15, respond_minutes=120)
    medium: TargetSettings = TargetSettings(acknowledge_minutes=60, respond_minutes=480)
    low: TargetSettings = TargetSettings(acknowledge_minutes=240, respond_minutes=1440)

    def of(self, severity: str) -> TargetSettings:
        return {"high": self.high, "medium": self.medium}.get(severity, self.low)


class IncidentSettings(StrictModel):
    """Grouping alerts into incidents, escalating incidents, and the team's targets (alerts/incidents.py)."""

    window_minutes: float = Field(60.0, gt=0)
    link_hours: float = Field(24.0, gt=0)
    volume_factor: float = Field(2.0, gt=1)
    every_seconds: float = Field(60.0, gt=0)
    escalate_after_minutes: float = Field(30.0, ge=0)
    targets: IncidentTargets = IncidentTargets()


class RetentionSettings(StrictModel):
    days: int = Field(365, gt=0)
    action: Literal["delete", "pseudonymise"] = "delete"
    every_hours: float = Field(6.0, gt=0)
    pseudonymise_handles: bool = False


class ResponseSettings(StrictModel):
    """The approved-response library (responses/)."""

    library: str = ""  # a YAML file of entries imported at start and when it changes; "" for none
    every_seconds: float = Field(300.0, gt=0)
    default_place: str = ""
    date_format: str = "%B %-d, %Y"
    review_days: int = Field(180, gt=0)
    min_similarity: float = Field(0.5, ge=0, le=1)
    suggestions: int = Field(3, gt=0)
    sms_max_segments: int = Field(3, gt=0)


class EffectSettings(StrictModel):
    """Did the response work? (responses/effect.py): the incident's posts per hour before and after a response."""

    hours: int = Field(3, gt=0, le=48)  # the "after" figure: the posts in this hour after the response
    window_hours: int = Field(6, gt=0, le=72)  # the chart: this many hours either side of the response
    baseline_days: int = Field(7, gt=0, le=28)  # the usual: the same hours on this many days before


class BlueskyPosting(StrictModel):
    enabled: bool = False
    base_url: str = "https://bsky.social"  # the account's PDS (bsky.social for most accounts)
    handle: str = ""  # "" for [accounts] bluesky
    app_password: SecretRef = SecretRef(env="BLUESKY_POSTING_APP_PASSWORD")
    timeout_seconds: float = Field(20.0, gt=0)


class MastodonPosting(StrictModel):
    enabled: bool = False
    base_url: str = ""  # the agency account's server, e.g. https://gov.social
    access_token: SecretRef = SecretRef(env="MASTODON_POSTING_TOKEN")  # a token with the write:statuses scope
    visibility: Literal["public", "unlisted"] = "public"
    timeout_seconds: float = Field(20.0, gt=0)


class XPosting(StrictModel):
    enabled: bool = False
    base_url: str = "https://api.twitter.com"
    consumer_key: SecretRef = SecretRef(env="X_CONSUMER_KEY")  # the app's API key and secret (OAuth 1.0a) ...
    consumer_secret: SecretRef = SecretRef(env="X_CONSUMER_SECRET")
    access_token: SecretRef = SecretRef(env="X_ACCESS_TOKEN")  # ... and the agency account's token, read and write
    access_token_secret: SecretRef = SecretRef(env="X_ACCESS_TOKEN_SECRET")
    price_per_post_usd: float = Field(0.01, ge=0)
    monthly_cap_usd: float = Field(10.0, ge=0)
    timeout_seconds: float = Field(20.0, gt=0)


class SmsPosting(StrictModel):
    """Replies to SMS inbox items through Twilio's REST API (responses/inbox_send.py); off by default."""

    enabled: bool = False
    account_sid: SecretRef = SecretRef(env="TWILIO_ACCOUNT_SID")
    auth_token: SecretRef = SecretRef(env="TWILIO_AUTH_TOKEN")
    from_number: str = ""  # the agency's number (E.164); "" for the number the resident texted
    base_url: str = ""  # "" for Twilio's own API (https://api.twilio.com); a proxy or test server otherwise
    timeout_seconds: float = Field(20.0, gt=0)


class PostingSettings(StrictModel):
    """Posting approved responses from CivicRadar (responses/posting.py): off unless `enabled` and the platform's
    own `enabled`; only roles lead and admin, after an explicit confirmation; every post audited."""

    enabled: bool = False
    bluesky: BlueskyPosting = BlueskyPosting()
    mastodon: MastodonPosting = MastodonPosting()
    x: XPosting = XPosting()
    sms: SmsPosting = SmsPosting()

    def platforms(self) -> list[str]:
        """The platforms posting is on for."""
        return [name for name in ("bluesky", "mastodon", "x") if self.enabled and getattr(self, name).enabled]

    def reply_channels(self) -> list[str]:
        """The inbox channels a reply can be sent on from CivicRadar: the platforms, and SMS when it is on."""
        return self.platforms() + (["sms"] if self.enabled and self.sms.enabled else [])


class IntakeSettings(StrictModel):
    """The public intake process (`civicradar intake`): web tip form, SMS and Meta webhooks -> a spool on disk."""

    host: str = "127.0.0.1"
    port: int = Field(8600, gt=0, lt=65536)
    spool: Path = Path("data/intake")
    public_url: str = ""
    behind_proxy: bool = False
    max_body_bytes: int = Field(16_384, gt=0)
    max_text_chars: int = Field(4000, gt=0)
    tips_per_hour: int = Field(5, gt=0)
    frame_ancestors: tuple[str, ...] = ()
    sms_auth_token: SecretRef | None = None
    sms_receipt: str = ""
    meta_app_secret: SecretRef | None = None
    meta_verify_token: SecretRef | None = None


class AccountSettings(StrictModel):
    """The agency's own accounts, per platform ("" for none): their posts are by_agency, what is addressed to them
    (replies, mentions, quotes) to_agency. The *_account sources read these accounts."""

    bluesky: str = ""  # handle, e.g. harborhealth.bsky.social (also the login of the bluesky_account source)
    mastodon: str = ""  # acct, e.g. harborhealth@gov.social
    x: str = ""  # username, without @
    reddit: str = ""  # username, without u/ (also the login of the reddit_account source)


class InboxSettings(StrictModel):
    """The inbox of what residents send the agency (the Inbox page, storage/inbox_store.py)."""

    sla_minutes: dict[str, float] = Field(default_factory=lambda: {"default": 1440.0})
    page_size: int = Field(200, gt=0, le=5000)

    @field_validator("sla_minutes")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        if any(minutes <= 0 for minutes in value.values()):
            raise ValueError("every SLA is a positive number of minutes")
        return value

    def sla(self, channel: str) -> float:
        """Minutes within which an item on `channel` should be answered."""
        return self.sla_minutes.get(channel, self.sla_minutes.get("default", 1440.0))


class Settings(StrictModel):
    agency: str = "Harbor County Public Health"
    timezone: str = "UTC"
    storage: StorageSettings = StorageSettings()
    server: ServerSettings = ServerSettings()
    dashboard: DashboardSettings = DashboardSettings()
    classify: ClassifySettings = ClassifySettings()
    labels: LabelSettings = LabelSettings()
    alerts: AlertSettings = AlertSettings()
    digest: DigestSettings = DigestSettings()
    incidents: IncidentSettings = IncidentSettings()
    smtp: SmtpSettings = SmtpSettings()
    retention: RetentionSettings = RetentionSettings()
    intake: IntakeSettings = IntakeSettings()
    responses: ResponseSettings = ResponseSettings()
    effect: EffectSettings = EffectSettings()
    posting: PostingSettings = PostingSettings()
    accounts: AccountSettings = AccountSettings()
    inbox: InboxSettings = InboxSettings()
    watches: tuple[WatchSettings, ...] = ()
    topics: tuple[TopicSettings, ...] = ()
    sources: dict[str, SourceSettings] = Field(default_factory=dict)  # typed by collectors.registry.typed
    file: Path = DEFAULT_PATH  # where these settings were read from; relative paths resolve against its folder

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as 'America/Chicago')") from e
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_dir(self) -> Path:
        return self.file.resolve().parent

    def path(self, value: Path) -> Path:
        return value if value.is_absolute() else self.base_dir / value

    @property
    def db_path(self) -> Path:
        return self.path(self.storage.path)

    def local_secret(self, filename: str) -> str:
        """A random secret generated once and kept beside the database, readable by this user only."""
        path = self.db_path.parent / filename
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):  # the engine and the dashboard may both make it first
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_urlsafe(32))
        return path.read_text().strip()

    def enabled_sources(self) -> dict[str, SourceSettings]:
        return {name: s for name, s in self.sources.items() if s.enabled}

    def check_secrets(self) -> None:
        """Fail now, naming the variable, rather than at the first scheduled run."""
        for name, source in self.enabled_sources().items():
            for key, ref in source.secrets().items():
                ref.get(f"sources.{name}.{key}")
        if self.server.token is not None:
            self.server.token.get("server.token")
        if self.storage.kind == "ducklake":
            for key, ref in self.storage.lake:
                if isinstance(ref, SecretRef):
                    ref.get(f"storage.lake.{key}")
        if self.labels.workers == "ray":
            self.labels.ray_token.get("labels.ray_token")
        for hook in self.alerts.webhooks:
            if isinstance(hook.url, SecretRef):
                hook.url.get(f"alerts.webhooks {hook.name}.url")
        for name in self.posting.reply_channels():
            for key, ref in getattr(self.posting, name):
                if isinstance(ref, SecretRef):
                    ref.get(f"posting.{name}.{key}")
        for key in ("username", "password"):
            ref = getattr(self.smtp, key)
            if ref is not None and (self.alerts.emails or self.digest.enabled):
                ref.get(f"smtp.{key}")


def load(path: Path | str = DEFAULT_PATH) -> Settings:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise SettingsError(f"{path}: settings file not found (copy settings.toml from the project)") from e
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"{path}: not valid TOML: {e}") from e
    return parse(data, path)


def parse(data: dict[str, Any], path: Path) -> Settings:
    raw_sources = data.pop("sources", {})
    errors: list[str] = []
    sources = _parse_sources(raw_sources, path, errors)
    try:
        settings = Settings.model_validate({**data, "file": path.resolve()})
    except ValidationError as e:
        errors = describe_errors(e, path, ()) + errors
        settings = None
    if errors:
        raise SettingsError("\n".join(errors))
    assert settings is not None
    return settings.model_copy(update={"sources": sources})


def _parse_sources(raw: Any, path: Path, errors: list[str]) -> dict[str, SourceSettings]:
    """Each source's common keys; `collectors.registry.typed` checks the rest by kind where collectors are built."""
    if not isinstance(raw, dict):
        errors.append(f"{path}: sources: expected a table of named sources")
        return {}
    parsed: dict[str, SourceSettings] = {}
    for name, section in raw.items():
        if not isinstance(section, dict):
            errors.append(f"{path}: sources.{name}: expected a table with a kind, got {section!r}")
            continue
        try:
            parsed[name] = SourceTable.model_validate(section)
        except ValidationError as e:
            errors.extend(describe_errors(e, path, ("sources", name)))
    return parsed

