"""A resident's Telegram phone in tests: what they do goes to the app's webhook, what the bot sent is read from the stand-in."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sandbox.telegram import SentRecord, TelegramStandIn
from sandbox.telegram_users import SimulatedUser, TelegramUsers


class Phone:
    def __init__(self, telegram: TelegramStandIn, users: TelegramUsers, user: SimulatedUser) -> None:
        self.telegram, self.users, self.user = telegram, users, user

    @property
    def chat_id(self) -> int:
        return self.user.id

    # --- doing ------------------------------------------------------------------------

    def send(self, text: str, *, reply_to: int | None = None) -> None:
        self._ok(self.users.sends_text(self.user, text, reply_to=reply_to))

    def share_location(self, lat: float, lon: float, *, live_period: int | None = None) -> None:
        self._ok(self.users.shares_location(self.user, lat, lon, live_period=live_period))

    def send_photo(self, content: bytes, *, caption: str | None = None) -> None:
        self._ok(self.users.sends_photo(self.user, content, caption=caption))

    def press(self, label: str) -> None:
        """Tap the newest inline button whose text contains ``label``."""
        for record in reversed(self.messages()):
            for row in (record.reply_markup or {}).get("inline_keyboard", []):
                for button in row:
                    if label in button["text"] and "callback_data" in button:
                        self._ok(self.users.presses_button(self.user, record.message_id, button["callback_data"]))
                        return
        raise AssertionError(f"no button {label!r} on the screen; the chat shows:\n{self.transcript()}")

    def press_first(self) -> None:
        """Tap the first button of the newest message (when its words are in another language)."""
        button = self.last().reply_markup["inline_keyboard"][0][0]  # type: ignore[index]
        self._ok(self.users.presses_button(self.user, self.last().message_id, button["callback_data"]))

    # --- seeing -----------------------------------------------------------------------

    def messages(self) -> list[SentRecord]:
        return [m for m in self.telegram.messages_to(self.chat_id) if not m.deleted]

    def last(self) -> SentRecord:
        return self.messages()[-1]

    def texts(self) -> list[str]:
        return [m.visible for m in self.messages()]

    def transcript(self) -> str:
        return "\n---\n".join(self.texts()[-6:])

    def wait_for(self, check: Callable[[], Any], timeout: float = 15) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"gave up waiting; the chat shows:\n{self.transcript()}")

    def wait_for_text(self, fragment: str, timeout: float = 15) -> SentRecord:
        return self.wait_for(
            lambda: next((m for m in reversed(self.messages()) if fragment in m.visible), None), timeout
        )

    @staticmethod
    def _ok(answer: Any) -> None:
        assert answer.status_code == 200, answer.text
