"""The real app (``lookout serve``) with the one-port sandbox standing in for every platform, as ``lookout demo`` runs them.

The console's Telegram resident starts unsubscribed; the app's webhook is
registered with the Bot API's setWebhook (its URL and secret, as ``lookout
telegram set-webhook`` registers them; that command has its own test). The
helpers act only through the console's endpoints — the same doors the page
uses — so everything a test then sees came through the platforms' own doors.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from sandbox.service import Sandbox
from sandbox.slack_workspace import OFFICER_ID, OFFICERS_CHANNEL_ID, TIPS_CHANNEL_ID
from tests.support.processes import Server, lookout_env

INCIDENT = "MV-20261125-0456"
CONTACT = "Call 101 quoting the incident number"  # the example force's contact text begins so
TOWN_CENTRE = (52.8067, -2.1174)  # the console's first preset place
# The compose modal as the officer fills it in: {block_id: {action_id: value}}, as the page sends it.
ALERT_FORM: dict[str, dict[str, Any]] = {
    "incident_number": {"value": INCIDENT},
    "headline": {"value": "Bogus callers"},
    "message": {"value": "Two men claiming to be from the water board."},
    "where_kind": {"value": "postcode"},
    "where": {"value": "ST16 2LZ"},
    "radius": {"value": "1km"},
    "reach": {"value": "topics"},
    "topics": {"value": ["bogus_callers"]},
    "audience": {"value": "both"},
    "urgency": {"value": "Immediate"},
    "status": {"value": "Actual"},
    "expires": {"value": "24"},
}


@dataclass
class AppWithSandbox:
    sandbox: Sandbox
    server: Server
    env: dict[str, str]

    def console(self, path: str, body: Any) -> httpx.Response:
        return httpx.post(f"{self.sandbox.base_url}/_console/api/{path}", json=body, timeout=15)

    def state(self, officer: str = OFFICER_ID, channel: str = TIPS_CHANNEL_ID) -> dict[str, Any]:
        answer = httpx.get(
            f"{self.sandbox.base_url}/_console/api/state", params={"officer": officer, "channel": channel}, timeout=10
        )
        answer.raise_for_status()
        return answer.json()

    # --- the resident's Telegram phone -------------------------------------------------------------

    def bot_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.state()["telegram"]["timeline"] if m["from"] == "bot"]

    def say(self, text: str, *, reply_to: int | None = None) -> dict[str, Any]:
        return self._ok(self.console("telegram/text", {"text": text, "reply_to": reply_to}))

    def tap(self, label: str) -> dict[str, Any]:
        """Tap the newest inline button whose text contains ``label``."""
        for message in reversed(self.bot_messages()):
            for button in (b for row in message.get("buttons") or [] for b in row):
                if label in button["text"] and "data" in button:
                    return self._ok(
                        self.console("telegram/button", {"message_id": message["id"], "data": button["data"]})
                    )
        raise AssertionError(
            f"no button {label!r} on the phone; the bot said last: {flatten(self.bot_messages()[-1]['nodes'])}"
        )

    def share_location(self, latitude: float, longitude: float) -> dict[str, Any]:
        """The reply keyboard's "Share my location" (or the paperclip, when there is none)."""
        keyboard = self.state()["telegram"]["keyboard"]
        body = {
            "latitude": latitude,
            "longitude": longitude,
            "keyboard_message": keyboard["message_id"] if keyboard else None,
        }
        return self._ok(self.console("telegram/location", body))

    def bot_said(self, fragment: str, what: str | None = None) -> dict[str, Any]:
        return eventually(
            lambda: next((m for m in reversed(self.bot_messages()) if fragment in flatten(m["nodes"])), None),
            what=what or f"the bot saying {fragment!r}",
        )

    # --- the officer's Slack -----------------------------------------------------------------------------

    def slack(self, channel: str, officer: str = OFFICER_ID) -> dict[str, Any]:
        return self.state(officer, channel)["slack"]

    def slash(self, text: str, *, channel: str = OFFICERS_CHANNEL_ID, officer: str = OFFICER_ID) -> dict[str, Any]:
        return self._ok(self.console("slack/command", {"user": officer, "channel": channel, "text": text}))

    def modal(self, callback_id: str, officer: str = OFFICER_ID) -> dict[str, Any]:
        return eventually(
            lambda: next(
                (
                    m
                    for m in [self.slack(OFFICERS_CHANNEL_ID, officer)["modal"]]
                    if m and m.get("callback_id") == callback_id
                ),
                None,
            ),
            what=f"the {callback_id} modal",
        )

    def submit(self, view_id: str, values: dict[str, Any], officer: str = OFFICER_ID) -> dict[str, Any]:
        return self._ok(self.console("slack/submit", {"user": officer, "view_id": view_id, "values": values}))

    def press(self, channel: str, message: dict[str, Any], action_id: str, officer: str = OFFICER_ID) -> dict[str, Any]:
        button = next(
            e for b in message["blocks"] or [] for e in b.get("elements") or [] if e.get("action_id") == action_id
        )
        return self._ok(
            self.console(
                "slack/action",
                {
                    "user": officer,
                    "channel": channel,
                    "message_ts": message["ts"],
                    "action_id": action_id,
                    "type": "button",
                    "value": button["value"],
                },
            )
        )

    @staticmethod
    def _ok(answer: httpx.Response) -> dict[str, Any]:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["status"] == 200, body  # how the app answered the platform's call
        return body


@contextmanager
def app_with_sandbox(database_url: str) -> Iterator[AppWithSandbox]:
    with Sandbox() as sandbox:
        env = lookout_env(database_url, **sandbox.app_environment())
        server = Server(env)
        sandbox.connect_app(server.url)
        env["LOOKOUT_PUBLIC_URL"] = server.url
        try:
            server.wait_until_up()
            # Straight to the Bot API door rather than through the CLI: a second process would cost seconds.
            registered = httpx.post(
                f"{sandbox.telegram_api_base}/bot{sandbox.config.telegram_token}/setWebhook",
                json={"url": f"{server.url}/telegram/webhook", "secret_token": sandbox.config.telegram_webhook_secret},
            )
            assert registered.json() == {"ok": True, "result": True}
            yield AppWithSandbox(sandbox, server, env)
        finally:
            output = server.stop()
            assert "Traceback" not in output, output


def eventually(check: Callable[[], Any], timeout: float = 20.0, what: str = "it") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what} never happened")


def flatten(nodes: list[dict[str, Any]]) -> str:
    """The text of a Telegram bubble's nodes, as the resident reads it."""
    return "".join(n["v"] if n["t"] == "text" else flatten(n.get("c", [])) for n in nodes)


def slack_text(message: dict[str, Any]) -> str:
    """What a Slack message in the console's snapshot says: its text and every text in its blocks."""
    parts = [str(message.get("text") or "")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks") or [])
    return "\n".join(parts)
