"""The ``/subscribe`` pages: web sign-up and self-service for people who get alerts by email.

Server-rendered HTML that works without JavaScript. No passwords: whoever
holds a signed link from an email may act for that address (see
``bots.email.links``). Double opt-in: the sign-up form stores nothing; the
confirmation email's link carries the choices, and only following it (and
pressing Confirm) creates the subscription.

    GET/POST /subscribe                 the sign-up form (a second step to choose among places)
    GET/POST /subscribe/confirm?t=…     confirm (a button: mail scanners fetch links with GET)
    GET/POST /subscribe/manage?t=…      places, topics, sector, pause; "your data"
    GET/POST /subscribe/manage/link     ask for a fresh manage link by email
    GET/POST /subscribe/unsubscribe?t=… one button; RFC 8058 one-click POST from mail apps
    GET/POST /subscribe/tip?t=…         information about one alert, to the officers' tips queue
    GET      /subscribe/privacy         what the email sign-up keeps
    GET      /subscribe/static/pages.css
"""

from __future__ import annotations

from bots.email.pages.site import add_subscribe_pages

__all__ = ["add_subscribe_pages"]
