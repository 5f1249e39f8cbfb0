"""The WhatsApp resident bot (Cloud API): webhook, the conversation's WhatsApp face, and the delivery adapter.

The conversation itself (steps, checks, words) is ``core.conversation``,
shared in spirit and in translations with the Telegram bot; this package
turns Cloud API webhooks into its events and its prompts into lists, reply
buttons and plain text, and sends through a thin aiohttp client (``graph``).
"""
