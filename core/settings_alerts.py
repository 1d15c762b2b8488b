"""The alerting settings: [alerts] with its webhooks and e-mail rules, [smtp], [digest] and [incidents] with the
team's targets. Pure data models; `settings.py` assembles them into `Settings` and re-exports them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from core.settings_base import SecretRef, StrictModel

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
