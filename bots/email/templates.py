"""The Jinja2 templates of the email room: ``templates/mail/`` for messages, ``templates/pages/`` for the site.

Autoescaping is on for every ``.html`` template (and off for ``.txt``), so
whatever a resident or an officer typed is shown as text, never as markup.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("bots.email", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,  # a missing value is a bug to see in tests, not a blank in someone's inbox
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **values: object) -> str:
    return environment().get_template(name).render(**values)
