"""matplotlib's font cache, built ahead of the first report, and never in silence.

The first import of `matplotlib.font_manager` scans the system's fonts and writes the list to
matplotlib's cache directory (`matplotlib.get_cachedir()`); with many fonts installed that scan
took 83 s on a busy machine, during which `loadgen report` printed nothing. `make sync` and
`scripts/demo.sh` build the cache during setup (`python -m loadgen.report.fonts`), and
`loadgen report` goes through `build_font_cache` too, so a scan that is still needed says so.
"""

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

#: Seconds between messages while the scan runs (the first comes after one period).
HEARTBEAT_S = 2.0


def build_font_cache(say: Callable[[str], None], heartbeat_s: float = HEARTBEAT_S) -> float:
    """Import matplotlib's font manager (which builds the cache if it is missing) and, while
    that takes longer than `heartbeat_s`, call `say` every `heartbeat_s`; returns the seconds
    it took. A failed import is raised here, as it would be without this."""
    failures: list[BaseException] = []
    building: list[bool] = []

    def load() -> None:
        try:
            import matplotlib

            # The cache file's name carries the font manager's version; any one will do to
            # tell a first use (a scan) from a slow import.
            building.append(not any(Path(matplotlib.get_cachedir()).glob("fontlist-v*.json")))
            import matplotlib.font_manager  # the import builds the cache
        except BaseException as exc:  # re-raised in the caller's thread
            failures.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=load, name="matplotlib-font-cache", daemon=True)
    worker.start()
    while True:
        worker.join(heartbeat_s)
        if not worker.is_alive():
            break
        seconds = time.monotonic() - started
        if building and building[0]:
            say(
                f"building matplotlib's font cache, first use only: it scans the system's "
                f"fonts ({seconds:.0f} s)"
            )
        else:
            say(f"loading matplotlib ({seconds:.0f} s)")
    if failures:
        raise failures[0]
    return time.monotonic() - started


def main() -> None:
    """`python -m loadgen.report.fonts`: build the cache now, saying so on stderr."""
    seconds = build_font_cache(lambda line: print(line, file=sys.stderr, flush=True))
    if seconds >= HEARTBEAT_S:
        print(f"matplotlib's font cache is ready ({seconds:.0f} s)", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
