"""The harness's pressure holder: a region of state memory in a memory cgroup.

The pressure experiment of the harness (data/host/pressure.csv) maps D bytes
the design's way (MAP_DROPPABLE, or anonymous and mlock'd), writes every
page, then either leaves them alone (cold) or reads every page every 10 ms
from a thread (hot); a hog then grows to H in the same memcg, and the holder
counts the pages that read back as zero.

Region pages are folios one by one, like the getrandom state folios, so
reclaim treats them exactly as it treats the states.  A dropped page stays
dropped: the holder only reads, and a read fault on a private anonymous
mapping maps the shared zero page (do_anonymous_page()), which is neither
charged nor on an LRU.
"""
from __future__ import annotations

from .folio import Folio, FolioOwner
from .memory import SWAP_CLUSTER_MAX
from .placement import RESERVED
from .workload import PAGES_PER_PTE_PAGE


class RegionFolio(Folio):
    """A region page, read by a sweep that passes every page once per period."""
    __slots__ = ()

    def _touched(self, since: float, now: float, rng) -> bool:
        """The reader sweeps the region with period 1/rate_per_s, not as a
        Poisson stream: with a phase unknown to reclaim, a look dt after the
        last one finds the bit set with probability min(1, dt * rate)."""
        return rng.random() < min(1.0, (now - since) * self.rate_per_s)


class Region(FolioOwner):
    """The holder process: its region's folios, dropped or not."""
    kind = "region"

    def __init__(self, sim, pid: int):
        super().__init__(sim, pid, "region")
        sc = sim.scenario
        self.placement = sim.design.placement
        self.folios = [RegionFolio(self, self.placement)
                       for _ in range(sc.workload.region_bytes // self.page_bytes)]
        self.touch_per_s = sc.workload.region_touch_per_s
        self.dropped_pages = 0
        self.pte_pages = 0

    def rss_pages(self) -> int:
        return self.rss_folios(self.folios)

    def state_pages(self) -> int:
        return 0

    def write(self, now: float) -> float:
        """Write every page, a batch of faults at a time; returns the time it takes.

        Each 2 MiB starts with a page-table page: a region as large as the
        limit goes over it before its last page is written, as measured.
        """
        sim = self.sim
        fault_s = sim.costs.fault_ns[self.placement.mapping] * 1e-9
        for start in range(0, len(self.folios), SWAP_CLUSTER_MAX):
            if start % PAGES_PER_PTE_PAGE == 0:
                ok, _ = sim.domain.charge(1, RESERVED, self)
                if not ok or not self.alive:
                    break
                self.pte_pages += 1
            batch = self.folios[start:start + SWAP_CLUSTER_MAX]
            ok, _ = self.fault_in(batch, now, fault_s_per_page=fault_s)
            if not ok:
                break
        # The reader thread starts once every page is written.
        for folio in self.folios:
            folio.rate_per_s = self.touch_per_s
        return len(self.folios) * fault_s

    def _dropped(self, folio, now: float) -> None:
        """A dropped page stays dropped: the holder only reads, and reads
        map the shared zero page."""
        self.dropped_pages += 1

    def kill(self, now: float) -> None:
        self.alive = False
        self.sim.domain.uncharge(self.pte_pages, RESERVED)
        self.pte_pages = 0
        self.unmap(self.folios)

    def report(self, metrics) -> None:
        pages = len(self.folios)
        metrics.count("region_pages", pages)
        metrics.count("region_pages_dropped", self.dropped_pages)
        metrics.count("region_drop_fraction", self.dropped_pages / pages if pages else 0.0)
        metrics.count("region_killed", 0.0 if self.alive else 1.0)
