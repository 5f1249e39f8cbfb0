"""The public page of a sent alert, at an unguessable path (core/alert_pages.py): what texts link to when cut short."""
