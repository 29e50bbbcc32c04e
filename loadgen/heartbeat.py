"""Saying something every few seconds while a slow step runs, so that it never looks like a hang.

Used where nothing else shows progress: the first import of the analysis libraries (numpy,
scipy, pyarrow, matplotlib: a few seconds on a busy machine) and matplotlib's font scan.
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: Seconds between messages.
EVERY_S = 2.0


@contextmanager
def heartbeat(
    describe: Callable[[float], str], say: Callable[[str], None], every_s: float = EVERY_S
) -> Iterator[None]:
    """While the body runs, every `every_s` seconds `say(describe(seconds so far))`; a body done
    sooner says nothing. The body runs in the calling thread, so its exceptions and imports are
    as they would be without this; the messages come from a helper thread."""
    done = threading.Event()
    started = time.monotonic()

    def tick() -> None:
        while not done.wait(every_s):
            say(describe(time.monotonic() - started))

    ticker = threading.Thread(target=tick, name="heartbeat", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
