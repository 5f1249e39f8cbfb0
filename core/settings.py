"""Settings from the environment (or a ``.env`` file); each is described in docs/operations.md.

A platform whose token is unset is off; ``enabled_channels`` says which are on.
"""

from __future__ import annotations

import re
from string import Formatter
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.model import Channel

DEFAULT_DATABASE_URL = "sqlite:///var/lookout.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TILE_PLACEHOLDERS = ("z", "x", "y")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias="LOOKOUT_DATABASE_URL")
    # Unset: the example force shipped inside the package (a trial; ``lookout init`` writes one to edit).
    force_config: str | None = Field(None, validation_alias="LOOKOUT_FORCE_CONFIG")
    public_url: str | None = Field(None, validation_alias="LOOKOUT_PUBLIC_URL")

    telegram_bot_token: SecretStr | None = Field(None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_webhook_secret: SecretStr | None = Field(None, validation_alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_api_base: str = Field("https://api.telegram.org", validation_alias="TELEGRAM_API_BASE")
    # Urgent alerts beyond the free 30 messages/s, for Stars from the bot's balance (docs/platforms.md).
    telegram_paid_broadcast: bool = Field(False, validation_alias="TELEGRAM_PAID_BROADCAST")
    telegram_paid_broadcast_rate: float = Field(1000.0, gt=30, le=1000, validation_alias="TELEGRAM_PAID_BROADCAST_RATE")

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_api_base: str = Field("https://slack.com/api/", validation_alias="SLACK_API_BASE")
    slack_tips_channel: str | None = Field(None, validation_alias="SLACK_TIPS_CHANNEL")
    # Where the card of an alert raised outside Slack (the command line, the scheduler) is posted.
    slack_officers_channel: str | None = Field(None, validation_alias="SLACK_OFFICERS_CHANNEL")
    slack_officer_ids: str = Field("", validation_alias="SLACK_OFFICER_IDS")
    slack_supervisor_ids: str = Field("", validation_alias="SLACK_SUPERVISOR_IDS")

    whatsapp_token: SecretStr | None = Field(None, validation_alias="WHATSAPP_TOKEN")
    whatsapp_phone_number_id: str | None = Field(None, validation_alias="WHATSAPP_PHONE_NUMBER_ID")
    whatsapp_app_secret: SecretStr | None = Field(None, validation_alias="WHATSAPP_APP_SECRET")
    whatsapp_verify_token: SecretStr | None = Field(None, validation_alias="WHATSAPP_VERIFY_TOKEN")
    whatsapp_api_base: str = Field("https://graph.facebook.com/v21.0", validation_alias="WHATSAPP_API_BASE")
    whatsapp_alert_template: str = Field("police_alert", validation_alias="WHATSAPP_ALERT_TEMPLATE")
    # The number's throughput as Meta set it: 80 by default, raised to 1,000 on request.
    whatsapp_messages_per_second: float = Field(80.0, gt=0, le=1000, validation_alias="WHATSAPP_MESSAGES_PER_SECOND")
    # The business portfolio's messaging limit: unique people reached outside their service window per rolling
    # 24 hours (Meta's tiers: 250, 2000, 10000, 100000 or unlimited). 2,000 is where a verified business starts
    # (docs/platforms.md); "unlimited" (None) turns the count off.
    whatsapp_daily_limit: int | None = Field(2000, ge=1, validation_alias="WHATSAPP_DAILY_LIMIT")

    # SMS in Twilio's wire format (bots/sms): on when both the account SID and its auth token are set.
    sms_account_sid: str | None = Field(None, validation_alias="SMS_ACCOUNT_SID")
    sms_auth_token: SecretStr | None = Field(None, validation_alias="SMS_AUTH_TOKEN")
    sms_from: str | None = Field(
        None, validation_alias="SMS_FROM"
    )  # a number (+447700900000) or an alphanumeric sender
    sms_messaging_service_sid: str | None = Field(None, validation_alias="SMS_MESSAGING_SERVICE_SID")
    sms_api_base: str = Field("https://api.twilio.com", validation_alias="SMS_API_BASE")
    # Segments a second the sender may send: a long code about 1 (the safe default), a short code 100, a
    # messaging service the sum of its numbers (docs/platforms.md).
    sms_messages_per_second: float = Field(1.0, gt=0, le=1000, validation_alias="SMS_MESSAGES_PER_SECOND")
    sms_max_segments: int = Field(3, ge=1, le=10, validation_alias="SMS_MAX_SEGMENTS")
    sms_price_per_segment: float = Field(0.04, ge=0, le=10, validation_alias="SMS_PRICE_PER_SEGMENT")

    # Email (bots/email): on when both the relay and the link-signing secret are set.
    smtp_url: SecretStr | None = Field(None, validation_alias="LOOKOUT_SMTP_URL")
    email_from: str = Field("Lookout alerts <alerts@lookout.invalid>", validation_alias="LOOKOUT_EMAIL_FROM")
    email_per_second: float = Field(10.0, gt=0, le=1000, validation_alias="LOOKOUT_EMAIL_PER_SECOND")
    email_bounce_limit: int = Field(3, ge=1, le=100, validation_alias="LOOKOUT_EMAIL_BOUNCE_LIMIT")
    link_secret: SecretStr | None = Field(None, validation_alias="LOOKOUT_LINK_SECRET")
    # The sign-up pages' own emails (confirmations, manage links), all addresses and clients together, a clock hour.
    page_emails_per_hour: int = Field(120, ge=1, le=100_000, validation_alias="LOOKOUT_PAGE_EMAILS_PER_HOUR")

    worker_lease_seconds: float = Field(60.0, ge=1, le=3600, validation_alias="LOOKOUT_WORKER_LEASE_SECONDS")
    retention_delivery_days: int = Field(90, ge=1, le=3650, validation_alias="LOOKOUT_RETENTION_DELIVERY_DAYS")
    retention_tip_days: int = Field(365, ge=1, le=3650, validation_alias="LOOKOUT_RETENTION_TIP_DAYS")
    retention_conversation_hours: int = Field(6, ge=1, le=168, validation_alias="LOOKOUT_RETENTION_CONVERSATION_HOURS")
    # An appeal's photo is deleted this long after it was attached, once its alert is over (resolved, cancelled,
    # expired); it stops being served the moment the alert is resolved.
    retention_photo_days: int = Field(30, ge=1, le=3650, validation_alias="LOOKOUT_RETENTION_PHOTO_DAYS")

    geocoder: str = Field("nominatim", validation_alias="LOOKOUT_GEOCODER")
    geocoder_domain: str | None = Field(None, validation_alias="LOOKOUT_GEOCODER_DOMAIN")
    geocoder_scheme: str | None = Field(None, validation_alias="LOOKOUT_GEOCODER_SCHEME")
    geocoder_user_agent: str = Field("lookout-community-alerts", validation_alias="LOOKOUT_GEOCODER_USER_AGENT")
    # How long the geocoder's answers are kept in the database for every process (0: each process's own cache only).
    geocoder_cache_days: float = Field(30.0, ge=0, le=365, validation_alias="LOOKOUT_GEOCODER_CACHE_DAYS")

    # The preview's base map: an XYZ raster tile server's URL template, e.g. https://tiles.force.example/{z}/{x}/{y}.png,
    # and the attribution its licence asks for (drawn on every picture). Unset: the picture is drawn without tiles.
    map_tiles: str | None = Field(None, validation_alias="LOOKOUT_MAP_TILES")
    map_tiles_attribution: str | None = Field(None, max_length=120, validation_alias="LOOKOUT_MAP_TILES_ATTRIBUTION")
    # Tiles fetched are kept on disk, shared by every process of the host, up to this size (oldest dropped first).
    map_tiles_cache_dir: str = Field("var/tiles", validation_alias="LOOKOUT_MAP_TILES_CACHE_DIR")
    map_tiles_cache_mb: int = Field(100, ge=1, le=10_000, validation_alias="LOOKOUT_MAP_TILES_CACHE_MB")

    log_format: Literal["text", "json"] = Field("text", validation_alias="LOOKOUT_LOG_FORMAT")
    log_level: str = Field("INFO", validation_alias="LOOKOUT_LOG_LEVEL")
    # PostgreSQL connections each process may hold: the pool kept open, and how many more under a burst.
    # Every process has its own pool, so the database must allow (processes x (size + overflow)) plus the locks.
    db_pool_size: int = Field(10, ge=1, le=500, validation_alias="LOOKOUT_DB_POOL_SIZE")
    db_max_overflow: int = Field(10, ge=0, le=500, validation_alias="LOOKOUT_DB_MAX_OVERFLOW")
    # When set, GET /metrics answers only requests bearing ``Authorization: Bearer <token>``.
    metrics_token: SecretStr | None = Field(None, validation_alias="LOOKOUT_METRICS_TOKEN")
    # Keys the pseudonyms officers see for anonymous tipsters (HMAC); unset, it is derived from SLACK_SIGNING_SECRET.
    pseudonym_secret: SecretStr | None = Field(None, validation_alias="LOOKOUT_PSEUDONYM_SECRET")

    def secrets(self) -> list[SecretStr]:
        """Every credential set, so logs can be scrubbed of them."""
        values = (
            self.telegram_bot_token,
            self.telegram_webhook_secret,
            self.slack_bot_token,
            self.slack_signing_secret,
            self.whatsapp_token,
            self.whatsapp_app_secret,
            self.whatsapp_verify_token,
            self.sms_auth_token,
            self.smtp_url,
            self.link_secret,
            self.metrics_token,
            self.pseudonym_secret,
        )
        return [v for v in values if v is not None]

    @field_validator("whatsapp_daily_limit", mode="before")
    @classmethod
    def _unlimited(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() == "unlimited":
            return None
        if isinstance(value, str) and not value.strip().replace(",", "").replace("_", "").isdigit():
            raise ValueError(
                "WHATSAPP_DAILY_LIMIT must be a number of people (250, 2000, 10000, 100000) or 'unlimited'"
            )
        return value.strip().replace(",", "").replace("_", "") if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _known_level(cls, value: object) -> object:
        level = value.strip().upper() if isinstance(value, str) else value
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @model_validator(mode="after")
    def _one_sms_sender(self) -> Settings:
        if self.sms_account_sid and self.sms_auth_token and not (self.sms_from or self.sms_messaging_service_sid):
            raise ValueError("SMS is on: set SMS_FROM (the number or sender name) or SMS_MESSAGING_SERVICE_SID")
        return self

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        # The drivers installed (storage/database.py runs psycopg2 and bare postgresql URLs on psycopg 3).
        scheme, found, _ = value.partition("://")
        if not found or scheme not in (
            "sqlite",
            "sqlite+aiosqlite",
            "sqlite+pysqlite",
            "postgresql",
            "postgresql+psycopg",
            "postgresql+psycopg2",
        ):
            raise ValueError("LOOKOUT_DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL")
        try:
            _ = urlsplit(value).port  # reading it checks it: a port that is no number raises
        except ValueError:
            raise ValueError("LOOKOUT_DATABASE_URL: the port after the host must be a number from 0 to 65535") from None
        return value

    @field_validator("map_tiles", "map_tiles_attribution", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("map_tiles")
    @classmethod
    def _tile_template(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return check_tile_template(value.strip())

    @model_validator(mode="after")
    def _tiles_are_attributed(self) -> Settings:
        if self.map_tiles and not self.map_tiles_attribution:
            raise ValueError(
                "LOOKOUT_MAP_TILES_ATTRIBUTION must be set with LOOKOUT_MAP_TILES: the tile server's licence asks for "
                "its credit on every picture (for OpenStreetMap data: © OpenStreetMap contributors)"
            )
        return self

    @staticmethod
    def _ids(text: str) -> frozenset[str]:
        return frozenset(part.strip() for part in text.split(",") if part.strip())

    @property
    def officer_ids(self) -> frozenset[str]:
        return self._ids(self.slack_officer_ids)

    @property
    def supervisor_ids(self) -> frozenset[str]:
        return self._ids(self.slack_supervisor_ids)

    @property
    def enabled_channels(self) -> tuple[Channel, ...]:
        """Platforms whose credentials are set, in a stable order."""
        on: list[Channel] = []
        if self.telegram_bot_token:
            on.append(Channel.TELEGRAM)
        if self.whatsapp_token and self.whatsapp_phone_number_id:
            on.append(Channel.WHATSAPP)
        if self.slack_bot_token and self.slack_signing_secret:
            on.append(Channel.SLACK)
        if self.smtp_url and self.link_secret:
            on.append(Channel.EMAIL)
        if self.sms_account_sid and self.sms_auth_token:
            on.append(Channel.SMS)
        return tuple(on)


def check_tile_template(template: str) -> str:
    """``template`` if it is an http(s) URL with ``{z}``, ``{x}`` and ``{y}`` once each and nothing else to fill in;
    otherwise a ``ValueError`` saying what is wrong, naming the setting."""
    problem = _tile_template_problem(template)
    if problem:
        raise ValueError(f"LOOKOUT_MAP_TILES {problem}, e.g. https://tiles.example.org/{{z}}/{{x}}/{{y}}.png")
    return template


def _tile_template_problem(template: str) -> str | None:
    if not re.match(r"^https?://[^/{}\s]+/", template) or any(ch.isspace() for ch in template):
        return "must be an http:// or https:// URL with a host and a path, without spaces"
    try:
        names = [name for _, name, _, _ in Formatter().parse(template) if name is not None]
    except ValueError:
        return "has an unmatched { or }"
    for placeholder in TILE_PLACEHOLDERS:
        if names.count(placeholder) != 1:
            return f"must hold {{{placeholder}}} exactly once"
    unknown = sorted(set(names) - set(TILE_PLACEHOLDERS))
    if unknown:
        return f"may hold only {{z}}, {{x}} and {{y}} (not {', '.join('{' + n + '}' for n in unknown)})"
    return None
