"""The schema, as SQLAlchemy Core tables. Alembic migrations mirror it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from storage.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

residents = Table(
    "residents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(16), nullable=False),
    # The full address text, e.g. "telegram:123456": copied as-is into delivery rows.
    Column("address", String(220), nullable=False, unique=True),
    Column("language", String(8), nullable=False, default="en"),
    Column("age_confirmed", Boolean, nullable=False, default=False),
    Column("sector", String(32), nullable=True),
    Column("is_tester", Boolean, nullable=False, default=False),
    # An officer marked this resident's tips as spam: their tips are kept out of the queue.
    Column("tips_blocked", Boolean, nullable=False, default=False, server_default=false()),
    Column("paused_until", UTCDateTime, nullable=True),
    Column("quiet_start", String(5), nullable=True),  # "22:00", force-local time
    Column("quiet_end", String(5), nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("erased_at", UTCDateTime, nullable=True),
    Column("last_inbound_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Permanent refusals in a row (email bounces); at the configured limit the resident is made inactive.
    Column("bounces", Integer, nullable=False, default=0, server_default="0"),
)

places = Table(
    "places",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("resident_id", Integer, ForeignKey("residents.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(40), nullable=False),
    # The H3 cell as a 64-bit integer; never raw coordinates.
    Column("cell", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # (cell, resident_id) answers an area's range scans from the index alone.
    Index("ix_places_cell_resident", "cell", "resident_id"),
    Index("ix_places_resident", "resident_id"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("resident_id", Integer, ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True),
    Column("topic", String(32), primary_key=True),
)

# Who can be reached where: one row per place of an active, unerased resident,
# carrying what matching needs (channel, address, sector, tester, pause, topics).
# A copy, written ONLY by the database triggers of migration 0008 on places,
# subscriptions and residents; code reads it and never writes it. It exists so
# an area's cover is answered by range scans of one covering index, without
# visiting residents or subscriptions (see storage/outbox.py).
REACH_TOPIC_SEPARATOR = ","
REACH_COVERED = [
    "resident_id",
    "channel",
    "address",
    "sector",
    "is_tester",
    "paused_until",
    "topics",
    "resident_places",
]
reachable_places = Table(
    "reachable_places",
    metadata,
    Column("place_id", Integer, primary_key=True, autoincrement=False),
    Column("resident_id", Integer, nullable=False),
    Column("cell", BigInteger, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("address", String(220), nullable=False),
    Column("sector", String(32), nullable=True),
    Column("is_tester", Boolean, nullable=False),
    Column("paused_until", UTCDateTime, nullable=True),
    # The resident's topics between separators, e.g. ",all,burglary,": one
    # substring test per wanted topic, on the index entry itself.
    Column("topics", Text, nullable=False),
    # How many places the resident has: only rows of residents with several
    # need grouping into one recipient (most have one; grouping all cost more
    # than the scan).
    Column("resident_places", Integer, nullable=False),
    # A cover is answered from the index alone (an index-only scan). SQLite has
    # no INCLUDE, so there every column is part of the key; reading the rows by
    # rowid instead took seconds at a million residents.
    Index("ix_reachable_places_cell", "cell", postgresql_include=REACH_COVERED).ddl_if(dialect="postgresql"),
    Index("ix_reachable_places_cover", "cell", *REACH_COVERED).ddl_if(dialect="sqlite"),
    Index("ix_reachable_places_resident", "resident_id"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reference", String(20), nullable=False, unique=True),
    Column("type", String(8), nullable=False),
    Column("original_id", Integer, ForeignKey("alerts.id"), nullable=True),
    Column("incident_number", String(64), nullable=False),
    Column("headline", String(200), nullable=False),
    Column("message", Text, nullable=False),
    Column("contact", String(400), nullable=False),
    Column("area", JSON, nullable=False),
    Column("area_description", String(300), nullable=False),
    Column("topics", JSON, nullable=False),
    # Chosen explicitly by the officer: every resident in the area, whatever their topics.
    Column("everyone", Boolean, nullable=False, default=False, server_default=false()),
    Column("sectors", JSON, nullable=False),
    Column("audience", String(16), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("certainty", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("author", String(64), nullable=False),
    Column("approver", String(64), nullable=True),
    Column("message_id", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("approved_at", UTCDateTime, nullable=True),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("send_at", UTCDateTime, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("cancelled_at", UTCDateTime, nullable=True),
    Index("ix_alerts_state_expires", "state", "expires_at"),
    Index("ix_alerts_original", "original_id"),
)

tips = Table(
    "tips",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reference", String(20), nullable=False, unique=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=True),
    Column("resident_id", Integer, ForeignKey("residents.id", ondelete="SET NULL"), nullable=True),
    Column("text", Text, nullable=False),
    Column("media", JSON, nullable=False),
    # Where the tipster saw something: evidence, kept as sent.
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("anonymous", Boolean, nullable=False, default=True),
    # How officers may reach the tipster, only when they agreed (e.g. "@sam on Telegram").
    Column("contact", String(200), nullable=True),
    # The keyed pseudonym officers see (core/pseudonyms.py), fixed when the tip arrives.
    Column("tipster", String(40), nullable=True),
    Column("state", String(16), nullable=False),
    # The Slack thread the tip belongs in: "alert:<id>" or "day:<yyyy-mm-dd>".
    Column("thread_key", String(40), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # When the tipster was told an officer has seen the tip (once per tip; never who the officer was).
    Column("seen_told_at", UTCDateTime, nullable=True),
    Index("ix_tips_alert", "alert_id"),
    Index("ix_tips_resident_created", "resident_id", "created_at"),
)

# Residents' "Useful / Not useful" answers to an alert: one per resident per alert (a second answer replaces the
# first). Personal data: erasure and retention unlink the resident (``resident_id`` NULL) and keep the count.
alert_feedback = Table(
    "alert_feedback",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False),
    Column("resident_id", Integer, ForeignKey("residents.id", ondelete="SET NULL"), nullable=True),
    Column("channel", String(16), nullable=False),
    Column("useful", Boolean, nullable=False),
    Column("answered_at", UTCDateTime, nullable=False),
    UniqueConstraint("alert_id", "resident_id"),
    Index("ix_alert_feedback_answered_at", "answered_at"),
)

# Photos sent with a tip, kept with it (evidence; purged with the tip).
tip_media = Table(
    "tip_media",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tip_id", Integer, ForeignKey("tips.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("content_type", String(60), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_tip_media_tip", "tip_id"),
)

# The conversation on a tip after it was given: officer replies and the tipster's answers.
tip_notes = Table(
    "tip_notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tip_id", Integer, ForeignKey("tips.id", ondelete="CASCADE"), nullable=False),
    Column("author", String(64), nullable=False),  # "tipster" or the officer's Slack id
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_tip_notes_tip", "tip_id"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(24), nullable=False),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=True),
    Column("tip_id", Integer, ForeignKey("tips.id", ondelete="CASCADE"), nullable=True),
    Column("note_id", Integer, ForeignKey("tip_notes.id", ondelete="CASCADE"), nullable=True),
    # The root of a tips thread: "alert:<id>" or "day:<yyyy-mm-dd>".
    Column("thread_key", String(40), nullable=True),
    # The text itself, for a message that outlives what it was rendered from (a tip's post redacted on erasure).
    Column("body", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# Deliveries still to send (or in flight): the rows the claim index holds. The claim repeats this condition.
OPEN_DELIVERY_STATES = "state IN ('pending', 'failed', 'sending')"

deliveries = Table(
    "deliveries",
    metadata,
    # 64-bit (migration 0014); on SQLite the INTEGER PRIMARY KEY rowid, which is 64-bit already.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    # No foreign key: checking it once per row of a 57,000-row send cost ~10% of
    # the send; deleting a message deletes its rows by trigger (migration 0009).
    Column("message_id", Integer, nullable=False),
    # No foreign key: checking (and row-locking) 50,000 residents on every send
    # cost PostgreSQL ~0.5 s. Erasure deletes a resident's delivery rows itself.
    Column("resident_id", Integer, nullable=True),
    Column("channel", String(16), nullable=False),
    Column("address", String(220), nullable=False),
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("provider_message_id", String(128), nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # What the platform reported afterwards (WhatsApp status webhooks), so officers see reach and reads.
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("read_at", UTCDateTime, nullable=True),
    # Claim order, fixed when the row is written: priority (0 urgent first), then the row's turn in its
    # channel's queue (nearest first within an alert; alerts of one priority interleave).
    Column("priority", SmallInteger, nullable=False, default=2, server_default="2"),
    Column("turn", BigInteger, nullable=False, default=0, server_default="0"),
    # The invariant: one delivery per (message, address).
    UniqueConstraint("message_id", "address", name="uq_deliveries_message_address"),
    # The worker's claim: due rows of one channel, oldest first.
    Index("ix_deliveries_claim", "channel", "state", "next_attempt_at"),
    Index("ix_deliveries_message_state", "message_id", "state"),
    # The worker's claim in order: only rows still to send are in it, so sent ones cost nothing to skip.
    Index(
        "ix_deliveries_queue",
        "channel",
        "priority",
        "turn",
        "next_attempt_at",
        postgresql_where=text(OPEN_DELIVERY_STATES),
        sqlite_where=text(OPEN_DELIVERY_STATES),
    ),
    # A resident replies to a message: which one was it (by the platform's message id)?
    Index("ix_deliveries_address_provider", "address", "provider_message_id"),
)

# One root message per tips thread in the officers' queue; tips are posted as replies to it.
tip_threads = Table(
    "tip_threads",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=True),
    Column("message_id", Integer, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("detail", JSON, nullable=False),
    # Where the action came from: slack, cli, web, telegram, whatsapp, sms, or system (worker, scheduler).
    Column("source", String(16), nullable=True),
    Index("ix_audit_subject", "subject"),
)

# Refused attempts, counted per (who, what, hour): the first of each hour is also an audit row, the rest only add
# to the count here, so nobody can grow the append-only audit log without limit by pressing buttons they may not.
refused_attempts = Table(
    "refused_attempts",
    metadata,
    Column("actor", String(64), primary_key=True),
    Column("action", String(32), primary_key=True),
    Column("hour", UTCDateTime, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("source", String(16), nullable=True),
)

reference_counters = Table(
    "reference_counters",
    metadata,
    Column("prefix", String(4), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("value", Integer, nullable=False),
)

# Send-slot schedules shared by worker processes on PostgreSQL (see storage/rate_buckets.py).
rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("next_slot", UTCDateTime, nullable=False),
)

# The geocoder's answers, shared by every process (Nominatim asks each application to cache): keyed by a
# SHA-256 of the normalised query, never linked to anyone, dropped once expired (storage/geocode_cache.py).
geocode_answers = Table(
    "geocode_answers",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("answer", Text, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_geocode_answers_expires_at", "expires_at"),
)

# Officer-facing status messages kept current with an alert's delivery (Slack's status message after
# Send). Leased, so one web process updates each, and another takes over if that one dies.
progress_watches = Table(
    "progress_watches",
    metadata,
    Column("alert_id", Integer, ForeignKey("alerts.id"), primary_key=True),
    Column("address", String(220), nullable=False),  # e.g. "slack:C0123/1712345.000100": the message itself
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Index("ix_progress_watches_open", "finished_at", "lease_until"),
)

# Inbound updates seen (Telegram update_id, WhatsApp wamid, Slack retries): each is handled once.
inbound_updates = Table(
    "inbound_updates",
    metadata,
    Column("source", String(16), primary_key=True),
    Column("update_id", String(128), primary_key=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("handled_at", UTCDateTime, nullable=True),
    # Until when an unfinished claim is its handler's, by the database's clock (web processes' clocks differ);
    # past it, the handler is taken for dead and the platform's retry is handled. received_at stays the app's time.
    Column("claimed_until", UTCDateTime, nullable=True),
    Index("ix_inbound_updates_received", "received_at"),
)

# Each resident's place in the conversation, whatever the app, so any web process can take their next message.
conversations = Table(
    "conversations",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("address", String(200), primary_key=True),  # the address's id on its channel (a chat id, a phone number)
    Column("step", String(100), nullable=True),
    Column("data", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_conversations_updated", "updated_at"),
)

# Who counted against a platform's allowance of people per rolling 24 hours (WhatsApp's messaging limit):
# one row per address, stamped when it was last counted. Counted within the last 24 hours = using a place.
messaging_allowance = Table(
    "messaging_allowance",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("address", String(220), primary_key=True),
    Column("counted_at", UTCDateTime, nullable=False),
    Index("ix_messaging_allowance_counted", "channel", "counted_at"),
)

# The photo of an appeal (migration 0018): one per alert, re-encoded as JPEG without metadata, kept in the database
# so every process can serve and send it. ``token`` is the secret part of its public address; ``data`` goes when the
# force's photo retention has passed (LOOKOUT_RETENTION_PHOTO_DAYS), the size and digest stay.
alert_photos = Table(
    "alert_photos",
    metadata,
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True),
    Column("token", String(40), nullable=False),
    Column("content_type", String(40), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("withdrawn_at", UTCDateTime, nullable=True),
    Column("purged_at", UTCDateTime, nullable=True),
    Index("ix_alert_photos_created_at", "created_at"),
)
