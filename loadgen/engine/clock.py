"""The one clock every timestamp comes from, and its anchor to wall-clock time.

`time.monotonic_ns` reads CLOCK_MONOTONIC with nanosecond resolution, is shared by every
process on the host, and never jumps. The event loop's own clock is not used: uvloop's has
millisecond granularity.
"""

import time

now_ns = time.monotonic_ns


def wall_anchor_ns(monotonic_ns: int) -> int:
    """Unix epoch nanoseconds at the instant CLOCK_MONOTONIC read `monotonic_ns`.

    Samples (monotonic, wall, monotonic) a few times and keeps the tightest bracket, so the
    anchor is good to about a microsecond.
    """
    best_width: int | None = None
    best_anchor = 0
    for _ in range(7):
        before = time.monotonic_ns()
        wall = time.time_ns()
        after = time.monotonic_ns()
        width = after - before
        if best_width is None or width < best_width:
            best_width = width
            best_anchor = wall - ((before + after) // 2 - monotonic_ns)
    return best_anchor
