"""``python -m sandbox``: every platform stand-in and the console on one port (see ``sandbox.service``)."""

from sandbox.service import main

main()
