"""glibc's vgetrandom state allocator and the folios that hold the states.

Follows sysdeps/unix/sysv/linux/getrandom.c (glibc 2.41): states are 144
bytes and never cross a page, so 28 share a 4 KiB folio; the pool grows by
ALIGN_PAGE(nprocs * state_size) bytes at a time; freed states go on a free
list that is used last-in, first-out; state pages are never unmapped.
"""
from __future__ import annotations

import math

from .designs import ANON, DROPPABLE, UNEVICTABLE


class StateSlot:
    """One struct vgetrandom_state; `index` is its place in the mapping.

    `zeroed` says why its bytes are zero ("first": never seeded, "drop":
    reclaim discarded the folio, "fork": wiped in a fork child), or is None
    while it holds a key.  The vDSO must reseed a zeroed state before use.
    """
    __slots__ = ("folio", "index", "thread", "zeroed")

    def __init__(self, folio, index: int, zeroed: str):
        self.folio = folio
        self.index = index
        self.thread = None
        self.zeroed = zeroed


class StateFolio:
    """One page of a process's state mapping.

    `rate_per_s` is the sum of the call rates of the threads whose states sit
    here: it decides how likely the page's young bit is set when reclaim looks.
    """
    __slots__ = ("process", "kind", "slots", "resident", "swapped", "lru",
                 "pg_referenced", "young_t", "young_forced", "rate_per_s",
                 "refault_pending")

    def __init__(self, process, kind: str, first_index: int, nr_slots: int,
                 zeroed: str = "first"):
        self.process = process
        self.kind = kind            # designs.DROPPABLE / UNEVICTABLE / ANON
        self.slots = [StateSlot(self, first_index + i, zeroed) for i in range(nr_slots)]
        self.resident = False
        self.swapped = False
        self.lru = None
        self.pg_referenced = False
        self.young_t = 0.0
        self.young_forced = False
        self.rate_per_s = 0.0
        self.refault_pending = False

    @property
    def pages(self) -> int:
        return 1

    def in_use(self):
        return [s for s in self.slots if s.thread is not None]

    def keyed_in_use(self) -> int:
        """States here that hold key material for a live thread."""
        return sum(1 for s in self.slots if s.thread is not None and s.zeroed is None)

    def mark_young(self, now: float) -> None:
        """The faulting access sets the PTE young bit."""
        self.young_forced, self.young_t = True, now

    def clear_young(self, now: float) -> None:
        self.young_forced, self.young_t = False, now

    def test_and_clear_young(self, now: float, rng) -> bool:
        """folio_referenced(): was any state here used since the bit was cleared?

        Calls are a Poisson stream of rate `rate_per_s`, so the page stayed
        untouched over dt with probability exp(-rate * dt).
        """
        forced, dt = self.young_forced, now - self.young_t
        self.clear_young(now)
        if forced:
            return True
        if self.rate_per_s <= 0.0 or dt <= 0.0:
            return False
        return rng.random() >= math.exp(-self.rate_per_s * dt)

    def reclaimed(self, now: float) -> None:
        self.process.folio_reclaimed(self, now)


class StateAllocator:
    """A process's pool of states: blocks of folios and a LIFO free list.

    The free list holds state indices; folios are built when first needed,
    so a fork child that inherits a large mapping but touches two states
    costs two states' worth of work, as in the kernel.
    """

    def __init__(self, process, state_bytes: int, page_bytes: int, nprocs: int):
        self.process = process
        self.per_folio = page_bytes // state_bytes
        self.block_pages = math.ceil(nprocs * state_bytes / page_bytes)
        self.nr_folios = 0
        self._folios: dict[int, StateFolio] = {}
        self._kinds: list[tuple[int, str, str]] = []   # (first folio, kind, zeroed)
        self.free: list[int] = []

    @property
    def folios(self) -> list[StateFolio]:
        """The folios that exist: ever touched, or mapped by this process."""
        return list(self._folios.values())

    def folio(self, n: int) -> StateFolio:
        folio = self._folios.get(n)
        if folio is None:
            first, kind, zeroed = next(k for k in reversed(self._kinds) if k[0] <= n)
            folio = StateFolio(self.process, kind, n * self.per_folio, self.per_folio, zeroed)
            self._folios[n] = folio
        return folio

    def grow(self, kind: str) -> list[StateFolio]:
        """mmap() one more block; its states go on the free list in address order."""
        first = self.nr_folios
        self._kinds.append((first, kind, "first"))
        self.nr_folios += self.block_pages
        block = [self.folio(n) for n in range(first, self.nr_folios)]
        self.free.extend(range(first * self.per_folio, self.nr_folios * self.per_folio))
        return block

    def take(self) -> StateSlot | None:
        if not self.free:
            return None
        index = self.free.pop()
        return self.folio(index // self.per_folio).slots[index % self.per_folio]

    def give_back(self, slot: StateSlot) -> None:
        slot.thread = None
        self.free.append(slot.index)

    def clone_for_child(self, child, kind: str, keep: StateSlot | None):
        """The child's pool after fork(): same layout, every state wiped.

        glibc's fork handler puts the other threads' states back on the free
        list; the forking thread keeps its own (`keep`), now zero.
        """
        clone = StateAllocator.__new__(StateAllocator)
        clone.process, clone.per_folio = child, self.per_folio
        clone.block_pages, clone.nr_folios = self.block_pages, self.nr_folios
        clone._folios = {}
        clone._kinds = [(0, kind, "fork")]
        in_use = [s.index for f in self._folios.values() for s in f.slots
                  if s.thread is not None and s is not keep]
        clone.free = self.free + in_use
        kept = None
        if keep is not None:
            kept = clone.folio(keep.index // self.per_folio).slots[keep.index % self.per_folio]
        return clone, kept


__all__ = ["StateSlot", "StateFolio", "StateAllocator", "ANON", "DROPPABLE", "UNEVICTABLE"]
