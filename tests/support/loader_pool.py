"""Losing a loader of a local pool mid-run, as a machine that dies."""

import os
import signal
import threading
import time

from loadgen.loaders.pool import LoaderPool

RUN_KEYS = ["loadgen"]


def wait_for_loaders(pool: LoaderPool, count: int) -> list[str]:
    """The pool's loaders once `count` are running (a killed worker is restarted by its nanny)."""
    pool.client.wait_for_workers(count, timeout=60)
    return pool.loaders()


class LoaderKiller:
    """Kills the worker process of `address` (SIGKILL, as a machine that dies) once the loader
    named `name` has completed `after` requests in a run that started after this was made."""

    def __init__(self, pool: LoaderPool, address: str, name: str, after: int) -> None:
        self.pool = pool
        self.pid = int(pool.client.run(os.getpid, workers=[address])[address])
        self.name = name
        self.after = after
        self.earlier = set(self._runs())
        self.killed = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _runs(self) -> dict[str, object]:
        runs = self.pool.client.get_metadata(RUN_KEYS, default=None)
        return runs if isinstance(runs, dict) else {}

    def _completed(self) -> int:
        for key, run in self._runs().items():
            if key in self.earlier or not isinstance(run, dict):
                continue
            message = run.get("progress", {}).get(self.name)
            if isinstance(message, dict):
                return int(message["progress"][1])
        return 0

    def _watch(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self._completed() >= self.after:
                os.kill(self.pid, signal.SIGKILL)
                self.killed.set()
                return
            time.sleep(0.05)
