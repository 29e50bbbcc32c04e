"""Each loader's clock offset to the driver, from repeated round trips.

The driver reads its clock, asks the loader for its own, and reads its clock again. Whatever
the two legs took, the loader's reading was made between the two driver readings, so the
offset (loader clock − driver clock) lies within ±RTT/2 of the loader's reading minus their
midpoint. Of several samples the one with the smallest round trip is kept: its bracket is the
tightest. The clocks compared are CLOCK_MONOTONIC (`loadgen.engine.clock`), the clock every
timestamp of a run comes from; they need no synchronisation, only the measured offset.
"""

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from loadgen.engine.clock import now_ns

if TYPE_CHECKING:
    from distributed import Client

CLOCK_SAMPLES = 16


class ClockOffset(BaseModel):
    """A loader's clock minus the driver's, and how far off that may be."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    offset_ns: int
    uncertainty_ns: int = Field(ge=0)
    """Half the round trip of the sample kept: the true offset is within ± this."""
    rtt_ns: int = Field(ge=0)
    samples: int = Field(ge=1)

    def to_loader(self, driver_ns: int) -> int:
        """A driver instant in the loader's clock."""
        return driver_ns + self.offset_ns

    def to_driver(self, loader_ns: int) -> int:
        """A loader instant in the driver's clock."""
        return loader_ns - self.offset_ns


def loader_clock() -> int:
    """Run on a loader: its clock now."""
    return now_ns()


def best_sample(samples: list[tuple[int, int, int]]) -> ClockOffset:
    """The offset from (driver before, loader reading, driver after) samples: the one with the
    smallest round trip."""
    if not samples:
        raise ValueError("no clock samples")
    before, remote, after = min(samples, key=lambda sample: sample[2] - sample[0])
    rtt = after - before
    return ClockOffset(
        offset_ns=remote - (before + after) // 2,
        uncertainty_ns=(rtt + 1) // 2,
        rtt_ns=rtt,
        samples=len(samples),
    )


def measure_offset(client: "Client", address: str, samples: int = CLOCK_SAMPLES) -> ClockOffset:
    """The clock offset of the loader at `address` (a Dask worker) to this process."""
    readings: list[tuple[int, int, int]] = []
    for _ in range(samples):
        before = now_ns()
        remote = client.run(loader_clock, workers=[address])[address]
        after = now_ns()
        readings.append((before, int(remote), after))
    return best_sample(readings)
