"""A reclaim domain: the machine's memory, or a memory cgroup's limit.

The machine has the min/low/high watermarks of mm/page_alloc.c, kswapd that
reclaims from low to high in the background, and direct reclaim when an
allocation would take free memory below min.  A memory cgroup has a limit and
no kswapd: a charge over the limit reclaims directly (try_charge_memcg()).
When reclaim makes no progress the OOM killer picks the largest RSS
(oom_badness()).

Pages are conserved: free + every pool == capacity, at every step.
"""
from __future__ import annotations

import math

from .lru import Lruvec
from .placement import ANON_LRU, FILE_LRU, POOLS, RESERVED

SWAP_CLUSTER_MAX = 32        # include/linux/swap.h
DEF_PRIORITY = 12            # mm/vmscan.c
MAX_RECLAIM_RETRIES = 16     # mm/internal.h: page allocator and memcg charge
MEMCG_FLUSH_TIME_S = 2.0     # mm/memcontrol.c: FLUSH_TIME, the periodic stats flush


class Swap:
    def __init__(self, pages: int):
        self.total_pages = pages
        self.used_pages = 0

    @property
    def free_pages(self) -> int:
        return self.total_pages - self.used_pages

    def store(self, pages: int) -> None:
        assert pages <= self.free_pages
        self.used_pages += pages

    def release(self, pages: int) -> None:
        self.used_pages -= pages


def kernel_watermarks(managed_pages: int, page_bytes: int, min_free_bytes: int,
                      scale_factor: int) -> tuple[int, int, int]:
    """min, low, high in pages, as __setup_per_zone_wmarks() sets them.

    min_free_kbytes defaults to int_sqrt(lowmem_kbytes * 16), clamped to
    [128, 262144] (calculate_min_free_kbytes()).
    """
    if min_free_bytes:
        wmark_min = min_free_bytes // page_bytes
    else:
        lowmem_kb = managed_pages * page_bytes // 1024
        min_kb = min(max(math.isqrt(lowmem_kb * 16), 128), 262144)
        wmark_min = min_kb * 1024 // page_bytes
    step = max(wmark_min // 4, managed_pages * scale_factor // 10000)
    return wmark_min, wmark_min + step, wmark_min + 2 * step


class Domain:
    """Where pages are charged and reclaimed.

    `watermarks` is (min, low, high) for the machine, None for a memcg, whose
    limit is then `capacity_pages`.  `processes` is a callable returning the
    live processes, for the OOM killer.
    """

    def __init__(self, env, capacity_pages: int, watermarks, swap: Swap | None,
                 lruvec: Lruvec, scan_ns_per_page: float, walk_ns_per_page: float,
                 swappiness: int, metrics, processes, kind: str):
        self.env = env
        self.capacity_pages = capacity_pages
        self.watermarks = watermarks
        self.swap = swap
        self.lruvec = lruvec
        self.scan_s_per_page = scan_ns_per_page * 1e-9
        self.walk_s_per_page = walk_ns_per_page * 1e-9
        self.swappiness = swappiness
        self.metrics = metrics
        self.processes = processes
        self.kind = kind
        self.pools = dict.fromkeys(POOLS, 0)
        # The pools' sum, kept as they change: every charge step and every
        # reclaim's progress checks asks for it.
        self.used_pages = 0
        self.kswapd = None
        if kind == "memcg":
            lruvec.flush_stats()
            env.process(self._flush_stats())

    def _flush_stats(self):
        """flush_memcg_stats_dwork(): a memcg's lruvec stats, which
        inactive_is_low() reads, are brought up to date every FLUSH_TIME (2 s,
        mm/memcontrol.c, 6.12); reclaim flushes them itself only when that
        work is a whole period late (mem_cgroup_flush_stats_ratelimited() in
        prepare_scan_control()).  So within a reclaim call the lists look as
        they did at the last flush: a walk that activates every page it
        finds young twice does not see its inactive list run low, and leaves
        the active list to do_try_to_free_pages()'s forced retry, whose walk
        scans only what it deactivated before priority 0 (traced:
        data/host/pressure_walk_reclaim.csv).  The flusher's phase against
        the workload is unknown; here it runs at 0, 2, 4 s.  Global reclaim
        reads the root memcg's stats the same way; the machine's lists are
        still read live here (docs/sources.md)."""
        while True:
            yield self.env.timeout(MEMCG_FLUSH_TIME_S)
            self.lruvec.flush_stats()

    def reserve(self, pages: int) -> None:
        """Memory the kernel holds from boot (machine.reserved_bytes)."""
        self.pools[RESERVED] += pages
        self.used_pages += pages

    @property
    def free_pages(self) -> int:
        return self.capacity_pages - self.used_pages

    def _room(self) -> int:
        """Pages a charge can take now without reclaim."""
        if self.watermarks is None:
            return self.capacity_pages - self.used_pages
        return self.capacity_pages - self.used_pages - self.watermarks[0]

    def _fits(self, pages: int) -> bool:
        """Would this charge succeed without reclaim?"""
        return pages <= self._room()

    def charge(self, pages: int, pool: str, requester=None, may_oom: bool = True,
               fault_s_per_page: float = 0.0, placed=None,
               batch_pages: int = 1) -> tuple[bool, float]:
        """Allocate and charge `pages`; returns (done, stall_s).

        Models __alloc_pages_slowpath() / try_charge_memcg(): a fault charges
        its own page, so a large growth is a run of small charges, each of
        which, over the limit, reclaims at least SWAP_CLUSTER_MAX pages, up
        to MAX_RECLAIM_RETRIES rounds without progress, then the OOM killer.
        A killed requester gets nothing.  `may_oom=False` fails instead of
        killing: a what-if for droppable faults, whose real allocation path
        is the same as any other's (vma_alloc_folio() only adds
        __GFP_NOWARN).  `fault_s_per_page`: the requester's own time per page
        (its faults), so reclaim passes between its charges are spaced as in
        the kernel; it is not part of the stall.  `placed(n)`, if given, is
        called after each step: the caller maps those pages at once (they are
        on the LRU and in its RSS, as faulted pages are) and keeps them even
        if a later step fails.  `batch_pages`: past the room, charge (and
        reclaim for) this many pages at a time instead of one: a simulation
        step for a fast streaming reader, whose page-by-page charges would
        each reclaim SWAP_CLUSTER_MAX from the same tail in turn.
        """
        stall_s = 0.0
        stalled = False
        done = 0
        while done < pages:
            # What fits is charged at once; past that, one page's fault at a
            # time, whose reclaim frees at least SWAP_CLUSTER_MAX (as
            # try_charge_memcg() falls back from its batch to the fault's
            # own page, and the page allocator asks for one page).
            chunk = min(max(self._room(), batch_pages), pages - done)
            ok, chunk_stall_s = self._charge_chunk(
                chunk, requester, may_oom, stall_s + done * fault_s_per_page)
            stall_s += chunk_stall_s
            stalled |= chunk_stall_s > 0 or not ok
            if not ok:
                if done and placed is None:
                    self.uncharge(done, pool)     # the requester never got them
                self._record_stall(stall_s, True)
                return False, stall_s
            self.pools[pool] += chunk
            self.used_pages += chunk
            done += chunk
            if placed is not None:
                placed(chunk)
        self._record_stall(stall_s, stalled)
        self._wake_kswapd()
        return True, stall_s

    def _charge_chunk(self, pages: int, requester, may_oom: bool,
                      elapsed_s: float) -> tuple[bool, float]:
        """Make room for `pages` (not yet charged); returns (room made, stall_s)."""
        stall_s = 0.0
        failures = 0
        while not self._fits(pages):
            scanned, reclaimed = self.reclaim(max(pages, SWAP_CLUSTER_MAX),
                                              elapsed_s + stall_s)
            stall_s += scanned * self.scan_s_per_page
            counters = self.metrics.counters        # Metrics.count() less a call
            counters["pgscan_direct"] += scanned
            counters["pgsteal_direct"] += reclaimed
            if reclaimed:
                failures = 0
                continue
            failures += 1
            if failures < MAX_RECLAIM_RETRIES:
                continue
            victim = self.oom_kill(requester) if may_oom else None
            if victim is None or victim is requester:
                return False, stall_s
            failures = 0
        return True, stall_s

    def uncharge(self, pages: int, pool: str) -> None:
        self.pools[pool] -= pages
        self.used_pages -= pages
        assert self.pools[pool] >= 0, (pool, self.pools[pool])

    def _record_stall(self, stall_s: float, stalled: bool) -> None:
        if stalled:
            self.metrics.allocstall(stall_s)

    def _wake_kswapd(self) -> None:
        if self.kswapd is not None and self.free_pages < self.watermarks[1]:
            self.kswapd.wake()

    def reclaim(self, nr_to_reclaim: int, elapsed_s: float = 0.0,
                balanced=None) -> tuple[int, int]:
        """One reclaim call over falling priorities: returns (scanned, reclaimed).

        Without free swap only the file lists are scanned (get_scan_count());
        with it, anon and file share the scan by swappiness.  The call starts
        `elapsed_s` after the present (the caller's earlier work) and its
        walk takes walk_ns_per_page for each page it looks at (measured by
        tracing the kernel's reclaim calls); what it costs its caller is
        scan_ns_per_page per page (the caller's own code, Domain.charge).
        Direct reclaim stops on its target alone (do_try_to_free_pages());
        kswapd passes `balanced`, checked between priorities as
        balance_pgdat() checks pgdat_balanced(), because the droppable
        folios it frees never count toward the target.

        A direct call that counted nothing reclaimed walks every priority
        again, as do_try_to_free_pages() retries (mm/vmscan.c, 6.12): once
        as a full walk of the memcg tree (memcg_full_walk: one memcg here,
        so the same walk), then, if a walk left an active list alone because
        its inactive list was not low (shrink_list(): skipped_deactivate),
        once more deactivating by force.  A droppable region's walk counts
        nothing, so each of its calls is such a retried call: the folios its
        first walk activated (found young twice) are deactivated by the
        second, and looked at a third time soon after.  Seen in
        data/host/pressure_walk_reclaim.csv as calls that scan more than
        twice the region and deactivate (nr_deactivated) within the call.
        """
        start = self.env.now + elapsed_s
        freed_before = self.lruvec.freed_uncounted
        scanned = reclaimed = 0
        skipped = False
        walks = ("first", "memcg_full_walk", "force_deactivate")
        for retry in walks if balanced is None else walks[:1]:
            if retry == "force_deactivate" and not skipped:
                break
            s, r, skip = self._walk_priorities(nr_to_reclaim - reclaimed,
                                               start + scanned * self.walk_s_per_page,
                                               retry == "force_deactivate", balanced)
            scanned, reclaimed, skipped = scanned + s, reclaimed + r, skipped or skip
            if reclaimed:
                break
        self.metrics.count("nr_vmscan_immediate_reclaim",
                           self.lruvec.freed_uncounted - freed_before)
        return scanned, reclaimed

    def _walk_priorities(self, nr_to_reclaim: int, start: float, force_deactivate: bool,
                         balanced) -> tuple[int, int, bool]:
        """do_try_to_free_pages()'s loop from DEF_PRIORITY to 0, starting at
        `start`: returns (scanned, reclaimed, skipped_deactivate)."""
        lruvec = self.lruvec
        walk = self.walk_s_per_page
        scanned = reclaimed = 0
        skipped = False
        can_swap = self.swap is not None and self.swap.free_pages > 0
        share = {FILE_LRU: 1.0}
        if can_swap:
            share = {ANON_LRU: self.swappiness / 200, FILE_LRU: (200 - self.swappiness) / 200}
        for priority in range(DEF_PRIORITY, -1, -1):
            for lru_type, fraction in share.items():
                if reclaimed >= nr_to_reclaim:
                    break
                # get_scan_count(): each list's size >> priority, taken in
                # SWAP_CLUSTER_MAX batches that alternate between the
                # inactive and the active list (shrink_lruvec()); whether
                # the active list is deactivated at all is decided once per
                # pass (prepare_scan_control(): may_deactivate).
                nr_inactive = int((lruvec.lists[lru_type, False].pages >> priority) * fraction)
                nr_active = int((lruvec.lists[lru_type, True].pages >> priority) * fraction)
                deactivate = force_deactivate or lruvec.inactive_is_low(lru_type)
                if not deactivate:
                    skipped |= nr_active > 0
                    nr_active = 0   # nothing to interleave: one pass is the same scan
                while (nr_inactive or nr_active) and reclaimed < nr_to_reclaim:
                    if nr_active:
                        # Batch pairs between long runs, in one call.
                        nr_inactive, nr_active, s, r = lruvec.shrink_runs(
                            lru_type, nr_inactive, nr_active, SWAP_CLUSTER_MAX,
                            nr_to_reclaim - reclaimed)
                        scanned += s
                        reclaimed += r
                        if s:
                            continue
                    if nr_inactive:
                        batch = min(SWAP_CLUSTER_MAX if nr_active else nr_inactive, nr_inactive)
                        nr_inactive -= batch
                        s, r = lruvec.shrink_inactive(
                            lru_type, batch, start + scanned * walk,
                            self.swap, nr_to_reclaim - reclaimed, walk)
                        scanned += s
                        reclaimed += r
                    if nr_active:
                        # Once the inactive share is scanned (and the target
                        # not met), the active batches that are left change
                        # nothing between them (nothing is reclaimed, the
                        # clock stands): one call does them all, batch by batch.
                        batch = min(SWAP_CLUSTER_MAX, nr_active)
                        if not nr_inactive and reclaimed < nr_to_reclaim:
                            batch = nr_active
                        nr_active -= batch
                        if deactivate:
                            lruvec.shrink_active(lru_type, batch,
                                                 start + scanned * walk, walk,
                                                 SWAP_CLUSTER_MAX)
            if reclaimed >= nr_to_reclaim or (balanced is not None and balanced()):
                break
        return scanned, reclaimed, skipped

    def oom_kill(self, requester=None):
        """out_of_memory(): kill the live process with the largest RSS."""
        candidates = [p for p in self.processes() if p.alive and p.oom_killable]
        if not candidates:
            return None
        victim = max(candidates, key=lambda p: (p.rss_pages(), -p.pid))
        self.metrics.oom_kill(self.env.now, victim, self.kind, requester)
        victim.kill(self.env.now)
        return victim


class Kswapd:
    """kswapd: woken below the low watermark, reclaims until free >= high.

    It reclaims at most `pages_per_s` (a measured reclaim rate), in ticks, so
    a burst of allocations can still outrun it into direct reclaim.
    """

    def __init__(self, env, domain: Domain, pages_per_s: float, tick_s: float, metrics):
        self.env, self.domain, self.metrics = env, domain, metrics
        self.pages_per_tick = max(1, int(pages_per_s * tick_s))
        self.tick_s = tick_s
        self.running = False
        domain.kswapd = self

    def wake(self) -> None:
        if not self.running:
            self.running = True
            self.env.process(self._balance_pgdat())

    def _balance_pgdat(self):
        domain = self.domain
        high = domain.watermarks[2]
        while domain.free_pages < high:
            free_before = domain.free_pages
            want = min(self.pages_per_tick, high - free_before)
            scanned, reclaimed = domain.reclaim(
                want, balanced=lambda: domain.free_pages - free_before >= want)
            self.metrics.count("pgscan_kswapd", scanned)
            self.metrics.count("pgsteal_kswapd", reclaimed)
            self.metrics.count("kswapd_cpu_s", scanned * domain.scan_s_per_page)
            if domain.free_pages <= free_before:
                break           # nothing reclaimable: kswapd gives up and sleeps
            yield self.env.timeout(self.tick_s)
        self.running = False


class ProactiveReclaim:
    """A TMO/senpai-style agent: writes `request_pages` worth of bytes to the
    memcg's memory.reclaim at first_s and every period_s after, whether or
    not memory is short (Documentation/admin-guide/cgroup-v2.rst).

    One write is memory_reclaim() of mm/memcontrol.c (6.12): while less than
    the request is reclaimed, try_to_free_mem_cgroup_pages() for a quarter
    of what is left (its scan_control asks at least SWAP_CLUSTER_MAX), each
    a reclaim from DEF_PRIORITY down; a call that reclaims nothing spends
    one of MAX_RECLAIM_RETRIES retries, and with none left the write fails
    with -EAGAIN.  Droppable folios are freed but not counted (model.sim.lru),
    so a request that only they could meet is never met: every call scans
    to the last priority and drops every state page it finds unreferenced.
    (The last retry drains the per-CPU LRU caches first; the model puts a
    folio on its list at once, so that changes nothing here.)

    The writes are counted as the harness counts them (data/guests/
    proactive-*.csv), only those from `window_s` (run.settle_s) on:
    reclaims, reclaims_short (-EAGAIN), reclaim_pgscan and reclaim_pgsteal
    (pages looked at and reclaimed: the memcg's pgscan and pgsteal there),
    reclaims_dropping and reclaim_state_pages_dropped (state pages a write
    dropped).  Its scans are also the memcg's pgscan_direct, as the kernel
    counts them (reclaimer_offset(): not kswapd).
    """

    def __init__(self, env, domain: Domain, request_pages: int, period_s: float,
                 first_s: float, window_s: float, metrics):
        self.env, self.domain, self.metrics = env, domain, metrics
        self.request_pages = request_pages
        self.period_s, self.first_s, self.window_s = period_s, first_s, window_s

    def run(self):
        env = self.env
        next_s = self.first_s
        while True:
            yield env.timeout(max(0.0, next_s - env.now))
            self.write()
            next_s += self.period_s

    def write(self) -> bool:
        """memory_reclaim(): True if the request was met, False for -EAGAIN."""
        domain, metrics = self.domain, self.metrics
        dropped_before = metrics.counters["state_pages_dropped"]
        retries = MAX_RECLAIM_RETRIES
        elapsed_s = 0.0
        total = scanned_total = 0
        met = True
        while total < self.request_pages:
            batch = (self.request_pages - total) // 4
            scanned, reclaimed = domain.reclaim(max(batch, SWAP_CLUSTER_MAX), elapsed_s)
            elapsed_s += scanned * domain.scan_s_per_page
            scanned_total += scanned
            metrics.count("pgscan_direct", scanned)
            metrics.count("pgsteal_direct", reclaimed)
            if not reclaimed:
                if not retries:
                    met = False
                    break
                retries -= 1
            total += reclaimed
        if self.env.now >= self.window_s:
            dropped = metrics.counters["state_pages_dropped"] - dropped_before
            metrics.count("reclaims")
            metrics.count("reclaims_short", float(not met))
            metrics.count("reclaim_pgscan", scanned_total)
            metrics.count("reclaim_pgsteal", total)
            metrics.count("reclaims_dropping", float(dropped > 0))
            metrics.count("reclaim_state_pages_dropped", dropped)
        return met
