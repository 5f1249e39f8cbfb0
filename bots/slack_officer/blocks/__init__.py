"""Block Kit builders: modals, the preview card, status messages and listings. Pure functions, no I/O."""
