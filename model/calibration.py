"""Costs for the model, from data/.

Until data/host/ holds the harness's measurements, the only per-call numbers
we have are the selftest figures quoted in ../shared/FACTS.md for this
machine kind; they are used as a what-if and flagged in every output.
"""
from __future__ import annotations

from .costs import Costs, Linear
from .designs import ANON, DROPPABLE, UNEVICTABLE


def facts_costs() -> Costs:
    """FACTS.md: vdso_test_getrandom bench-single on this machine kind, 4-byte calls."""
    vdso_ns, syscall_ns = (19 + 26) / 2, (453 + 516) / 2
    return Costs(
        vdso=Linear(vdso_ns), syscall=Linear(syscall_ns), reseed_ns=syscall_ns,
        fault_ns={ANON: 0.0, DROPPABLE: 0.0, UNEVICTABLE: 0.0}, mlock_ns_per_page=0.0,
        sources={"vdso": "FACTS.md midpoint of 19-26 ns", "syscall": "FACTS.md 453-516 ns",
                 "reseed_ns": "FACTS.md: one 32-byte syscall", "fault_ns": "not measured",
                 "mlock_ns_per_page": "not measured"},
        what_if=True)


def load_costs() -> Costs:
    return facts_costs()
