"""A burst of residents: every one is answered, none gets a 5xx, with the Telegram stand-in enforcing its limits.

The red team saw 46% of 100 simultaneous residents' webhooks answered 500: the conversation's replies met
Telegram's 429, waited once, met it again and failed. Replies are now paced at the bot's rate, first replies first,
and a 429 is waited out. The time to answer everyone is a figure of ``lookout bench doors`` (docs/performance.md), not asserted.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from benchmarks.doors import TOKEN, register_webhook, resident_burst, serve_settings
from benchmarks.serve_process import ServeProcess
from bots.telegram.adapter import make_conversation_bot
from sandbox.telegram import TelegramLimits, TelegramStandIn


async def test_a_hundred_replies_at_once_all_go_out_within_telegrams_limits() -> None:
    with TelegramStandIn(TOKEN, limits=TelegramLimits()) as telegram:
        bot = make_conversation_bot(TOKEN, telegram.base_url)
        try:
            sent = await asyncio.gather(
                *(bot.send_message(chat_id=990_000 + n, text=f"Welcome {n}") for n in range(100)),
                return_exceptions=True,
            )
        finally:
            await bot.session.close()
    failures = [repr(s) for s in sent if isinstance(s, BaseException)]
    assert failures == [] and len(telegram.sent) == 100
    assert telegram.rate_limited == 0  # paced below the limit, not bounced off it


def test_a_hundred_residents_at_once_are_all_answered_and_no_webhook_fails(database_url: str, tmp_path: Path) -> None:
    with TelegramStandIn(TOKEN, limits=TelegramLimits()) as telegram:
        with ServeProcess(serve_settings(database_url, telegram), tmp_path / "serve.log") as serve:
            register_webhook(telegram, serve.url)
            figures = asyncio.run(resident_burst(telegram, 100))
            log = serve.log()
    assert figures["server_errors"] == 0, figures
    assert figures["webhook_answers"] == {"200": 100}
    assert figures["residents_answered"] == 100, figures
    assert "Traceback" not in log, log[-3000:]
