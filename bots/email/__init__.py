"""Email: alerts by SMTP and the web pages where people without Telegram or WhatsApp sign up.

One room: the ``EmailAdapter`` (a ``ChannelAdapter``), the SMTP client, the
email templates, the signed links every email carries, and the ``/subscribe``
pages those links open.
"""
