"""Reading Meta's webhook JSON: ``entry[].changes[].value`` with ``messages[]`` and ``statuses[]``.

Only what Lookout uses is kept, checked as it is read; a body that is not a
WhatsApp Business Account webhook raises ``NotAWebhook`` (the caller answers
400). Changes for another phone number on the same app are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_WA_ID = re.compile(r"[0-9]{7,15}")  # an international phone number (E.164: at most 15 digits)
MAX_WAMID = 128  # the inbound log's column; real wamids are about 60 characters


class NotAWebhook(ValueError):
    """The body is not a WhatsApp Cloud API webhook Lookout can read."""


@dataclass(frozen=True)
class InboundMessage:
    wamid: str
    wa_id: str
    sent_at: datetime
    kind: str  # text, interactive, button, location, image, …
    content: dict[str, Any]  # the object under ``kind``
    context_id: str | None  # the wamid of the message this replies to (or whose button was tapped)
    profile_name: str | None


@dataclass(frozen=True)
class StatusReport:
    wamid: str
    recipient_id: str
    status: str  # sent | delivered | read | failed
    at: datetime
    error_code: int | None = None
    error_text: str | None = None


@dataclass
class WebhookBatch:
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusReport] = field(default_factory=list)


def parse_webhook(data: Any, phone_number_id: str | None, now: datetime) -> WebhookBatch:
    if not isinstance(data, dict) or data.get("object") != "whatsapp_business_account":
        raise NotAWebhook("not a WhatsApp Business Account webhook")
    batch = WebhookBatch()
    for entry in _list(data.get("entry"), "entry"):
        for change in _list(_dict(entry, "entry").get("changes"), "changes"):
            change = _dict(change, "change")
            if change.get("field") != "messages":
                continue  # template reviews, account updates: nothing for the resident bot
            value = _dict(change.get("value"), "value")
            metadata = value.get("metadata")
            if (
                phone_number_id
                and isinstance(metadata, dict)
                and str(metadata.get("phone_number_id")) != phone_number_id
            ):
                continue
            names = _profile_names(value.get("contacts"))
            for message in _list(value.get("messages") or [], "messages"):
                batch.messages.append(_message(_dict(message, "message"), names, now))
            for status in _list(value.get("statuses") or [], "statuses"):
                batch.statuses.append(_status(_dict(status, "status"), now))
    return batch


def _message(message: dict[str, Any], names: dict[str, str], now: datetime) -> InboundMessage:
    wamid, wa_id, kind = message.get("id"), message.get("from"), message.get("type")
    if not isinstance(wamid, str) or not 0 < len(wamid) <= MAX_WAMID:
        raise NotAWebhook("a message without a usable id")
    if not isinstance(wa_id, str) or not _WA_ID.fullmatch(wa_id):
        raise NotAWebhook("a message without a usable sender")
    if not isinstance(kind, str) or not kind:
        raise NotAWebhook("a message without a type")
    content = message.get(kind)
    context = message.get("context")
    context_id = context.get("id") if isinstance(context, dict) and isinstance(context.get("id"), str) else None
    return InboundMessage(
        wamid=wamid,
        wa_id=wa_id,
        sent_at=_time(message.get("timestamp"), now),
        kind=kind,
        content=content if isinstance(content, dict) else {},
        context_id=context_id,
        profile_name=names.get(wa_id),
    )


def _status(status: dict[str, Any], now: datetime) -> StatusReport:
    wamid, recipient, state = status.get("id"), status.get("recipient_id"), status.get("status")
    if not isinstance(wamid, str) or not 0 < len(wamid) <= MAX_WAMID or not isinstance(state, str):
        raise NotAWebhook("a status without a usable id or status")
    if not isinstance(recipient, str) or not _WA_ID.fullmatch(recipient):
        raise NotAWebhook("a status without a usable recipient")
    code, text = None, None
    errors = status.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code = first.get("code") if isinstance(first.get("code"), int) else None
        data = first.get("error_data")
        details = data.get("details") if isinstance(data, dict) else None
        text = str(details or first.get("title") or first.get("message") or "")[:300] or None
    return StatusReport(wamid, recipient, state, _time(status.get("timestamp"), now), code, text)


def _profile_names(contacts: Any) -> dict[str, str]:
    names: dict[str, str] = {}
    for contact in contacts if isinstance(contacts, list) else []:
        if isinstance(contact, dict) and isinstance(contact.get("wa_id"), str):
            profile = contact.get("profile")
            name = profile.get("name") if isinstance(profile, dict) else None
            if isinstance(name, str) and name.strip():
                names[contact["wa_id"]] = name.strip()[:100]
    return names


def _time(raw: Any, now: datetime) -> datetime:
    """Meta's Unix seconds; never later than now (a clock ahead of ours must not stretch the 24-hour window)."""
    try:
        moment = datetime.fromtimestamp(int(raw), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return now
    return min(moment, now)


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise NotAWebhook(f"{name} should be a list")
    return value


def _dict(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise NotAWebhook(f"{name} should be an object")
    return value
