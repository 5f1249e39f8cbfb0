"""The resident's conversation, whatever the app: steps, checks, what to ask next, choices as data.

A platform turns what a resident did into an ``Event`` (a typed message, a
shared location, a photo, a tapped choice, a command), hands it to
``ResidentConversation.handle`` and shows the ``Prompt`` that comes back in
its own way (buttons, lists, a keyboard, typed keywords). Every chat app
runs this one journey with the same words (the gettext messages in
``core/locales``); an app adds only an inbound mapper (its updates → events),
a renderer (a ``Prompt`` → its messages) and its adapter. Conversation state
lives in the database (``ConversationStore``), so any web process can take
the next message.
"""
