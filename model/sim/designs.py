"""The five designs for the vDSO getrandom() state, as data behind one interface.

Each design answers the same few questions: where do state folios live on the
LRU, are they charged to RLIMIT_MEMLOCK, are they populated at mmap() time,
and what becomes of them in a fork child.  The simulation asks those questions
and never the design's name, so no behaviour is written twice.

The table is the one in ../shared/DESIGN.md.
"""
from __future__ import annotations

from dataclasses import dataclass

# Where a state folio sits, which decides what reclaim may do to it.
DROPPABLE = "droppable"      # file LRU, never swap-backed: discarded, reads back zero
UNEVICTABLE = "unevictable"  # unevictable LRU: reclaim never touches it
ANON = "anon"                # anon LRU, swap-backed: may be written to swap


@dataclass(frozen=True)
class Design:
    name: str
    # False: every call is the getrandom() syscall and there is no state at all.
    uses_vdso: bool
    lru: str = ANON
    charged_to_memlock: bool = False
    # mlock() faults the whole new block in; the others fault on first touch.
    populate_on_map: bool = False
    # In a fork child: the LRU of the (wiped) state folios and their charging.
    child_lru: str = ANON
    child_charged_to_memlock: bool = False
    # Every design here wipes on fork and is excluded from core dumps:
    # MAP_DROPPABLE implies both, the others madvise() them.  Kept as data so
    # the Q4 metrics are computed, not asserted.
    wipe_on_fork: bool = True
    dontdump: bool = True
    summary: str = ""


DESIGNS = {d.name: d for d in (
    Design("syscall", uses_vdso=False,
           summary="no state: every call is the getrandom() syscall"),
    Design("droppable", uses_vdso=True, lru=DROPPABLE, child_lru=DROPPABLE,
           summary="upstream MAP_DROPPABLE: reclaim drops state, the vDSO reseeds"),
    Design("mlock", uses_vdso=True, lru=UNEVICTABLE, charged_to_memlock=True,
           populate_on_map=True, child_lru=ANON,
           summary="userspace mlock(): RLIMIT_MEMLOCK, lost in a fork child"),
    Design("mlock-inherit", uses_vdso=True, lru=UNEVICTABLE, charged_to_memlock=True,
           populate_on_map=True, child_lru=UNEVICTABLE, child_charged_to_memlock=True,
           summary="Ingo: mlock made usable, the lock kept over fork (patch)"),
    Design("exempt", uses_vdso=True, lru=UNEVICTABLE, child_lru=UNEVICTABLE,
           summary="Ingo: permanent vDSO pages outside rlimits (patch)"),
)}


def get(name: str) -> Design:
    try:
        return DESIGNS[name]
    except KeyError:
        raise ValueError(f"unknown design '{name}' "
                         f"(known: {', '.join(DESIGNS)})") from None
