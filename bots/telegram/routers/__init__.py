"""aiogram routers, one module per part of the resident's conversation."""
