"""Errors the core raises for people to read.

Every message here may be shown to an officer or a resident as it is, so it is
polite, specific and says what to do next.
"""

from __future__ import annotations

from collections.abc import Mapping


class LookoutError(Exception):
    """Base for errors that carry a message meant for a person."""


class InvalidInput(LookoutError):
    """One or more fields of a request are wrong; nothing was changed.

    ``errors`` maps a field name (as the caller named it: ``radius``,
    ``incident_number``, ``topics``…) to what is wrong with it, so a Slack
    modal can put each message under its own field and the CLI can name it.
    """

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors: dict[str, str] = dict(errors)
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in self.errors.items()))

    @classmethod
    def one(cls, field: str, problem: str) -> InvalidInput:
        return cls({field: problem})


class NotFound(LookoutError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class NotAllowed(LookoutError):
    """The caller may not do this (not an officer, approving their own alert, …)."""


class Conflict(LookoutError):
    """The request clashes with the current state (sending a cancelled alert, …)."""
