"""The two-list LRU of mm/vmscan.c (MGLRU off), per lruvec, for anon and file.

Pages of other memory users are tracked as runs (one owner, a count); the
getrandom state folios are tracked one by one, because whether one is dropped
depends on when its own page was last touched.  Both move through the same
deques, head on the left and tail on the right, so a state folio's fate
depends on what was inserted after it, as in the kernel.

What is modelled from mm/vmscan.c:
  - folio_check_references(): a mapped folio referenced once is kept and
    marked (PG_referenced), referenced again is activated, an unreferenced
    one is reclaimed; a swap-backed one is activated at once, which 6.12
    no longer does (docs/sources.md);
  - shrink_active_list(): the active tail is deactivated (young bits are
    cleared on the way, PG_referenced is left alone);
  - inactive_is_low(): the inactive:active ratio int_sqrt(10 * GiB), of a
    memcg's list sizes as its stats were last flushed (Lruvec.flush_stats());
  - get_scan_count(): without free swap the anon lists are not scanned;
  - a folio whose placement is not counted (a droppable folio) is freed but
    not counted as reclaimed (see Lruvec._scan_folio), as measured in
    data/host/pressure.csv.

From mm/swap.c: a faulted folio joins the LRU through its CPU's lru_add
folio_batch (folio_add_lru()), and until that batch is full or drained
reclaim cannot see it (Lruvec.add_batched, LRU_ADD).

Scanning takes time: the young bits a scan finds depend on how long ago the
previous look was, so a pass reads its clock as `now + scanned * s_per_page`.
"""
from __future__ import annotations

import math
from collections import deque

from .placement import ANON_LRU, FILE_LRU, SWAP

# A folio's `lru` while it waits in a per-CPU lru_add folio_batch: off every
# list, young since its fault, and not yet reclaimable.
LRU_ADD = ("lru_add", False)


class Run:
    """`pages` pages of one owner that share a reference pattern.

    The owner provides `placement`, `hot_fraction` (share referenced between
    two scans), `ref_carry` (a float, so rounding never biases the split)
    and `lru_released(pages)` (reclaim took them).
    """
    __slots__ = ("owner", "pages")

    def __init__(self, owner, pages: int):
        self.owner = owner
        self.pages = pages


class LruList:
    __slots__ = ("segments", "pages")

    def __init__(self):
        self.segments: deque = deque()
        self.pages = 0

    def add_head(self, seg) -> None:
        if isinstance(seg, Run):
            self.add_run(seg.owner, seg.pages, seg)
        else:
            self.segments.appendleft(seg)
            self.pages += 1

    def add_run(self, owner, pages: int, run=None) -> None:
        """`pages` of `owner` at the head: onto the head run if it is the
        owner's, else as `run` (or a new Run); reclaim moves pages this way
        in every batch, so no Run is made where one would only be merged."""
        segments = self.segments
        head = segments[0] if segments else None
        if isinstance(head, Run) and head.owner is owner:
            head.pages += pages
        else:
            segments.appendleft(run if run is not None else Run(owner, pages))
        self.pages += pages

    def take_tail(self, limit: int):
        """Pop up to `limit` pages from the tail: (folio, None, 1) for a single
        state folio, (None, owner, pages) for pages of a run.  No Run is made
        for the pages taken: reclaim takes a SWAP_CLUSTER_MAX batch at a time
        off long runs, and what it does with them needs only the owner."""
        seg = self.segments[-1]
        if isinstance(seg, Run):
            pages = seg.pages
            if pages <= limit:
                self.segments.pop()
            else:
                seg.pages -= limit
                pages = limit
            self.pages -= pages
            return None, seg.owner, pages
        self.segments.pop()
        self.pages -= 1
        return seg, None, 1

    def remove_owner(self, owner) -> int:
        """Drop every run of `owner` (it exited or was killed); returns pages."""
        kept, gone = deque(), 0
        for seg in self.segments:
            if isinstance(seg, Run) and seg.owner is owner:
                gone += seg.pages
            else:
                kept.append(seg)
        self.segments, self.pages = kept, self.pages - gone
        return gone

    def remove_folio(self, folio) -> None:
        self.segments.remove(folio)
        self.pages -= 1


class Lruvec:
    """Anon and file, inactive and active: one reclaim domain's LRU lists."""

    def __init__(self, reclaim_rng):
        self.lists = {(t, a): LruList() for t in (ANON_LRU, FILE_LRU) for a in (False, True)}
        self.rng = reclaim_rng
        # Folios freed without counting as reclaimed (the kernel's
        # nr_vmscan_immediate_reclaim for them): droppable ones.
        self.freed_uncounted = 0
        # Folios faulted in but still in an lru_add batch.
        self.batched = 0
        # The list sizes inactive_is_low() reads: a memcg's as of its last
        # stats flush; None: the lists' own (the machine's, here).
        self.flushed = None

    def flush_stats(self) -> None:
        """A memcg's lruvec stats, as rstat last flushed them: what
        lruvec_page_state() returns (mm/memcontrol.c) until the next flush."""
        self.flushed = {key: lst.pages for key, lst in self.lists.items()}

    def pages(self, lru_type: str) -> int:
        return self.lists[lru_type, False].pages + self.lists[lru_type, True].pages

    def add(self, seg, lru_type: str, active: bool = False) -> None:
        self.lists[lru_type, active].add_head(seg)
        if not isinstance(seg, Run):
            seg.lru = (lru_type, active)

    def add_batched(self, folio) -> None:
        """folio_add_lru(): into the CPU's lru_add batch, not yet on a list."""
        folio.lru = LRU_ADD
        self.batched += 1

    def drain_batched(self, folio, lru_type: str) -> None:
        """lru_add(), when the batch is moved: onto the inactive list's head."""
        if folio.lru is LRU_ADD:
            self.batched -= 1
            self.add(folio, lru_type)

    def remove_folio(self, folio) -> None:
        if folio.lru is LRU_ADD:
            self.batched -= 1
        else:
            self.lists[folio.lru].remove_folio(folio)
        folio.lru = None

    def remove_owner(self, owner) -> int:
        return sum(lst.remove_owner(owner) for lst in self.lists.values())

    def inactive_is_low(self, lru_type: str) -> bool:
        if self.flushed is None:
            inactive = self.lists[lru_type, False].pages
            active = self.lists[lru_type, True].pages
        else:
            inactive, active = self.flushed[lru_type, False], self.flushed[lru_type, True]
        gib = (inactive + active) >> (30 - 12)
        ratio = math.isqrt(10 * gib) if gib else 1
        return inactive * ratio < active

    def shrink_active(self, lru_type: str, nr_to_scan: int, now: float,
                      s_per_page: float = 0.0, batch_pages: int = 0) -> int:
        """Deactivate up to nr_to_scan pages from the active tail.

        With `batch_pages`, as that many calls of batch_pages each at the same
        `now` would: a folio's clock is `now` plus its place in its batch.
        """
        active, inactive = self.lists[lru_type, True], self.lists[lru_type, False]
        moved = 0
        while moved < nr_to_scan and active.pages:
            folio, owner, pages = active.take_tail(nr_to_scan - moved)
            if folio is None:
                inactive.add_run(owner, pages)
            else:
                folio.clear_young(now + (moved % batch_pages if batch_pages else moved)
                                  * s_per_page)
                folio.lru = (lru_type, False)
                inactive.add_head(folio)
            moved += pages
        return moved

    def shrink_inactive(self, lru_type: str, nr_to_scan: int, now: float,
                        swap, nr_to_reclaim: int, s_per_page: float = 0.0) -> tuple[int, int]:
        """Scan the inactive tail; returns (scanned, reclaimed) pages.

        Stops once nr_to_reclaim pages are reclaimed.  `swap` is the domain's
        swap device, or None: anon pages and swap-backed state folios are only
        reclaimed into free swap slots.  The folio looked at after k pages
        is looked at k * s_per_page after `now`.
        """
        inactive = self.lists[lru_type, False]
        active = self.lists[lru_type, True]
        scanned = reclaimed = 0
        while scanned < nr_to_scan and reclaimed < nr_to_reclaim and inactive.pages:
            folio, owner, pages = inactive.take_tail(min(nr_to_scan - scanned,
                                                         nr_to_reclaim - reclaimed))
            if folio is None:
                scanned += pages
                reclaimed += self._scan_run(owner, pages, active, inactive, swap)
            else:
                reclaimed += self._scan_folio(folio, lru_type, swap, now + scanned * s_per_page)
                scanned += 1
        return scanned, reclaimed

    def shrink_runs(self, lru_type: str, nr_inactive: int, nr_active: int, batch_pages: int,
                    nr_to_reclaim: int) -> tuple[int, int, int, int]:
        """shrink_lruvec()'s interleaved batches (batch_pages off the inactive
        tail, then batch_pages off the active tail) for as long as both tails
        are runs longer than a batch, a later inactive batch is left and the
        inactive tail's owner drops its pages (page cache: no swap to find).

        It does what shrink_inactive() and shrink_active() would do batch by
        batch, adding up instead of moving pages each time: a reclaim that
        finds the hot page cache cycling between the lists (all of it
        referenced, nothing reclaimed) goes round thousands of batches, and
        on a Q3 run those were most of its time.  The sums come out the same:
        every batch comes off the same two tail runs (more than a batch is
        left on each), what they give goes to the list heads, where the
        first batch's run takes the later ones' too, and the ref_carry
        sequence is the same float by float.  No clock is read: a run's
        pages have none.  Returns (nr_inactive, nr_active) left and
        (scanned, reclaimed).
        """
        inactive, active = self.lists[lru_type, False], self.lists[lru_type, True]
        if not (inactive.segments and active.segments):
            return nr_inactive, nr_active, 0, 0
        tail, active_tail = inactive.segments[-1], active.segments[-1]
        if not (isinstance(tail, Run) and isinstance(active_tail, Run)) \
                or tail.owner.placement.reclaim == SWAP:
            return nr_inactive, nr_active, 0, 0
        owner = tail.owner
        carry, hot_fraction = owner.ref_carry, owner.hot_fraction
        tail_pages, active_tail_pages = tail.pages, active_tail.pages
        scanned = reclaimed = activated = deactivated = 0
        while (nr_inactive > batch_pages and nr_active and reclaimed < nr_to_reclaim
               and tail_pages > batch_pages and active_tail_pages > batch_pages):
            taken = 0
            while taken < batch_pages and reclaimed < nr_to_reclaim:  # shrink_inactive()
                pages = min(batch_pages - taken, nr_to_reclaim - reclaimed)
                taken += pages
                carry += pages * hot_fraction                       # _scan_run()
                referenced = min(pages, int(carry))
                carry -= referenced
                activated += referenced
                reclaimed += pages - referenced
            tail_pages -= taken
            scanned += taken
            nr_inactive -= batch_pages
            pages = min(batch_pages, nr_active)                     # shrink_active()
            nr_active -= pages
            active_tail_pages -= pages
            deactivated += pages
        owner.ref_carry = carry
        tail.pages, active_tail.pages = tail_pages, active_tail_pages
        inactive.pages -= scanned
        active.pages -= deactivated
        if activated:
            active.add_run(owner, activated)
        if deactivated:
            inactive.add_run(active_tail.owner, deactivated)
        if reclaimed:
            owner.lru_released(reclaimed)
        return nr_inactive, nr_active, scanned, reclaimed

    def _scan_run(self, owner, pages: int, active, inactive, swap) -> int:
        """`pages` of `owner`'s run off the inactive tail: the referenced share
        (by its hot_fraction) is activated, the rest reclaimed."""
        owner.ref_carry += pages * owner.hot_fraction
        referenced = min(pages, int(owner.ref_carry))
        owner.ref_carry -= referenced
        cold = pages - referenced
        if referenced:
            active.add_run(owner, referenced)
        if owner.placement.reclaim == SWAP and cold:
            room = swap.free_pages if swap else 0
            if cold > room:
                inactive.add_run(owner, cold - room)
                cold = room
            if cold:
                swap.store(cold)
        if cold:
            owner.lru_released(cold)
        return cold

    def _scan_folio(self, folio, lru_type, swap, now) -> int:
        young = folio.test_and_clear_young(now, self.rng)
        swap_backed = folio.placement.reclaim == SWAP
        if young:
            if swap_backed or folio.pg_referenced:
                self.add(folio, lru_type, active=True)
                if folio.trace is not None:
                    folio.owner.trace_outcome(folio, "activated", now)
            else:
                folio.pg_referenced = True
                self.add(folio, lru_type)
            return 0
        folio.pg_referenced = False
        if swap_backed:
            if not swap or swap.free_pages < 1:
                self.add(folio, lru_type)
                return 0
            swap.store(1)
        folio.lru = None
        folio.reclaimed(now)
        if not folio.placement.counted:
            # try_to_unmap_one() discards a droppable folio even when dirty,
            # moving the PTE's dirty bit to the folio.  shrink_folio_list()
            # then finds a dirty folio on the file LRU and, outside kswapd's
            # writeback pass, activates it instead of freeing it
            # (NR_VMSCAN_IMMEDIATE); putting it back drops the last
            # reference and frees it.  The memory comes back, the data is
            # gone, and nr_reclaimed does not move: reclaim goes on to lower
            # priorities and drops the rest of the list.  Seen here as
            # pgscan_file = 2 x region pages, pgsteal_file = 0 (data/host/
            # pressure.csv); mm/vmscan.c and mm/rmap.c in 6.12.
            self.freed_uncounted += 1
            return 0
        return 1
