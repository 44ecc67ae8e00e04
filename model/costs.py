"""CPU costs of getrandom() and of the memory operations around it.

These are measured numbers, never scenario knobs: model.calibration builds a
Costs from data/ and records which rows each number came from.  A Costs made
by hand (a what-if) carries `what_if=True`, and every output says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Linear:
    """ns per call = base_ns + ns_per_byte * request bytes."""
    base_ns: float
    ns_per_byte: float = 0.0

    def __call__(self, nbytes: float) -> float:
        return self.base_ns + self.ns_per_byte * nbytes


@dataclass(frozen=True)
class Costs:
    vdso: Linear
    syscall: Linear
    # A call that finds its state zeroed: one 32-byte getrandom() syscall for
    # a new key plus the batch refill (measured as that call minus a warm one).
    reseed_ns: float
    # First touch of one page, by kind of mapping (designs.DROPPABLE, ...).
    fault_ns: dict
    mlock_ns_per_page: float
    # Where each number came from: file and rows, or a citation.
    sources: dict = field(default_factory=dict)
    what_if: bool = False

    def mean_call_ns(self, vdso: bool, request_bytes) -> float:
        """Mean cost of one call over the scenario's request-size mix."""
        model = self.vdso if vdso else self.syscall
        total = sum(w for _, w in request_bytes)
        return sum(model(size) * w for size, w in request_bytes) / total
