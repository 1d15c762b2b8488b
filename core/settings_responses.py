"""The settings of responding to residents: [responses], [effect], [posting] per platform, [intake], [accounts]
and [inbox]. Pure data models; `settings.py` assembles them into `Settings` and re-exports them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from core.settings_base import SecretRef, StrictModel


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
