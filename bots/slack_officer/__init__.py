"""The officers' Slack app: ``/alert`` to raise, preview, approve, send, follow up and cancel alerts.

Listeners are grouped by kind (``commands/``, ``actions/``, ``views/``,
``events/``), each package with ``register(app)``; Block Kit builders live in
``blocks/``; ``adapter.py`` is the Slack ``ChannelAdapter`` the delivery
worker uses to post into officers' channels.
"""
