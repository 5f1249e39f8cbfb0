"""A resident's phone for SMS tests: what they text is a signed form POST from the stand-in; what the bot sent is read back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sandbox.sms import SmsStandIn, WebhookCall


class SmsPhone:
    def __init__(self, sms: SmsStandIn, number: str) -> None:
        self.sms = sms
        self.number = number
        self.device = sms.phone(number)

    async def text(self, body: str, *, pictures: tuple[tuple[bytes, str], ...] = ()) -> WebhookCall:
        call = await self.device.texts(body, pictures=pictures)
        assert call.status_code == 200, call.response_text
        return call

    def texts(self) -> list[str]:
        return self.sms.texts_to(self.number)

    def last(self) -> str:
        return self.texts()[-1]

    async def wait_for(self, check: Callable[[], Any], timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError("gave up waiting; the phone shows:\n" + "\n---\n".join(self.texts()[-5:]))

    async def wait_for_text(self, fragment: str, timeout: float = 20) -> str:
        return await self.wait_for(lambda: next((t for t in reversed(self.texts()) if fragment in t), None), timeout)
