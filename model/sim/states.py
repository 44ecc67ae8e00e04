"""glibc's vgetrandom state allocator and the folios that hold the states.

Follows sysdeps/unix/sysv/linux/getrandom.c (glibc 2.41, 461cab1de747):
states never cross a page; freed states go on a free list that is used
last-in, first-out; state pages are never unmapped; a fork child's other
threads' states go back on the list.  The layout is the scenario's:
state.state_bytes apart (144 by default, 28 to a 4 KiB folio; glibc 2.41
spaces them by the cache line, 192 B on x86_64) in blocks of
ALIGN_PAGE(nprocs * state_bytes), as docs/sources.md says.
"""
from __future__ import annotations

import math

from .folio import Folio


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


class StateFolio(Folio):
    """One page of a process's state mapping, `nr_slots` states on it.

    `rate_per_s` is the sum of the call rates of the threads whose states sit
    here.
    """
    __slots__ = ("slots",)

    def __init__(self, process, placement, first_index: int, nr_slots: int,
                 zeroed: str = "first"):
        super().__init__(process, placement)
        self.slots = [StateSlot(self, first_index + i, zeroed) for i in range(nr_slots)]

    def in_use(self):
        return [s for s in self.slots if s.thread is not None]

    def keyed_in_use(self) -> int:
        """States here that hold key material for a live thread."""
        return sum(1 for s in self.slots if s.thread is not None and s.zeroed is None)

    def _touched(self, dt: float, rng) -> bool:
        """Calls are a Poisson stream of rate `rate_per_s`, so the page stayed
        untouched over dt with probability exp(-rate * dt)."""
        return rng.random() >= math.exp(-self.rate_per_s * dt)


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
        # (first folio, placement, zeroed) of each run of folios mapped alike
        self._blocks: list[tuple] = []
        self.free: list[int] = []

    @property
    def folios(self) -> list[StateFolio]:
        """The folios that exist: ever touched, or mapped by this process."""
        return list(self._folios.values())

    def folio(self, n: int) -> StateFolio:
        folio = self._folios.get(n)
        if folio is None:
            first, placement, zeroed = next(b for b in reversed(self._blocks) if b[0] <= n)
            folio = StateFolio(self.process, placement, n * self.per_folio, self.per_folio,
                               zeroed)
            self._folios[n] = folio
        return folio

    def grow(self, placement) -> list[StateFolio]:
        """mmap() one more block; its states go on the free list in address order."""
        first = self.nr_folios
        self._blocks.append((first, placement, "first"))
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

    def clone_for_child(self, child, placement, keep: StateSlot | None):
        """The child's pool after fork(): same layout, every state wiped.

        glibc's fork handler puts the other threads' states back on the free
        list; the forking thread keeps its own (`keep`), now zero.
        """
        clone = StateAllocator.__new__(StateAllocator)
        clone.process, clone.per_folio = child, self.per_folio
        clone.block_pages, clone.nr_folios = self.block_pages, self.nr_folios
        clone._folios = {}
        clone._blocks = [(0, placement, "fork")]
        in_use = [s.index for f in self._folios.values() for s in f.slots
                  if s.thread is not None and s is not keep]
        clone.free = self.free + in_use
        kept = None
        if keep is not None:
            kept = clone.folio(keep.index // self.per_folio).slots[keep.index % self.per_folio]
        return clone, kept

