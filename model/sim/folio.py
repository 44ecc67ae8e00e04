"""Pages whose fate reclaim decides one by one, and the processes that own them.

The getrandom states (model.sim.states, owned by a workload.GetrandomProcess)
and the harness's pressure region (model.sim.region) are both tracked page
by page: whether one is dropped depends on when that page was last touched.
Both go through the same flow, owned here: a fault charges the page and puts
it on its LRU list, reclaim takes it off and drops or swaps it as its
Placement says, and the process's exit unmaps it.  A subclass fills in what
is its own: how a page is touched (Folio._touched) and what a page lost to
reclaim means to its owner (FolioOwner._dropped, _swapped_out, _swapped_in).
"""
from __future__ import annotations

from .placement import DROP


class Folio:
    """One page of a private anonymous mapping, on an LRU list or not.

    `rate_per_s` says how often the page is touched: it decides how likely
    the young bit is set when reclaim looks.
    """
    __slots__ = ("owner", "placement", "resident", "swapped", "lru", "pg_referenced",
                 "young_t", "young_forced", "rate_per_s", "refault_pending", "trace")

    def __init__(self, owner, placement):
        self.owner, self.placement = owner, placement
        self.resident = self.swapped = False        # in memory, in swap
        self.lru = None                             # (list type, active) while on a list
        # PG_referenced, and the young bit: set at young_t, or since then at rate_per_s.
        self.pg_referenced = self.young_forced = False
        self.young_t = self.rate_per_s = 0.0
        self.refault_pending = False
        # While traced (simulate(trace_folios=True)): this refault's record.
        self.trace = None

    def mark_young(self, now: float) -> None:
        """The faulting access sets the PTE young bit."""
        self.young_forced, self.young_t = True, now

    def clear_young(self, now: float) -> None:
        self.young_forced, self.young_t = False, now

    def test_and_clear_young(self, now: float, rng) -> bool:
        """folio_referenced(): was the page touched since the bit was cleared?"""
        forced, since = self.young_forced, self.young_t
        self.clear_young(now)
        if forced:
            return True
        if self.rate_per_s <= 0.0 or now <= since:
            return False
        return self._touched(since, now, rng)

    def _touched(self, since: float, now: float, rng) -> bool:
        """Hook: was the page touched in (since, now] (rate_per_s > 0)?"""
        raise NotImplementedError

    def reclaimed(self, now: float) -> None:
        self.owner.folio_reclaimed(self, now)


class FolioOwner:
    """A process whose pages are Folios: faults them in, loses them, unmaps them.

    Subclasses may fill the hooks _dropped(), _swapped_out() and
    _swapped_in(); the flow is here.
    """
    oom_killable = True

    def __init__(self, sim, pid: int, name: str):
        self.sim, self.pid, self.name = sim, pid, name
        self.page_bytes = sim.scenario.state.page_bytes
        self.alive = True

    def fault_in(self, folios, now: float, may_oom: bool = True,
                 fault_s_per_page: float = 0.0) -> tuple[bool, float]:
        """do_anonymous_page() (or do_swap_page()) for `folios`, one charge for all.

        Returns (faulted, stall_s).  A failed charge, or an owner killed
        while it reclaimed, maps nothing and keeps no charge.
        """
        domain = self.sim.domain
        placement = folios[0].placement
        ok, stall_s = domain.charge(len(folios), placement.pool, self, may_oom=may_oom,
                                    fault_s_per_page=fault_s_per_page)
        if not ok or not self.alive:
            if ok:
                domain.uncharge(len(folios), placement.pool)
            return False, stall_s
        for folio in folios:
            if folio.swapped:
                domain.swap.release(1)
                folio.swapped = False
                self._swapped_in(folio)
            folio.resident = True
            folio.mark_young(now)
            if placement.lru is not None:
                self._lru_add(folio)
        return True, stall_s

    def _lru_add(self, folio) -> None:
        """folio_add_lru(): the faulted folio joins its LRU.  Here at once:
        pages faulted in bulk fill their CPU's lru_add batch as they go."""
        self.sim.domain.lruvec.add(folio, folio.placement.lru)

    def folio_reclaimed(self, folio, now: float) -> None:
        """shrink_folio_list() took the page: dropped or written to swap."""
        folio.resident = False
        self.sim.domain.uncharge(1, folio.placement.pool)
        if folio.placement.reclaim == DROP:
            self._dropped(folio, now)
        else:
            folio.swapped = True
            self._swapped_out(folio, now)

    def unmap(self, folios) -> None:
        """The process is gone: its pages leave the LRU, their charge and swap."""
        domain = self.sim.domain
        for folio in folios:
            if folio.resident:
                if folio.lru is not None:
                    domain.lruvec.remove_folio(folio)
                domain.uncharge(1, folio.placement.pool)
                folio.resident = False
            if folio.swapped:
                domain.swap.release(1)
                folio.swapped = False

    @staticmethod
    def rss_folios(folios) -> int:
        """Pages that count in the RSS oom_badness() sees: resident or in swap."""
        return sum(1 for f in folios if f.resident or f.swapped)

    # -- hooks ---------------------------------------------------------------

    def _dropped(self, folio, now: float) -> None:
        """The page was dropped: it reads back as zeros (or is read again)."""

    def _swapped_out(self, folio, now: float) -> None:
        """The page went to swap: it reads back on the next touch."""

    def _swapped_in(self, folio) -> None:
        """A fault brought the page back from swap."""
