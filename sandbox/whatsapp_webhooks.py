"""Meta's webhooks to a WhatsApp app: the envelope, the bytes and the ``X-Hub-Signature-256`` signature.

Meta POSTs ``{"object": "whatsapp_business_account", "entry": [...]}`` to the
app's callback URL as compact JSON (non-ASCII as ``\\uXXXX``, ``/`` as ``\\/``),
signed with HMAC-SHA256 of those exact bytes under the app secret. The stand-in
(``sandbox.whatsapp``) sends residents' messages and message statuses this way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import httpx

SIGNATURE_HEADER = "X-Hub-Signature-256"


@dataclass
class WebhookDelivery:
    payload: dict[str, Any]
    body: bytes
    signature: str
    status_code: int
    response_text: str

    @property
    def message_id(self) -> str | None:
        messages = self.payload["entry"][0]["changes"][0]["value"].get("messages") or [{}]
        return messages[0].get("id")


def envelope(value: dict[str, Any], *, display_phone_number: str, phone_number_id: str, waba_id: str) -> dict[str, Any]:
    """One ``messages`` change of the business account, as Meta wraps every webhook."""
    metadata = {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id}
    change = {"value": {"messaging_product": "whatsapp", "metadata": metadata, **value}, "field": "messages"}
    return {"object": "whatsapp_business_account", "entry": [{"id": waba_id, "changes": [change]}]}


def meta_json(payload: dict[str, Any]) -> bytes:
    # Meta sends compact JSON with non-ASCII as \uXXXX and "/" as "\/": an app that re-serialises
    # the parsed body before checking the signature fails here just as it would in production.
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


def signature(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value for ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


async def post_signed(callback_url: str, payload: dict[str, Any], app_secret: str) -> WebhookDelivery:
    """POST ``payload`` to the app as Meta does, and note what the app answered."""
    body = meta_json(payload)
    signed = signature(app_secret, body)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signed, "User-Agent": "facebookexternalua"}
    async with httpx.AsyncClient(timeout=10.0) as client:
        response = await client.post(callback_url, content=body, headers=headers)
    return WebhookDelivery(payload, body, signed, response.status_code, response.text)
