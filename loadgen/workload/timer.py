"""Waking the event loop at an exact CLOCK_MONOTONIC instant.

Event-loop timers have millisecond granularity (uvloop's clock ticks in ms; epoll timeouts
are ms), which would add up to a millisecond of scheduling lag to every open-loop send. On
Linux a timerfd armed with an absolute CLOCK_MONOTONIC deadline becomes readable within tens
of microseconds of it, and the loop wakes for it like for any socket, with no busy waiting.
Elsewhere the timer sleeps to a couple of milliseconds before the deadline and then yields to
the loop until it passes.
"""

import asyncio
import ctypes
import ctypes.util
import os
import sys
from collections.abc import Callable
from typing import Protocol

from loadgen.engine.clock import now_ns

_CLOCK_MONOTONIC = 1
_TFD_NONBLOCK = os.O_NONBLOCK
_TFD_CLOEXEC = os.O_CLOEXEC
_TFD_TIMER_ABSTIME = 1
_SPIN_MARGIN_S = 0.002


class _Timespec(ctypes.Structure):
    _fields_ = (("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long))


class _Itimerspec(ctypes.Structure):
    _fields_ = (("it_interval", _Timespec), ("it_value", _Timespec))


class DeadlineTimer(Protocol):
    def arm(self, at_ns: int) -> None:
        """Call the callback once, as soon as CLOCK_MONOTONIC reaches `at_ns`."""

    def close(self) -> None: ...


class TimerfdTimer:
    """A one-shot timer on a Linux timerfd, re-armed for each deadline."""

    def __init__(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
        libc = _libc()
        fd = libc.timerfd_create(_CLOCK_MONOTONIC, _TFD_NONBLOCK | _TFD_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        self._settime = libc.timerfd_settime
        self._fd = fd
        self._loop = loop
        self._callback = callback
        self._spec = _Itimerspec()
        self._spec_ref = ctypes.byref(self._spec)
        loop.add_reader(fd, self._on_readable)

    def arm(self, at_ns: int) -> None:
        value = self._spec.it_value
        value.tv_sec, value.tv_nsec = divmod(max(at_ns, 1), 1_000_000_000)
        if self._settime(self._fd, _TFD_TIMER_ABSTIME, self._spec_ref, None) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))

    def _on_readable(self) -> None:
        try:
            os.read(self._fd, 8)
        except BlockingIOError:
            return
        self._callback()

    def close(self) -> None:
        if self._fd >= 0:
            self._loop.remove_reader(self._fd)
            os.close(self._fd)
            self._fd = -1


class YieldingTimer:
    """Portable fallback: sleep to shortly before the deadline, then yield until it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
        self._loop = loop
        self._callback = callback
        self._at_ns = 0
        self._handle: asyncio.Handle | None = None

    def arm(self, at_ns: int) -> None:
        self._at_ns = at_ns
        if self._handle is not None:
            self._handle.cancel()
        delay_s = (at_ns - now_ns()) / 1e9 - _SPIN_MARGIN_S
        if delay_s > 0:
            self._handle = self._loop.call_later(delay_s, self._spin)
        else:
            self._handle = self._loop.call_soon(self._spin)

    def _spin(self) -> None:
        if now_ns() >= self._at_ns:
            self._handle = None
            self._callback()
        else:
            self._handle = self._loop.call_soon(self._spin)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


async def sleep_until(at_ns: int) -> None:
    """Return no earlier than CLOCK_MONOTONIC `at_ns` (the loop's own sleep may wake early)."""
    remaining_s = (at_ns - now_ns()) / 1e9 - _SPIN_MARGIN_S
    if remaining_s > 0:
        await asyncio.sleep(remaining_s)
    while now_ns() < at_ns:
        await asyncio.sleep(0)


def _libc() -> ctypes.CDLL:
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True)


def make_timer(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> DeadlineTimer:
    """The most precise timer this platform offers."""
    if sys.platform.startswith("linux"):
        try:
            return TimerfdTimer(loop, callback)
        except (OSError, AttributeError):
            pass
    return YieldingTimer(loop, callback)
