"""CPU costs of getrandom() and of the memory operations around it.

These are measured numbers, never scenario knobs: model.calibration builds a
Costs from data/ and records which rows each number came from.  A Costs with
any number set by hand (a what-if) carries `what_if=True`, its sources say
which, and every output says so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Linear:
    """ns per call = base_ns + ns_per_byte * request bytes."""
    base_ns: float
    ns_per_byte: float = 0.0

    def __call__(self, nbytes: float) -> float:
        return self.base_ns + self.ns_per_byte * nbytes


@dataclass(frozen=True)
class SizeCurve:
    """ns per call measured at a few request sizes, and between them.

    Between two measured sizes the cost follows the power law through both
    (a straight line on log-log axes); below the smallest size it is the
    smallest size's cost, above the largest the last segment goes on.  Used
    instead of one Linear because the measured cost per byte is not constant
    (see model.calibration and `python -m model validate`).
    """
    sizes: tuple
    ns: tuple

    def __post_init__(self):
        if len(self.sizes) < 2 or list(self.sizes) != sorted(set(self.sizes)) \
                or min(self.sizes) <= 0 or min(self.ns) <= 0:
            raise ValueError(f"SizeCurve(sizes={self.sizes}, ns={self.ns}): need two or more "
                             f"increasing positive sizes and positive costs")

    def __call__(self, nbytes: float) -> float:
        sizes, ns = self.sizes, self.ns
        if nbytes <= sizes[0]:
            return ns[0]
        i = next((k for k in range(1, len(sizes)) if nbytes <= sizes[k]), len(sizes) - 1)
        exponent = math.log(ns[i] / ns[i - 1]) / math.log(sizes[i] / sizes[i - 1])
        return ns[i - 1] * (nbytes / sizes[i - 1]) ** exponent


@dataclass(frozen=True)
class GapCurve:
    """ns a call costs more after its thread slept gap_s than back to back.

    Measured at a few gaps (gaps_s, the first 0).  Between two of them the
    extra follows a straight line in log(gap), as the gaps were chosen (1 ms
    to 40 s, a factor of 2 to 20 apart), and in gap itself from 0 to the
    first gap above it; past the longest it stays at the longest's: what a
    call costs after a sleep longer than any measured is not known, and the
    measured costs level off from 100 ms (data/host/idlecall.csv).
    """
    gaps_s: tuple
    extra_ns: tuple

    def __post_init__(self):
        if not self.gaps_s or len(self.gaps_s) != len(self.extra_ns) \
                or list(self.gaps_s) != sorted(set(self.gaps_s)) or self.gaps_s[0] != 0:
            raise ValueError(f"GapCurve(gaps_s={self.gaps_s}): need increasing gaps from 0, "
                             f"one extra each")

    def __call__(self, gap_s):
        gap_s = np.asarray(gap_s, dtype=float)
        gaps, extra = np.asarray(self.gaps_s), np.asarray(self.extra_ns, dtype=float)
        out = np.full(gap_s.shape, extra[-1])
        for i in range(1, len(gaps)):
            lo, hi = gaps[i - 1], gaps[i]
            inside = (gap_s >= lo) & (gap_s < hi)
            if lo == 0:
                along = gap_s[inside] / hi
            else:
                along = np.log(gap_s[inside] / lo) / math.log(hi / lo)
            out[inside] = extra[i - 1] + along * (extra[i] - extra[i - 1])
        return out

    def mean_over(self, pattern: str, rate: float, length_biased: bool = False) -> float:
        """The mean extra of a thread calling at `rate` a second: for
        `periodic`, its one gap 1 / rate; for `poisson`, the expectation
        over its exponential gaps, at evenly spaced quantiles.

        `length_biased`: over the gaps that hold a given instant (the gap a
        drop at a random time falls in), each gap weighted by its length:
        for Poisson calls Gamma(2, rate), twice as long on average."""
        if pattern == "periodic":
            return float(self(1.0 / rate))
        u = (np.arange(_QUANTILES) + 0.5) / _QUANTILES
        gaps = -np.log1p(-u) / rate
        return float(np.average(self(gaps), weights=gaps if length_biased else None))


_QUANTILES = 4096


@dataclass(frozen=True)
class Costs:
    # Per-call cost of one thread calling alone: the model does not model
    # CPUs, so its threads never contend.  The per-CPU fits stay in
    # `call_by_threads` for Q1 and validation.
    vdso: SizeCurve | Linear
    syscall: SizeCurve | Linear
    # A call that finds its state zeroed: one 32-byte getrandom() syscall for
    # a new key plus the batch refill (measured as that call minus a warm one).
    reseed_ns: float
    # First touch of one page, by kind of mapping (Placement.mapping: "anon",
    # "droppable", "unevictable").
    fault_ns: dict
    # The vDSO's first touch of a state page that is not there, by mapping:
    # it reads state->in_use before writing it (lib/vdso/getrandom.c), so
    # the read maps the shared zero page and the write replaces it, two
    # faults (mm/memory.c do_anonymous_page(), do_wp_page()).
    state_fault_ns: dict
    mlock_ns_per_page: float
    # Reclaim: CPU per page scanned by shrink_folio_list(), and what kswapd
    # manages flat out on one CPU.  Used where a scenario leaves
    # machine.scan_ns_per_page / machine.kswapd_pages_per_s at 0 (measured).
    scan_ns_per_page: float = 0.0
    kswapd_pages_per_s: float = 0.0
    # How fast a reclaim call walks the lists (traced: the calls' time over
    # the pages they scanned): its young-bit reads are this far apart per
    # page.  Used where a scenario leaves machine.walk_ns_per_page at 0.
    walk_ns_per_page: float = 0.0
    # How long a newly faulted state folio stays off the LRU, in the CPU's
    # lru_add folio_batch (mm/swap.c folio_add_lru()) until the batch fills
    # or is drained: the measured waits, drawn from at each fault.  Empty:
    # it joins the LRU at once.
    lru_add_wait_s: tuple = ()
    # A call after its thread slept, by kind: "vdso" (its key current),
    # "syscall", "zeroed" (a call that finds its state dropped) and
    # "reseed" (a reseed on key expiry) -> GapCurve, each the extra over the
    # same call back to back.  Empty: every call is charged back to back.
    # These are a lone thread's.  process_after_gap: ((calls_per_s,
    # {"vdso": GapCurve, "syscall": GapCurve}), ...) by rising calls_per_s,
    # the same timed in a process whose other threads made that many calls
    # a second, as idlecall's companions did (after_gap_for()).
    after_gap: dict = field(default_factory=dict)
    process_after_gap: tuple = ()
    # (mode, threads) -> SizeCurve, for every thread count measured.
    call_by_threads: dict = field(default_factory=dict)
    # Where each number came from: file and rows and fit quality, or a what-if.
    sources: dict = field(default_factory=dict)
    what_if: bool = False

    def mean_call_ns(self, vdso: bool, request_bytes) -> float:
        """Mean cost of one call over the scenario's request-size mix."""
        model = self.vdso if vdso else self.syscall
        total = sum(w for _, w in request_bytes)
        return sum(model(size) * w for size, w in request_bytes) / total

    def after_gap_for(self, process_calls_per_s: float) -> dict:
        """after_gap as a thread of a process making process_calls_per_s
        calls a second pays it: the vDSO's and the syscall's curves those of
        the busiest process timed that calls no more often (none: the lone
        thread's), the others (reseed, zeroed: timed alone only) the lone
        thread's.  A step, not an interpolation: between two measured
        processes the model knows only that the price lies between theirs."""
        chosen = {}
        for calls_per_s, curves in self.process_after_gap:
            if calls_per_s <= process_calls_per_s:
                chosen = curves
        return {**self.after_gap, **chosen}

    def what_if_note(self) -> str:
        """One line naming every number that is not measured, for outputs."""
        if not self.what_if:
            return ""
        keys = [k for k, v in self.sources.items() if str(v).startswith("what-if")]
        return "what-if costs, not measured: " + ", ".join(
            f"{k} ({self.sources[k]})" for k in keys)
