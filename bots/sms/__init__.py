"""The SMS resident bot (Twilio's Programmable Messaging wire format): webhook doors, the conversation's text face, and the delivery adapter.

The conversation itself is ``core.conversation``, the same as on Telegram and
WhatsApp; this package turns Twilio's form posts into its events and its
prompts into plain text with numbered choices, and sends through a thin httpx
client (``twilio_api``).
"""
