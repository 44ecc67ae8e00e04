"""Where a page sits, which decides what reclaim may do to it.

A Placement answers, for the pages of one kind of memory: which pool of a
reclaim domain they are charged to, which LRU list they sit on, what
shrink_folio_list() does with one it takes (write it to swap, drop it, or
never take it), and whether a dropped page counts toward reclaim's target
(nr_reclaimed).  The LRU, the domain, the processes and the harness region
ask these questions and never a placement's name, so a new kind of memory
is one entry here.
"""
from __future__ import annotations

from dataclasses import dataclass

# The evictable LRU list types of mm/vmscan.c (enum lru_list): the anon
# lists hold swap-backed folios, the file lists the rest.
ANON_LRU, FILE_LRU = "anon", "file"

# What reclaim does with a folio of this placement that it takes.
SWAP = "swap"    # add_to_swap() and pageout(): it reads back from swap
DROP = "drop"    # freed without writeback: page cache is read again, a
                 # droppable folio reads back as zeros
SKIP = "skip"    # on no evictable list (unevictable): reclaim never sees it

# Pages charged outside every placement: page tables, the kernel and
# whatever the model does not track, never reclaimed.
RESERVED = "reserved"


@dataclass(frozen=True)
class Placement:
    name: str
    # The domain pool it is charged to (memory.Domain.pools).
    pool: str
    # ANON_LRU, FILE_LRU, or None for memory reclaim never sees.
    lru: str | None
    # SWAP, DROP or SKIP.
    reclaim: str
    # A dropped folio counts toward nr_reclaimed.  A droppable folio in
    # 6.12 does not (see lru.Lruvec._scan_folio).
    counted: bool = True
    # The kind of mapping its pages are faulted into: Costs.fault_ns[mapping]
    # is one first touch (data/host/fault.csv).  Default: the name.
    mapping: str = ""

    def __post_init__(self):
        if self.reclaim not in (SWAP, DROP, SKIP):
            raise ValueError(f"Placement {self.name}: reclaim(={self.reclaim!r}) must be "
                             f"one of {SWAP}, {DROP}, {SKIP}")
        if (self.lru is None) != (self.reclaim == SKIP):
            raise ValueError(f"Placement {self.name}: lru(={self.lru!r}) must be None "
                             f"exactly when reclaim skips it")
        if not self.counted and self.reclaim != DROP:
            raise ValueError(f"Placement {self.name}: only a dropped folio can go uncounted")
        if not self.mapping:
            object.__setattr__(self, "mapping", self.name)


# Private anonymous memory: a heap, or state pages with plain mmap().
ANON = Placement("anon", pool="anon", lru=ANON_LRU, reclaim=SWAP)
# Clean page cache: dropped, counted, read again when touched.
PAGE_CACHE = Placement("file", pool="file", lru=FILE_LRU, reclaim=DROP)
# MAP_DROPPABLE as merged (mm: add MAP_DROPPABLE, 9651fcedf7b9): never
# swap-backed, so on the file LRU; try_to_unmap_one() discards a folio even
# when dirty, and shrink_folio_list() then neither counts nor frees it
# there (it is freed by the last folio_put()): not counted.
DROPPABLE = Placement("droppable", pool="droppable", lru=FILE_LRU, reclaim=DROP,
                      counted=False)
# The same mapping on a kernel whose reclaim counts a discarded droppable
# folio as reclaimed: the study's fix, so reclaim stops at its target.
DROPPABLE_COUNTED = Placement("droppable-counted", pool="droppable", lru=FILE_LRU,
                              reclaim=DROP, mapping="droppable")
# mlock()ed or otherwise unevictable: on the unevictable list, never reclaimed.
UNEVICTABLE = Placement("unevictable", pool="unevictable", lru=None, reclaim=SKIP)

PLACEMENTS = (ANON, PAGE_CACHE, DROPPABLE, DROPPABLE_COUNTED, UNEVICTABLE)
# The domain's pools, in the order the probes report them.
POOLS = (RESERVED, *dict.fromkeys(p.pool for p in PLACEMENTS))
