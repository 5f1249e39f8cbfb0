"""Moves this process's wall clock for a moved-clock test run (``tests/moved_clock.py``).

That script puts this folder on PYTHONPATH, so Python imports this module at the start of
every process of the run: pytest, its workers, and each ``lookout`` process or stand-in a
test starts. Each moves its clock by the same ``MOVED_CLOCK_OFFSET_SECONDS`` seconds and
lets it tick, so they all agree on the moved time. Monotonic clocks and sleeps are left
alone: timeouts and pacing still count real seconds.
"""

import os

_offset = os.environ.get("MOVED_CLOCK_OFFSET_SECONDS")
if _offset:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
    # time-machine starts the tick at the first reading, not at start(): read now, so every
    # process is moved by the offset exactly (a late first reading would leave it behind).
    time.time()
