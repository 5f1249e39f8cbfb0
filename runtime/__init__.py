"""The runtime: what turns the core, storage and the platforms into running processes.

The composition root (``app``: settings → storage → services → platforms → one
ASGI app), the process runner (``serving``), the scheduler's runner, the
``lookout`` command line (``cli``, ``cli_alerts``, ``cli_config`` with ``config_check``,
``cli_support``, ``bench``, ``demo``), the synthetic population the demo and the
benchmarks seed, metrics, logs, the version, and the example force config (``examples``).
The platforms themselves live in ``bots/``; nothing there imports this package.
"""
