"""The resident's conversation, whatever the app: steps, checks, what to ask next, choices as data.

A platform turns what a resident did into an ``Event`` (a typed message, a
shared location, a photo, a tapped choice, a command), hands it to
``ResidentConversation.handle`` and shows the ``Prompt`` that comes back in
its own way (WhatsApp: lists, reply buttons and typed keywords). The journey
is the Telegram bot's, and so are the words: the same gettext messages in
``core/locales``. Conversation state lives in the database
(``ConversationStore``), so any web process can take the next message.
"""
