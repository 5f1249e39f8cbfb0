"""Every filter and handler of the Telegram bot runs on the event loop.

aiogram runs a plain callable — a bare ``F`` magic filter, a ``State`` used as a
filter, a ``def`` handler — in a thread (``asyncio.to_thread``). Under load those
thread hops cost a web process more than the checks themselves, so the routers
wrap them (``OnLoop``, ``StateFilter``); this keeps a new one from slipping in.
"""
from __future__ import annotations

from aiogram import Router

from bots.telegram.routers import fallback, manage, membership, onboarding, tips


def _handlers(router: Router):
    for name, observer in router.observers.items():
        for handler in observer.handlers:
            yield name, handler


def test_no_filter_or_handler_is_run_in_a_thread():
    threaded = []
    for module in (membership, onboarding, manage, tips, fallback):
        for event, handler in _handlers(module.build_router()):
            label = f"{module.__name__}:{event}:{getattr(handler.callback, '__name__', handler.callback)}"
            if not handler.awaitable:
                threaded.append(f"{label} (the handler)")
            threaded.extend(f"{label} filter {f.callback!r}" for f in handler.filters or [] if not f.awaitable)
    assert threaded == []
