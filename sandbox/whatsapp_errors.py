"""The Graph API's errors as the WhatsApp Cloud API answers them, with Meta's codes, titles and HTTP statuses.

A refused call is answered ``{"error": {"message", "type", "code", "error_data",
"fbtrace_id"}}`` with the status Meta uses for that code; a send Meta accepted
and failed later is reported in a ``failed`` status webhook whose ``errors[]``
entry has its own shape (``webhook_error``). Codes:
https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/
"""

from __future__ import annotations

from typing import Any

ERROR_CODES_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

# code -> (HTTP status, title). The message Meta sends is "(#code) title".
_ERRORS: dict[int, tuple[int, str]] = {
    100: (400, "Invalid parameter"),
    190: (401, "Invalid OAuth access token - Cannot parse access token"),
    130429: (400, "Rate limit hit"),
    131000: (500, "Something went wrong"),
    131008: (400, "Required parameter is missing"),
    131009: (400, "Parameter value is not valid"),
    131026: (400, "Message undeliverable"),
    131047: (400, "Re-engagement message"),
    131048: (400, "Spam rate limit hit"),
    131056: (400, "(Business Account, Consumer Account) pair rate limit hit"),
    132000: (400, "Number of parameters does not match the expected number of params"),
    132001: (404, "Template name does not exist in the translation"),
    132018: (400, "There was an issue with the parameters in your template."),
}
_DETAILS: dict[int, str] = {
    130429: (
        "Message failed to send because there were too many messages sent from this phone number "
        "in a short period of time"
    ),
    131000: "Message failed to send due to an unknown error.",
    131026: "Message Undeliverable.",
    131047: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    131048: (
        "Message failed to send because there are restrictions on how many messages can be sent from this phone "
        "number. This may be because too many previous messages were blocked or flagged as spam."
    ),
    131056: (
        "Message failed to send because there were too many messages sent from this phone number "
        "to the same phone number in a short period of time."
    ),
}
# Graph only still sends a subcode for a few errors; this one is in Meta's own 130429 sample.
_SUBCODES = {130429: 2494055}


class GraphError(Exception):
    """A Graph API error answer: ``code`` picks the title and HTTP status, ``details`` says why."""

    def __init__(self, code: int, details: str | None = None, *, message: str | None = None) -> None:
        status, title = _ERRORS[code]
        self.code = code
        self.http_status = status
        self.details = details if details is not None else _DETAILS.get(code)
        self.message = message or f"(#{code}) {title}"
        self.subcode = _SUBCODES.get(code)
        self.to: str | None = None
        self.request: dict[str, Any] | None = None
        super().__init__(self.message)

    def answer(self, fbtrace_id: str) -> dict[str, Any]:
        """The JSON body Graph answers with (its HTTP status is ``http_status``)."""
        body: dict[str, Any] = {"message": self.message, "type": "OAuthException", "code": self.code}
        if self.details is not None:
            body["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.subcode is not None:
            body["error_subcode"] = self.subcode
        body["fbtrace_id"] = fbtrace_id
        return {"error": body}


def invalid(details: str) -> GraphError:
    """Graph's code 100 names the offending parameter in the message itself."""
    return GraphError(100, details, message=f"(#100) {details}")


def unauthorized() -> GraphError:
    """Graph's token error carries its title alone as the message, and no details."""
    error = GraphError(190, message=_ERRORS[190][1])
    error.details = None
    return error


def no_such_object(object_id: str, method: str) -> GraphError:
    error = GraphError(
        100,
        message=(
            f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be loaded due to "
            "missing permissions, or does not support this operation. Please read the Graph API documentation "
            "at https://developers.facebook.com/docs/graph-api"
        ),
    )
    error.details, error.subcode = None, 33
    return error


def webhook_error(code: int) -> dict[str, Any]:
    """The ``errors[]`` entry of a ``failed`` status webhook for ``code``."""
    title = _ERRORS.get(code, (400, "Message failed to send"))[1]
    details = _DETAILS.get(code, title)
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details},
        "href": ERROR_CODES_HREF,
    }
