"""Open-file limits: each in-flight request holds a socket, and the default soft limit is 1024."""

import resource

FILE_DESCRIPTOR_HEADROOM = 64
"""Descriptors beyond the sockets: the record file, pipes, the timer, the interpreter's own."""


def raise_open_file_limit(needed: int) -> int:
    """Raise RLIMIT_NOFILE to at least `needed` if allowed; returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return soft
    if hard == resource.RLIM_INFINITY or hard >= needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
        return needed
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard
    return needed
