"""A fake channel adapter: scripted platform answers, a record of what was sent."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

from core.channels import ChannelLimits
from core.model import Address, Channel
from core.outbound import DeliveryResult, OutboundMessage


@dataclass
class SentMessage:
    to: Address
    message: OutboundMessage


class FakeAdapter:
    """Answers from a per-recipient script (then success), like a platform would."""

    def __init__(self, channel: Channel = Channel.TELEGRAM, *, rate: float = 1000.0, per_chat: float = 0.0) -> None:
        self.channel = channel
        self.limits = ChannelLimits(max_text=4096, messages_per_second=rate, per_chat_interval=per_chat, max_buttons=8)
        self.sent: list[SentMessage] = []
        self.attempts: dict[str, int] = defaultdict(int)
        self._script: dict[str, deque[DeliveryResult]] = defaultdict(deque)
        self._next_id = 1

    def answer(self, address: Address, *results: DeliveryResult) -> None:
        """The next answers for ``address`` (after these, every send succeeds)."""
        self._script[str(address)].extend(results)

    async def send(self, to: Address, message: OutboundMessage) -> DeliveryResult:
        self.attempts[str(to)] += 1
        script = self._script[str(to)]
        if script:
            return script.popleft()
        self.sent.append(SentMessage(to, message))
        self._next_id += 1
        return DeliveryResult.sent(str(self._next_id))

    async def aclose(self) -> None:
        pass
