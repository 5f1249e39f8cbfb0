"""The sandbox console: a web page for playing residents and officers against the real app.

The page (``static/``: HTML, CSS and plain JavaScript, no build step) calls the
small JSON endpoints in ``sandbox.console.api``. Those act only through the
platforms' own doors — Update JSON to the Telegram webhook with its secret
header, signed Slack requests, signed WhatsApp webhooks — using the simulated
users of each stand-in, and read back what the app sent from the stand-ins'
records (``sandbox.console.snapshot``).
"""
