"""matplotlib's font cache, built ahead of the first report, and never in silence.

The first import of `matplotlib.font_manager` scans the system's fonts and writes the list to
matplotlib's cache directory (`matplotlib.get_cachedir()`); with many fonts installed that scan
took 83 s on a busy machine, during which `loadgen report` printed nothing. `make sync` and
`scripts/demo.sh` build the cache during setup (`python -m loadgen.report.fonts`), and
`loadgen report` goes through `build_font_cache` too, so a scan that is still needed says so.
"""

import sys
import time
from collections.abc import Callable
from pathlib import Path

from loadgen.heartbeat import EVERY_S, heartbeat


def build_font_cache(say: Callable[[str], None], every_s: float = EVERY_S) -> float:
    """Import matplotlib's font manager, which builds the cache if it is missing, saying what
    it is doing every `every_s` seconds while that lasts; returns the seconds it took."""
    building = False

    def describe(seconds: float) -> str:
        if building:
            return (
                "building matplotlib's font cache, first use only: it scans the system's fonts "
                f"({seconds:.0f} s)"
            )
        return f"loading matplotlib ({seconds:.0f} s)"

    started = time.monotonic()
    with heartbeat(describe, say, every_s):
        import matplotlib

        # The cache file's name carries the font manager's version; any one will do to tell a
        # first use (a scan) from a slow import.
        building = not any(Path(matplotlib.get_cachedir()).glob("fontlist-v*.json"))
        import matplotlib.font_manager  # the import builds the cache
    return time.monotonic() - started


def main() -> None:
    """`python -m loadgen.report.fonts`: build the cache now, saying so on stderr."""
    seconds = build_font_cache(lambda line: print(line, file=sys.stderr, flush=True))
    if seconds >= EVERY_S:
        print(f"matplotlib's font cache is ready ({seconds:.0f} s)", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
