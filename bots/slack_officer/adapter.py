"""The Slack ``ChannelAdapter``: chat.postMessage into officers' channels and threads (photos with files upload v2).

Addresses are ``slack:<channel>`` or ``slack:<channel>/<thread ts>``; an
``OutboundMessage.reply_to`` (a thread ts) wins over the address's thread. The
text arrives already rendered as mrkdwn and escaped (core/rendering.py), so it
is posted as it is. Slack allows about one message a second per channel: the
adapter spaces its own posts per channel and, after a 429, waits out
``Retry-After`` before posting there again, besides telling the worker. A
message ``in_place`` rewrites the one its address names (chat.update): how a
tip's post loses the tipster's name when they erase their data.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, ClassVar

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from core.channels import PUBLISHED_LIMITS, ChannelLimits
from core.model import Address, Channel
from core.outbound import Button, DeliveryResult, OutboundMessage

logger = logging.getLogger("lookout.slack")

REQUEST_TIMEOUT_S = 15
# API errors Slack answers at HTTP 200 that are still worth another try.
RETRYABLE_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
SECTION_TEXT_MAX = 3000


def make_client(token: str, api_base: str) -> AsyncWebClient:
    """A Web API client pointed at ``SLACK_API_BASE`` (slack_sdk wants the trailing slash)."""
    base = api_base if api_base.endswith("/") else f"{api_base}/"
    return AsyncWebClient(token=token, base_url=base, timeout=REQUEST_TIMEOUT_S)


def split_address(to: Address, reply_to: str | None = None) -> tuple[str, str | None]:
    """``slack:C0123/1712345.000100`` → (``C0123``, ``1712345.000100``); ``reply_to`` overrides the thread."""
    channel, _, thread = to.id.partition("/")
    return channel, reply_to or thread or None


def message_blocks(message: OutboundMessage) -> list[dict[str, Any]]:
    """The text as one mrkdwn section (the fallback ``text`` carries it too) and any buttons below it."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": message.text[:SECTION_TEXT_MAX]}}
    ]
    if message.image_url:
        blocks.append({"type": "image", "image_url": message.image_url, "alt_text": "photo"})
    if message.buttons:
        blocks.append({"type": "actions", "elements": [_button(b) for b in message.buttons]})
    return blocks


def _button(button: Button) -> dict[str, Any]:
    # The data doubles as action_id (unique within the message, and what listeners match on) and value.
    return {
        "type": "button",
        "action_id": button.data,
        "value": button.data,
        "text": {"type": "plain_text", "text": button.label[:75], "emoji": True},
    }


class SlackAdapter:
    channel: ClassVar[Channel] = Channel.SLACK
    limits: ClassVar[ChannelLimits] = PUBLISHED_LIMITS[Channel.SLACK]

    def __init__(self, client: AsyncWebClient, *, per_channel_interval: float | None = None) -> None:
        self.client = client
        self._interval = self.limits.per_chat_interval if per_channel_interval is None else per_channel_interval
        self._not_before: dict[str, float] = {}  # Slack channel → monotonic time of its next allowed post
        self._locks: dict[str, asyncio.Lock] = {}

    async def send(self, to: Address, message: OutboundMessage) -> DeliveryResult:
        channel, thread_ts = split_address(to, message.reply_to)
        async with self._locks.setdefault(channel, asyncio.Lock()):
            await self._wait_turn(channel)
            try:
                if message.in_place:  # ``slack:<channel>/<ts>`` names the message to rewrite
                    if thread_ts is None:
                        return DeliveryResult.permanent(f"{to.id} names no message to rewrite in place")
                    answer = await self.client.chat_update(
                        channel=channel, ts=thread_ts, text=message.text, blocks=message_blocks(message)
                    )
                else:
                    answer = await self.client.chat_postMessage(
                        channel=channel,
                        thread_ts=thread_ts,
                        text=message.text,
                        blocks=message_blocks(message),
                        unfurl_links=False,
                        unfurl_media=False,
                    )
            except SlackApiError as exc:
                return self._api_error(channel, exc)
            except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:  # the network, not Slack's answer
                return DeliveryResult.retry(f"{type(exc).__name__}: {exc}")
            finally:
                self._not_before[channel] = max(self._not_before.get(channel, 0.0), time.monotonic() + self._interval)
            ts = str(answer.get("ts"))
            if message.attachments:
                await self._attach(channel, thread_ts or ts, message)
        return DeliveryResult.sent(ts)

    async def _attach(self, channel: str, thread_ts: str, message: OutboundMessage) -> None:
        """Photos go into the same thread with files upload v2, after the text.

        The text is already posted, so a failed upload must not make the worker send it
        again: it is logged (with Slack's error) and the delivery counts as made.
        """
        uploads = [{"content": a.data, "filename": a.name, "title": a.name} for a in message.attachments]
        try:
            await self.client.files_upload_v2(channel=channel, thread_ts=thread_ts, file_uploads=uploads)
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            detail = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
            logger.error(
                "%d photo(s) could not be added to Slack thread %s in %s: %s", len(uploads), thread_ts, channel, detail
            )

    async def _wait_turn(self, channel: str) -> None:
        delay = self._not_before.get(channel, 0.0) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def _api_error(self, channel: str, exc: SlackApiError) -> DeliveryResult:
        response = exc.response
        error = str(response.get("error") or "unknown_error")
        status = getattr(response, "status_code", 200)
        if status == 429 or error == "ratelimited":
            after = _retry_after(response.headers)
            self._not_before[channel] = time.monotonic() + after
            return DeliveryResult.retry("ratelimited", after=after)
        if status >= 500 or error in RETRYABLE_ERRORS:
            return DeliveryResult.retry(f"slack answered {status}: {error}")
        # Anything else (channel_not_found, not_in_channel, is_archived, invalid_auth, invalid_blocks, …)
        # is Slack's answer about this request, not a passing fault: trying again will not help.
        return DeliveryResult.permanent(error)

    async def aclose(self) -> None:
        # slack_sdk's client opens an HTTP session per call unless given one; nothing is held open.
        return None


def _retry_after(headers: Any) -> float:
    """Slack's ``Retry-After`` in seconds (one second when it is missing or unreadable)."""
    for key, value in dict(headers or {}).items():
        if str(key).lower() == "retry-after":
            try:
                return max(1.0, float(value[0] if isinstance(value, list) else value))
            except (TypeError, ValueError):
                break
    return 1.0
