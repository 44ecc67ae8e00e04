"""glibc's vgetrandom state allocator and the folios that hold the states.

Follows sysdeps/unix/sysv/linux/getrandom.c (glibc 2.41, 461cab1de747):
each state is rounded up to the L1 data cache line (192 B apart on x86_64,
21 to a 4 KiB page), one page is mapped at a time
(vgetrandom_get_state_alloc()), and its states are handed out from the end
of the free list (`states[--len]`, last in, first out); state pages are
never unmapped; a fork child's other threads' states go back on the list.
state.cache_line_bytes = 1 packs them (the harness: 28 to a page), and
state.pages_per_map maps more at a time (the selftest's allocator).
`harness_layout()` gives the harness's own layouts for validation.
"""
from __future__ import annotations

import math
from array import array
from operator import mul

import numpy as np

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
    here, `rates` those rates with their numbers of threads (periodic calls
    touch the page at each rate's deadlines).
    """
    __slots__ = ("slots", "rates", "_rate", "_adds")

    def __init__(self, process, placement, first_index: int, nr_slots: int,
                 zeroed: str = "first"):
        super().__init__(process, placement)
        self.slots = [StateSlot(self, first_index + i, zeroed) for i in range(nr_slots)]
        # {rate: threads}, in the order the rates came (a dict, not a
        # Counter: Counter.__missing__ is a Python call at every new rate).
        self.rates: dict[float, int] = {}

    # rate_per_s is added to as callers come, and summed again from `rates`
    # when one leaves (no rounding residue on an idle page).  Callers come
    # and go at every thread's start and exit, and reclaim asks for the sum
    # far less often: the sum is done when asked, as it would have been at
    # the last leaving, with the rates that came since added in turn.
    # `_adds` is None while `_rate` is the sum, else those rates.

    @property
    def rate_per_s(self) -> float:
        if self._adds is not None:
            self._sum_rates()
        return self._rate

    @rate_per_s.setter
    def rate_per_s(self, value: float) -> None:
        self._rate, self._adds = value, None

    def add_caller(self, rate_per_s: float) -> None:
        if self._adds is None:
            self._rate += rate_per_s
        else:
            self._adds.append(rate_per_s)
        rates = self.rates
        rates[rate_per_s] = rates.get(rate_per_s, 0) + 1

    def remove_caller(self, rate_per_s: float) -> None:
        rates = self.rates
        left = rates[rate_per_s] - 1
        if left:
            rates[rate_per_s] = left
        else:
            del rates[rate_per_s]
        self._adds = []

    def _sum_rates(self) -> None:
        """rate_per_s as remove_caller() and add_caller() would have left it:
        `rates` summed as they were at the last leaving (less the threads
        that came since: a rate new since then is at the dict's end), then
        the rates that came since added one by one."""
        adds, rates = self._adds, self.rates
        if adds:
            came: dict[float, int] = {}
            for rate in adds:
                came[rate] = came.get(rate, 0) + 1
            total = 0
            for rate, n in rates.items():
                n -= came.get(rate, 0)
                if n:
                    total += rate * n
            for rate in adds:
                total += rate
        else:
            total = sum(map(mul, rates.keys(), rates.values()))
        self._rate, self._adds = total, None

    def in_use(self):
        return [s for s in self.slots if s.thread is not None]

    def keyed_in_use(self) -> int:
        """States here that hold key material for a live thread."""
        return sum(1 for s in self.slots if s.thread is not None and s.zeroed is None)

    def _touched(self, since: float, now: float, rng) -> bool:
        """A call by any of its threads in (since, now]: the call pattern says."""
        return self.owner.sim.calls.touched(self, since, now, rng)


def spacing_bytes(state) -> int:
    """How far apart glibc puts states: the size rounded up to the cache line."""
    line = state.cache_line_bytes
    return math.ceil(state.state_bytes / line) * line


class StateAllocator:
    """A process's pool of states: blocks of folios and a LIFO free list.

    The free list holds state indices; folios are built when first needed,
    so a fork child that inherits a large mapping but touches two states
    costs two states' worth of work, as in the kernel.
    """

    def __init__(self, process, state, page_bytes: int):
        self.process = process
        self.per_folio = page_bytes // spacing_bytes(state)
        self.block_pages = state.pages_per_map
        self.nr_folios = 0
        self._folios: dict[int, StateFolio] = {}
        # (first folio, placement, zeroed) of each run of folios mapped alike
        self._blocks: list[tuple] = []
        # State indices as C longs: numpy reads them in place and a fork
        # copies them whole, where a list of ints took a Python int made for
        # each of a pool's 10,000 states at every fork.
        self.free = array("q")

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

    def take(self, index: int | None = None) -> StateSlot | None:
        """The next free state (glibc's `states[--len]`), or the one at `index`."""
        if not self.free:
            return None
        if index is None:
            index = self.free.pop()
        else:
            self.free.remove(index)
        n, i = divmod(index, self.per_folio)
        folio = self._folios.get(n)         # folio()'s lookup, less a call
        if folio is None:
            folio = self.folio(n)
        return folio.slots[i]

    def give_back(self, slot: StateSlot) -> None:
        slot.thread = None
        self.free.append(slot.index)

    def _held_indices(self, keep: StateSlot | None) -> array:
        """Indices of the states threads hold, but `keep`'s, in address order.

        A pool that only grow() built (a process's own, never a fork
        child's, whose folios appear as touched) has all its folios, made in
        address order, and each state is either on the free list or held: the
        held ones are the complement of the free list.  That takes a mask, not
        a walk over every slot, which cost a few percent of a run with
        10,000 threads a process at every fork.
        """
        if (not self._blocks or self._blocks[0][2] != "first"
                or len(self._folios) != self.nr_folios):
            return array("q", [s.index for f in self._folios.values() for s in f.slots
                               if s.thread is not None and s is not keep])
        held = np.ones(self.nr_folios * self.per_folio, dtype=bool)
        held[np.frombuffer(self.free, dtype=np.int64)] = False
        if keep is not None:
            held[keep.index] = False
        return array("q", np.flatnonzero(held).astype(np.int64, copy=False).tobytes())

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
        clone.free = self.free + self._held_indices(keep)
        kept = None
        if keep is not None:
            kept = clone.folio(keep.index // self.per_folio).slots[keep.index % self.per_folio]
        return clone, kept


def harness_layout(counts: list[int], per_folio: int, in_use_per_folio: int,
                   interleaved: bool) -> list[tuple[int, int]]:
    """(class, state index) for each thread, as vgetrandom-harness states
    places them (states_layout() there): `counts[c]` threads of class c,
    `in_use_per_folio` of a page's `per_folio` states used (0: all);
    grouped, each class starts on a fresh page; interleaved, the classes
    are dealt out in turn."""
    per = in_use_per_folio or per_folio
    if per > per_folio:
        raise ValueError(f"{per} states in use per page: a page holds {per_folio}")
    if interleaved:
        left, order = list(counts), []
        while any(left):
            for c, n in enumerate(left):
                if n:
                    order.append(c)
                    left[c] -= 1
    else:
        order = [c for c, n in enumerate(counts) for _ in range(n)]
    placed, page, slot = [], 0, 0
    for i, c in enumerate(order):
        if not interleaved and i and order[i - 1] != c and slot:
            page, slot = page + 1, 0
        placed.append((c, page * per_folio + slot))
        slot += 1
        if slot == per:
            page, slot = page + 1, 0
    return placed
