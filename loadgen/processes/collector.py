"""The worker's result sink: every result into histograms, counters and the record file.

One call per request, so everything is inline and allocation-free except the record bytes.
Warm-up requests are written to the records (flagged) and left out of the statistics.
"""

from loadgen.engine.errors import ErrorKind, error_class
from loadgen.engine.interface import Captured
from loadgen.metrics.histogram import FastHistogram
from loadgen.record.format import FLAG_NEW_CONNECTION, FLAG_WARMUP
from loadgen.record.writer import RecordWriter

_HTTP = int(ErrorKind.HTTP)
_DROPPED = int(ErrorKind.DROPPED)
_HTTP_KEY_BASE = 1000
_NEVER = 2**63 - 1


class ResultCollector:
    """Counts, times and records the results of one worker process."""

    def __init__(self, open_loop: bool) -> None:
        self.open_loop = open_loop
        self.requests = 0
        self.ok = 0
        self.warmup = 0
        self.dropped = 0
        self.completed = 0
        self.first_intended_ns = _NEVER
        self.last_end_ns = 0
        self.first_send_ns = _NEVER
        self.last_send_ns = 0
        self.earliest_intended_ns = _NEVER
        self.earliest_send_ns = _NEVER
        self.latency = FastHistogram()
        self.service = FastHistogram()
        self.sched_lag = FastHistogram()
        self.latency_sum_ns = 0
        self.latency_max_ns = 0
        self.service_sum_ns = 0
        self.service_max_ns = 0
        self.sched_lag_max_ns = 0
        self._errors: dict[int, int] = {}
        self._warm_until = 0
        self._writer: RecordWriter | None = None

    def begin(self, warm_until_ns: int, writer: RecordWriter | None) -> None:
        """Set when the warm-up ends and where records go; called once, before any result."""
        self._warm_until = warm_until_ns
        self._writer = writer

    @property
    def errors(self) -> dict[str, int]:
        named: dict[str, int] = {}
        for key, count in sorted(self._errors.items()):
            if key >= _HTTP_KEY_BASE:
                name = error_class(_HTTP, key - _HTTP_KEY_BASE)
            else:
                name = error_class(key, 0)
            assert name is not None
            named[name] = count
        return named

    @property
    def error_count(self) -> int:
        return sum(self._errors.values())

    def on_result(
        self,
        intended_ns: int,
        send_ns: int,
        end_ns: int,
        status: int,
        nbytes: int,
        error: int,
        new_connection: bool,
        captured: Captured,
        meta: bytes | None,
    ) -> None:
        self.completed += 1
        if intended_ns < self.earliest_intended_ns:
            self.earliest_intended_ns = intended_ns
            self.earliest_send_ns = send_ns
        warm = intended_ns < self._warm_until
        writer = self._writer
        if writer is not None:
            flags = FLAG_WARMUP if warm else 0
            if new_connection:
                flags |= FLAG_NEW_CONNECTION
            writer.append(
                intended_ns, send_ns, end_ns, status, nbytes, error, flags, captured, meta
            )
        if warm:
            self.warmup += 1
            return
        self.requests += 1
        if intended_ns < self.first_intended_ns:
            self.first_intended_ns = intended_ns
        if end_ns > self.last_end_ns:
            self.last_end_ns = end_ns
        if send_ns < self.first_send_ns:
            self.first_send_ns = send_ns
        if send_ns > self.last_send_ns:
            self.last_send_ns = send_ns
        if self.open_loop:
            lag = send_ns - intended_ns
            self.sched_lag.record(lag // 1000)
            if lag > self.sched_lag_max_ns:
                self.sched_lag_max_ns = lag
        if error:
            key = _HTTP_KEY_BASE + status if error == _HTTP else error
            errors = self._errors
            errors[key] = errors.get(key, 0) + 1
            return
        self.ok += 1
        service = end_ns - send_ns
        self.service.record(service // 1000)
        self.service_sum_ns += service
        if service > self.service_max_ns:
            self.service_max_ns = service
        if self.open_loop:
            latency = end_ns - intended_ns
            self.latency.record(latency // 1000)
            self.latency_sum_ns += latency
            if latency > self.latency_max_ns:
                self.latency_max_ns = latency

    def on_drop(self, intended_ns: int, at_ns: int) -> None:
        self.completed += 1
        warm = intended_ns < self._warm_until
        writer = self._writer
        if writer is not None:
            writer.append(
                intended_ns, at_ns, at_ns, 0, 0, _DROPPED, FLAG_WARMUP if warm else 0, None, None
            )
        if warm:
            self.warmup += 1
        else:
            self.dropped += 1
