"""The designs for the vDSO getrandom() state, as data behind one interface.

Each design answers the same few questions: where do state folios live
(their Placement), are they charged to RLIMIT_MEMLOCK, are they populated
at mmap() time, and what becomes of them in a fork child.  The simulation
asks those questions and never the design's name, so no behaviour is
written twice.  It also carries what the figures and the report need (a
label, a colour, a group of designs compared together); the order of
DESIGNS is the order of every table and legend.  A new design is one entry
here.  The designs and the kernel facts behind them: docs/sources.md.
"""
from __future__ import annotations

from dataclasses import dataclass

from .placement import ANON, DROPPABLE, DROPPABLE_COUNTED, UNEVICTABLE, Placement

# Upstream: what the alternatives are compared with.
BASELINE = "droppable"
# A name heads a column of the report's comparison tables (model.report).
NAME_MAX = 18


@dataclass(frozen=True)
class Design:
    name: str
    # False: every call is the getrandom() syscall and there is no state at
    # all (the harness region of such a design is plain anonymous memory).
    uses_vdso: bool
    # For the figures and the report: a legend label, a colour, and the
    # group it is compared in, beside the baseline.
    label: str
    colour: str
    group: str
    placement: Placement = ANON
    charged_to_memlock: bool = False
    # mlock() faults the whole new block in; the others fault on first touch.
    populate_on_map: bool = False
    # In a fork child: the placement of the (wiped) state folios and their charging.
    child_placement: Placement = ANON
    child_charged_to_memlock: bool = False
    # Every design here wipes on fork and is excluded from core dumps:
    # MAP_DROPPABLE implies both, the others madvise() them.  Kept as data so
    # the Q4 metrics are computed, not asserted.
    wipe_on_fork: bool = True
    dontdump: bool = True
    summary: str = ""

    def __post_init__(self):
        if not 0 < len(self.name) <= NAME_MAX:
            raise ValueError(f"Design name(={self.name!r}) must be 1 to {NAME_MAX} characters")


DESIGNS = {d.name: d for d in (
    Design("syscall", uses_vdso=False, label="syscall (no state)", colour="#7f7f7f",
           group="no kernel change",
           summary="no state: every call is the getrandom() syscall"),
    Design("droppable", uses_vdso=True, label="droppable (upstream)", colour="#1f77b4",
           group="upstream", placement=DROPPABLE, child_placement=DROPPABLE,
           summary="upstream MAP_DROPPABLE: reclaim drops state, the vDSO reseeds"),
    Design("mlock", uses_vdso=True, label="mlock (userspace)", colour="#d62728",
           group="no kernel change", placement=UNEVICTABLE, charged_to_memlock=True,
           populate_on_map=True, child_placement=ANON,
           summary="userspace mlock(): RLIMIT_MEMLOCK, lost in a fork child"),
    Design("mlock-inherit", uses_vdso=True, label="mlock-inherit (patch)", colour="#ff7f0e",
           group="Ingo's proposals", placement=UNEVICTABLE, charged_to_memlock=True,
           populate_on_map=True, child_placement=UNEVICTABLE, child_charged_to_memlock=True,
           summary="Ingo: mlock made usable, the lock kept over fork (patch)"),
    Design("exempt", uses_vdso=True, label="exempt (patch)", colour="#2ca02c",
           group="Ingo's proposals", placement=UNEVICTABLE, child_placement=UNEVICTABLE,
           summary="Ingo: permanent vDSO pages outside rlimits (patch)"),
    Design("droppable-fixed", uses_vdso=True, label="droppable-fixed (patch)",
           colour="#17becf", group="the accounting fix", placement=DROPPABLE_COUNTED,
           child_placement=DROPPABLE_COUNTED,
           summary="MAP_DROPPABLE with reclaim counting dropped folios (patch)"),
)}


def get(name: str) -> Design:
    try:
        return DESIGNS[name]
    except KeyError:
        raise ValueError(f"unknown design '{name}' "
                         f"(known: {', '.join(DESIGNS)})") from None


def groups() -> dict[str, list[str]]:
    """{group: its designs} in the order of DESIGNS, the baseline's left out."""
    out: dict[str, list[str]] = {}
    for d in DESIGNS.values():
        if d.name != BASELINE:
            out.setdefault(d.group, []).append(d.name)
    return out
