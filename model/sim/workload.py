"""Who uses memory and calls getrandom(): processes, threads, hogs, page cache.

A thread's getrandom() calls are a rate, not events: between two changes of
its state (start, drop, refault, exit) its calls and their CPU time are
accounted in one step (Thread.account), as the call pattern
(model.sim.calls) counts them.  Events are the changes.

A dropped state costs its own thread one reseed, on that thread's next call
(the vDSO finds the generation zero and makes the getrandom() syscall for a
new key): a drop draws each thread's next call, the folio's first one faults
the page back, and each thread's is billed as one call that found its state
zeroed when the thread is next accounted.  A state dropped again before its
thread called costs nothing more.
"""
from __future__ import annotations

import bisect
import heapq
import math
import operator
from functools import cached_property

from .folio import FolioOwner
from .lru import Run
from .placement import ANON, DROP, PAGE_CACHE, RESERVED, SWAP
from .states import StateAllocator

# x86_64: one page of PTEs maps 512 pages (2 MiB).  Page tables are kernel
# memory charged to the memcg (__GFP_ACCOUNT) and never reclaimed.
PAGES_PER_PTE_PAGE = 512


class Area:
    """Pages of one owner on the LRU: a hog's heap, a server's RSS, the page cache."""

    def __init__(self, sim, placement, hot_fraction: float, process=None):
        self.sim = sim
        self.placement = placement
        self.hot_fraction = hot_fraction
        self.ref_carry = 0.0
        self.process = process
        self.resident_pages = 0
        self.swapped_pages = 0

    def grow(self, pages: int, fault_s_per_page: float = 0.0,
             batch_pages: int = 1) -> tuple[bool, float]:
        """Fault in `pages`; each step is on the LRU before the next one charges."""
        domain = self.sim.domain
        pool = self.placement.pool
        # The inactive list's head, where faulted pages go; add_run() makes a
        # Run only where the head is not already this area's: a charge past
        # the limit places its pages a few at a time, between reclaims.
        inactive = domain.lruvec.lists[self.placement.lru, False]

        def placed(n: int) -> None:
            if self.process is None or self.process.alive:
                self.resident_pages += n
                inactive.add_run(self, n)
            else:                       # charged, but the OOM killer took its owner
                domain.uncharge(n, pool)

        return domain.charge(pages, pool, self.process, fault_s_per_page=fault_s_per_page,
                             placed=placed, batch_pages=batch_pages)

    def shrink(self, pages: int) -> None:
        """Give pages back (free(), munmap): take them off the LRU, inactive first."""
        lruvec = self.sim.domain.lruvec
        left = pages
        for key in ((self.placement.lru, False), (self.placement.lru, True)):
            lst = lruvec.lists[key]
            for seg in list(lst.segments):
                if left == 0:
                    break
                if isinstance(seg, Run) and seg.owner is self:
                    n = min(seg.pages, left)
                    seg.pages -= n
                    lst.pages -= n
                    left -= n
                    if seg.pages == 0:
                        lst.segments.remove(seg)
        freed = pages - left
        self.resident_pages -= freed
        self.sim.domain.uncharge(freed, self.placement.pool)

    def release_all(self) -> None:
        domain = self.sim.domain
        # Nothing resident, nothing on the LRU: no walk over every list (a
        # fork child's heap is its parent's, and each child's exit walked them).
        gone = domain.lruvec.remove_owner(self) if self.resident_pages else 0
        assert gone == self.resident_pages, (gone, self.resident_pages)
        domain.uncharge(gone, self.placement.pool)
        if self.swapped_pages:
            domain.swap.release(self.swapped_pages)
        self.resident_pages = self.swapped_pages = 0

    def lru_released(self, pages: int) -> None:
        """Reclaim took `pages`: page cache is dropped, anon went to swap."""
        self.resident_pages -= pages
        if self.placement.reclaim == SWAP:
            self.swapped_pages += pages
        self.sim.domain.uncharge(pages, self.placement.pool)


class Thread:
    """One calling thread.  `next_call_t`: while its state is zeroed by a
    drop, the time of its first call since (the one that finds it zeroed)."""
    __slots__ = ("process", "sim", "tid", "rate_per_s", "slot", "born_t", "last_t", "paused",
                 "alive", "next_call_t", "dropped_window", "dropped_windows", "exit_t")

    def __init__(self, process, tid: int, rate_per_s: float, now: float):
        self.process, self.tid, self.rate_per_s = process, tid, rate_per_s
        self.sim = process.sim
        self.slot = None
        self.born_t = self.last_t = now
        self.paused = False
        self.alive = True
        self.next_call_t = None
        # Key lives (windows of key_life_s from run.settle_s) with a call
        # that found the state zeroed: the last one's index, and how many.
        self.dropped_window = -1
        self.dropped_windows = 0

    def account(self, now: float) -> None:
        """Bill the calls made since last_t: vDSO if it holds a state, else syscalls."""
        last_t = self.last_t
        if self.paused or now <= last_t:
            if now > last_t:
                self.last_t = now
            return
        sim, rate = self.sim, self.rate_per_s
        start, made = last_t, 0.0
        if self.next_call_t is not None:
            if self.next_call_t > now:      # no call since its state was dropped
                self.last_t = now
                return
            start, made = self.next_call_t, 1.0
            self._zeroed_call(start)
        settle_s, count = sim.settle_s, sim.calls.count
        counted = made if start >= settle_s else 0.0
        regular = count(rate, start, now)
        made += regular
        if now > settle_s:
            counted += regular if start >= settle_s else count(rate, settle_s, now)
        if counted:
            sim.metrics.count_class(rate, "calls", counted)
        # The counters themselves, not Metrics.count(): every thread's every
        # bill comes here, and these names are the module's own.
        counters = sim.metrics.counters
        if self.slot is not None:
            counters["calls_vdso"] += made
            gap_s = made * sim.vdso_gap_s[rate]
            counters["cpu_getrandom_s"] += made * sim.vdso_call_s + gap_s
            # The CRNG generation moves every key_life_s; a state in use then
            # reseeds on its next call, if one comes before the next move.
            life = sim.key_life_s
            expiries = math.floor(now / life) - math.floor(last_t / life)
            if expiries:
                expiries *= sim.p_call_in_key_life[rate]
                counters["reseeds_expiry"] += expiries
                gap_s += expiries * sim.reseed_gap_s[rate]
                counters["cpu_getrandom_s"] += expiries * (sim.reseed_s + sim.reseed_gap_s[rate])
        else:
            counters["calls_syscall"] += made
            gap_s = made * sim.syscall_gap_s[rate]
            counters["cpu_getrandom_s"] += made * sim.syscall_call_s + gap_s
        counters["cpu_after_gap_s"] += gap_s
        self.last_t = now

    def _zeroed_call(self, t: float) -> None:
        """The thread's first call since its state was dropped: it finds the
        generation zero and reseeds (the harness's calls_zeroed)."""
        sim = self.sim
        self.next_call_t = None
        self.process.reseed(self.slot)
        counters, gap_s = sim.metrics.counters, sim.dropped_reseed_gap_s[self.rate_per_s]
        counters["cpu_getrandom_s"] += gap_s
        counters["cpu_after_gap_s"] += gap_s
        if t < sim.settle_s:
            return
        sim.metrics.count_class(self.rate_per_s, "calls_zeroed")
        window = int((t - sim.settle_s) // sim.key_life_s)
        if window < sim.key_windows and window != self.dropped_window:
            self.dropped_window = window
            self.dropped_windows += 1
            sim.metrics.count_class(self.rate_per_s, "key_lives_dropped")

    def close(self, now: float) -> None:
        """The thread is gone (or the run ends): bill what is left and count
        its key lives as the harness does, the key_life_s windows from
        run.settle_s that lie whole in the run, in which it called at least
        once (a window with a call that found the state zeroed surely did)."""
        self.account(now)
        sim, rate = self.sim, self.rate_per_s
        life, t0 = sim.key_life_s, sim.settle_s
        # max() and min() as comparisons: every thread's exit comes here.
        lo = t0 if t0 > self.born_t else self.born_t
        end_s = sim.key_windows_end_s
        hi = end_s if end_s < now else now
        if hi <= lo:
            return
        first = math.floor((lo - t0) / life)
        last = math.ceil((hi - t0) / life) - 1
        full = sim.p_call_in_key_life[rate]
        p_any = sim.calls.p_any
        if first == last:
            lives = p_any(rate, lo, hi)
        else:
            lives = (p_any(rate, lo, t0 + (first + 1) * life)
                     + p_any(rate, t0 + last * life, hi) + (last - first - 1) * full)
        sim.metrics.count_class(rate, "key_lives", lives + self.dropped_windows * (1.0 - full))


class ExitTimes:
    """A process's threads' exit times, earliest first: a calendar queue.

    Threads wait in buckets of BUCKET_S by exit time (Thread.exit_t); only
    the earliest bucket is sorted, and it is the only one searched.  A heap
    of them all (SimPy's event queue with a timeout per thread, or a heap
    per process) cost a run of 100,000 threads about a sixth of its time
    (py-spy), in cache misses on entries spread over 100,000 objects.  For
    the same reason the entries are the threads themselves, not a tuple of
    each one's time and tid: those were three objects more per thread, each
    a cache miss at its exit.  Ties go to the lower tid, as they went with
    the tuples: a process pushes its threads in tid order, and sort() and
    insort() keep the order of equal keys.
    """
    BUCKET_S = 1.0

    def __init__(self):
        self.buckets: dict[int, list] = {}  # bucket -> its threads, unsorted
        self.keys: list[int] = []           # heap of the buckets' numbers
        self.due: list = []                 # the earliest bucket, sorted: due[head:] wait
        self.head = 0
        self.due_key: int | None = None

    def push(self, t_s: float, thread) -> None:
        thread.exit_t = t_s
        key = int(t_s // self.BUCKET_S)
        if key == self.due_key:
            bisect.insort(self.due, thread, self.head, key=_EXIT_T)
        elif self.due_key is None or key < self.due_key:
            if self.due_key is not None:        # the earlier bucket goes back
                self.buckets[self.due_key] = self.due[self.head:]
                heapq.heappush(self.keys, self.due_key)
            self.due, self.head, self.due_key = [thread], 0, key
        else:
            bucket = self.buckets.get(key)
            if bucket is not None:
                bucket.append(thread)
            else:
                self.buckets[key] = [thread]
                heapq.heappush(self.keys, key)

    def earliest_s(self) -> float:
        return self.due[self.head].exit_t if self.due_key is not None else math.inf

    def pop_due(self, now: float) -> list:
        """The threads whose exits are due by `now`, earliest first, off the queue."""
        due, head, threads = self.due, self.head, []
        while self.due_key is not None and due[head].exit_t <= now:
            threads.append(due[head])
            head += 1
            if head == len(due):
                head = 0
                if self.keys:
                    self.due_key = heapq.heappop(self.keys)
                    due = self.due = self.buckets.pop(self.due_key)
                    due.sort(key=_EXIT_T)
                else:
                    due = self.due = []
                    self.due_key = None
        self.head = head
        return threads

    def clear(self) -> None:
        self.__init__()


_EXIT_T = operator.attrgetter("exit_t")


class GetrandomProcess(FolioOwner):
    """A server (or a fork child) whose threads call getrandom().

    Its state folios follow the design: its placement for blocks it maps
    itself, and charging to RLIMIT_MEMLOCK where the design says so.
    """

    def __init__(self, sim, pid: int, name: str, kind: str, parent=None):
        super().__init__(sim, pid, name)
        self.kind = kind
        self.threads: dict[int, Thread] = {}
        # When its threads exit on their own, and when the pending wake-up
        # for them is (Simulation._exit_at).
        self.exits = ExitTimes()
        self.exit_wake_s = math.inf
        self.next_tid = 0
        self.rng = sim.streams.rng("process", pid)
        state = sim.scenario.state
        self.allocator = StateAllocator(self, state, state.page_bytes)
        self.locked_pages = 0
        rss_pages = sim.scenario.workload.process_rss_bytes // self.page_bytes
        self.heap = Area(sim, ANON, hot_fraction=sim.scenario.workload.heap_hot_fraction,
                         process=self)
        # A fork child shares its parent's heap copy-on-write: it counts in
        # the child's RSS (oom_badness) but is not charged twice.
        self.shared_rss_pages = rss_pages if parent is not None else 0
        self.heap_pages_wanted = 0 if parent is not None else rss_pages

    # Streams most fork children never draw from (a child seldom faults a
    # page back), made at their first use: each is keyed by its purpose and
    # the pid, so it draws the same numbers whenever it is made.  Making them
    # at every fork was 1% of a 100,000-thread run.
    @cached_property
    def refault_rng(self):
        return self.sim.streams.rng("refault", self.pid)

    @cached_property
    def lru_add_rng(self):
        return self.sim.streams.rng("lru_add", self.pid)

    # -- memory --------------------------------------------------------------

    def rss_pages(self) -> int:
        return (self.heap.resident_pages + self.heap.swapped_pages
                + self.shared_rss_pages + self.rss_folios(self.allocator.folios))

    def state_pages(self) -> int:
        return sum(1 for f in self.allocator.folios if f.resident)

    def fault_in_state(self, folio, now: float) -> bool:
        """First touch (or refault) of one state folio; the stall is the thread's.

        The "retry" what-if (state.droppable_fault_at_oom) never OOM-kills
        for a droppable fault: its allocation fails and is tried again.
        """
        sim = self.sim
        may_oom = not (folio.placement.reclaim == DROP
                       and sim.scenario.state.droppable_fault_at_oom == "retry")
        ok, stall_s = self.fault_in([folio], now, may_oom=may_oom)
        sim.metrics.count("state_fault_stall_s", stall_s)
        if ok:
            sim.metrics.count("state_faults")
            sim.metrics.count("cpu_fault_s",
                              sim.costs.state_fault_ns[folio.placement.mapping] * 1e-9)
        return ok

    def _swapped_in(self, folio) -> None:
        self.sim.metrics.count("state_swapins")

    def _lru_add(self, folio) -> None:
        """A state page refaulted by its threads' next call faults alone,
        so it waits in its CPU's lru_add folio_batch (mm/swap.c) until
        other folios fill the batch or something drains it: one of the
        measured waits (Costs.lru_add_wait_s, data/host/states_trace.csv,
        refaults all).  It is young from its fault on, so the first scan
        after it joins keeps it (PG_referenced); whether the second finds it
        young depends on a call falling between them.  A page's first touch,
        as threads start, joins at once: no wait of one was measured."""
        sim = self.sim
        waits, lruvec = sim.costs.lru_add_wait_s, sim.domain.lruvec
        wait_s = (waits[self.lru_add_rng.integers(len(waits))]
                  * sim.scenario.state.lru_add_wait_scale
                  if waits and folio.refault_pending else 0.0)
        if sim.folio_trace is not None and folio.refault_pending:
            self._trace_refault(folio, wait_s)
        if wait_s <= 0:
            lruvec.add(folio, folio.placement.lru)
            return
        lruvec.add_batched(folio)
        sim.after(wait_s, self._lru_add_drained, folio)

    def _lru_add_drained(self, folio, now: float) -> None:
        if folio.resident:
            self.sim.domain.lruvec.drain_batched(folio, folio.placement.lru)

    # -- the trace measure.lru_trace takes of the kernel, taken of the model --

    def _trace_refault(self, folio, wait_s: float) -> None:
        """A refault's record, as data/host/states_trace.csv has it: times
        from the start of the counted window, the page's class rate."""
        now = self.sim.env.now - self.sim.settle_s
        folio.trace = {"page": self.allocator.folios.index(folio),
                       "rate_hz": max(folio.rates) if folio.rates else 0.0,
                       "faulted_s": now, "off_lru_s": wait_s, "joined_s": now + wait_s,
                       "outcome": "end", "outcome_s": float("nan")}

    def trace_outcome(self, folio, outcome: str, now: float) -> None:
        """The traced refault ends: dropped again, or activated."""
        record, folio.trace = folio.trace, None
        record.update(outcome=outcome, outcome_s=now - self.sim.settle_s)
        self.sim.folio_trace.append(record)

    def trace_close(self) -> None:
        """Refaults still open when the run ends."""
        for folio in self.allocator.folios:
            if folio.trace is not None:
                self.sim.folio_trace.append(folio.trace)
                folio.trace = None

    def _map_block(self, placement, charged: bool, now: float):
        """mmap() one more block of states; with mlock(), lock and populate it."""
        alloc = self.allocator
        if charged:
            limit = self.sim.scenario.state.memlock_limit_bytes // self.page_bytes
            if self.locked_pages + alloc.block_pages > limit:
                self.sim.metrics.count("mlock_failures")
                return None
            self.locked_pages += alloc.block_pages
        block = alloc.grow(placement)
        if self.sim.design.populate_on_map:
            self.sim.metrics.count("cpu_mlock_s",
                                   len(block) * self.sim.costs.mlock_ns_per_page * 1e-9)
            for folio in block:
                if not self.fault_in_state(folio, now):
                    return None
        return block

    # -- threads -------------------------------------------------------------

    def _take_state(self, now: float, index: int | None):
        """glibc's vgetrandom_get_state(): the free list's last state, mapping
        a block when the list is empty; or (the harness's layouts) the state
        at `index`, mapping blocks until it exists.  None: no block."""
        alloc, design = self.allocator, self.sim.design
        while (not alloc.free if index is None
               else index >= alloc.nr_folios * alloc.per_folio):
            if self._map_block(design.placement, design.charged_to_memlock, now) is None:
                return None
        return alloc.take(index)

    def start_thread(self, now: float, rate_per_s: float, slot=None,
                     state_index: int | None = None) -> Thread | None:
        sim = self.sim
        thread = Thread(self, self.next_tid, rate_per_s, now)
        self.next_tid += 1
        self.threads[thread.tid] = thread
        sim.metrics.counters["threads_started"] += 1    # Metrics.count() less a call
        if not sim.design.uses_vdso:
            return thread
        if slot is None:
            slot = self._take_state(now, state_index)
            if slot is None:
                if self.alive:
                    sim.metrics.count("threads_syscall_fallback")
                return thread if self.alive else None
        slot.thread = thread
        thread.slot = slot
        folio = slot.folio
        folio.add_caller(rate_per_s)
        if not folio.resident:
            thread.paused = True
            if not self.fault_in_state(folio, now):
                if self.alive:
                    sim.refault_later(folio)
                return thread if self.alive else None
            # Its page-mates waiting for the page call again too.
            self.refaulted(folio, now)
        if slot.zeroed:
            self.reseed(slot)
        return thread

    def reseed(self, slot) -> None:
        """The vDSO found the state zeroed: one syscall for a new key."""
        sim = self.sim
        sim.metrics.count(f"reseeds_{slot.zeroed}")
        slot.zeroed = None
        sim.metrics.count("cpu_getrandom_s", sim.reseed_s)

    def exit_thread(self, thread: Thread, now: float) -> None:
        if not thread.alive:
            return
        thread.close(now)
        thread.alive = False
        slot = thread.slot
        if slot is not None:
            slot.folio.remove_caller(thread.rate_per_s)
            self.allocator.give_back(slot)
            thread.slot = None
        del self.threads[thread.tid]

    # -- reclaim and refault ---------------------------------------------------

    def _dropped(self, folio, now: float) -> None:
        """Reclaim dropped a state folio: every state on it reads back zero.

        Each thread holding a key now has a call ahead that will find it
        zeroed: its next one (drawn here); a thread still waiting for that
        call since an earlier drop keeps it.  No thread calls before the
        first of these, which faults the page back.
        """
        sim = self.sim
        if folio.trace is not None:
            self.trace_outcome(folio, "dropped", now)
        sim.metrics.count("state_pages_dropped")
        for slot in folio.slots:
            thread = slot.thread
            if thread is not None:
                thread.account(now)
                thread.paused = True
                if slot.zeroed is None:
                    thread.next_call_t = sim.calls.next_after(thread.rate_per_s, now,
                                                              self.refault_rng)
                    sim.metrics.count("states_dropped")
            elif slot.zeroed is None:
                sim.metrics.count("free_states_dropped")
            if slot.zeroed is None:
                slot.zeroed = "drop"
        self._refault_if_used(folio)

    def _swapped_out(self, folio, now: float) -> None:
        """Reclaim wrote a state folio to swap, keys and all."""
        sim = self.sim
        sim.metrics.count("state_pages_swapped")
        sim.metrics.count("key_bytes_swapped",
                          folio.keyed_in_use() * sim.scenario.state.state_bytes)
        for slot in folio.in_use():
            slot.thread.account(now)
            slot.thread.paused = True
        self._refault_if_used(folio)

    def _refault_if_used(self, folio) -> None:
        if folio.rate_per_s > 0:
            self.sim.refault_later(folio)

    def next_touch(self, folio, now: float) -> tuple[float, float]:
        """When the folio's threads next call, and the rate of the first of
        them, whose call faults it back."""
        calls, rng = self.sim.calls, self.refault_rng
        return min((s.thread.next_call_t if s.thread.next_call_t is not None
                    else calls.next_after(s.thread.rate_per_s, now, rng), s.thread.rate_per_s)
                   for s in folio.in_use())

    def refaulted(self, folio, now: float) -> None:
        """A call faulted the folio back in: its threads call again.  A state
        zeroed by a drop is reseeded on its own thread's next call
        (Thread.account); one never seeded (a thread that started on this
        page while it was out) on this one."""
        for slot in folio.in_use():
            thread = slot.thread
            if slot.zeroed and thread.next_call_t is None:
                self.reseed(slot)
            thread.paused = False
            thread.last_t = now

    # -- life and death --------------------------------------------------------

    def kill(self, now: float) -> None:
        self.exit(now)

    def exit(self, now: float) -> None:
        if not self.alive:
            return
        for thread in list(self.threads.values()):
            self.exit_thread(thread, now)
        self.exits.clear()
        self.alive = False
        self.unmap(self.allocator.folios)
        self.heap.release_all()
        self.locked_pages = 0


class Hog:
    """Another process whose anon memory follows a profile: steady, spikes or a leak."""
    kind = "hog"
    oom_killable = True

    def __init__(self, sim, pid: int, rng, born_t: float = 0.0):
        """`rng` draws this hog's schedule (Pressure in model.params): the
        Simulation keys it by the hog's ordinal, so the k-th hog of a run has
        the same schedule in every design (common random numbers), and every
        seed a schedule of its own."""
        self.sim, self.pid, self.name = sim, pid, "hog"
        self.page_bytes = sim.scenario.state.page_bytes
        self.alive = True
        self.born_t = born_t
        p = sim.scenario.pressure
        self.heap = Area(sim, ANON, hot_fraction=p.anon_hot_fraction, process=self)
        self.pte_pages = 0
        self.rng = rng
        # Times since born_t: the current (or next) spike, the leak's start.
        self.spike_on_s = rng.uniform(0.0, p.spike_period_s) if p.profile == "spikes" else 0.0
        self.spike_off_s = self.spike_on_s + p.spike_duration_s
        self.leak_start_s = rng.uniform(0.0, p.leak_start_max_s) if p.profile == "leak" \
            else 0.0

    def rss_pages(self) -> int:
        return self.heap.resident_pages + self.heap.swapped_pages

    def state_pages(self) -> int:
        return 0

    def target_pages(self, now: float) -> int:
        p = self.sim.scenario.pressure
        t = now - self.born_t
        if p.profile == "steady":
            target = p.anon_base_bytes
        elif p.profile == "spikes":
            target = p.anon_peak_bytes if self._in_spike(t, p) else p.anon_base_bytes
        elif p.profile == "leak":
            target = p.anon_base_bytes + p.leak_bytes_per_s * max(0.0, t - self.leak_start_s)
        else:
            target = 0
        return int(target) // self.page_bytes

    def _in_spike(self, t: float, p) -> bool:
        """Whether t (since born_t, never decreasing) falls in a spike.  Past
        a spike's end the next one is drawn: an idle gap of mean
        spike_period_s - spike_duration_s, gamma with CV spike_gap_cv."""
        if p.spike_duration_s <= 0:
            return False
        mean_gap_s = max(0.0, p.spike_period_s - p.spike_duration_s)
        while t >= self.spike_off_s:
            gap_s = mean_gap_s
            if mean_gap_s > 0 and p.spike_gap_cv > 0:
                shape = p.spike_gap_cv ** -2
                gap_s = self.rng.gamma(shape, mean_gap_s / shape)
            self.spike_on_s = self.spike_off_s + gap_s
            self.spike_off_s = self.spike_on_s + p.spike_duration_s
        return t >= self.spike_on_s

    def run(self):
        """Allocate or free toward the profile every tick; stalls delay the hog.

        Writing a page costs the hog a first-touch fault (Costs.fault_ns), so
        it grows by at most a tick's worth of faults per tick.
        """
        env, tick_s = self.sim.env, self.sim.scenario.run.tick_s
        fault_s = self.sim.costs.fault_ns[ANON.mapping] * 1e-9
        most = max(1, int(tick_s / fault_s)) if fault_s > 0 else None
        while self.alive:
            have = self.heap.resident_pages + self.heap.swapped_pages
            want = self.target_pages(env.now) - have
            if want > 0:
                want = want if most is None else min(want, most)
                ok, stall_s = self._page_tables(have + want)
                if ok:
                    ok, more_stall_s = self.heap.grow(want, fault_s)
                    stall_s += more_stall_s
                if stall_s:
                    yield env.timeout(stall_s)
                if not ok:
                    break
            elif want < 0:
                self.heap.shrink(min(-want, self.heap.resident_pages))
            yield env.timeout(tick_s)

    def _page_tables(self, pages: int) -> tuple[bool, float]:
        """One page of PTEs per 512 pages mapped: kernel memory, charged (__GFP_ACCOUNT)."""
        need = -(-pages // PAGES_PER_PTE_PAGE) - self.pte_pages
        if need <= 0:
            return True, 0.0
        ok, stall_s = self.sim.domain.charge(need, RESERVED, self)
        if ok and self.alive:
            self.pte_pages += need
        elif ok:
            self.sim.domain.uncharge(need, RESERVED)
        return ok and self.alive, stall_s

    def kill(self, now: float) -> None:
        self.alive = False
        self.heap.release_all()
        self.sim.domain.uncharge(self.pte_pages, RESERVED)
        self.pte_pages = 0
        self.sim.hog_killed(self, now)


class PageCache:
    """File pages: a hot working set that refaults when reclaimed, and used-once reads."""

    def __init__(self, sim):
        self.sim = sim
        p = sim.scenario.pressure
        page = sim.scenario.state.page_bytes
        self.hot = Area(sim, PAGE_CACHE, hot_fraction=p.file_hot_fraction)
        self.stream = Area(sim, PAGE_CACHE, hot_fraction=0.0)
        self.hot_pages = p.file_hot_bytes // page
        self.hot_refault_pages_per_s = p.file_hot_refault_bytes_per_s / page
        self.hot_carry = 0.0
        self.stream_pages_per_s = p.file_stream_bytes_per_s / page
        self.stream_batch_pages = max(1, p.file_stream_batch_bytes // page)
        self.stream_carry = 0.0

    def run(self):
        env, tick_s = self.sim.env, self.sim.scenario.run.tick_s
        while True:
            missing = self.hot_pages - self.hot.resident_pages
            if missing > 0 and self.hot_refault_pages_per_s:
                # A reader going round at its rate: what it reads back per tick.
                self.hot_carry = min(self.hot_carry + self.hot_refault_pages_per_s * tick_s,
                                     missing)
                missing = int(self.hot_carry)
                self.hot_carry -= missing
            if missing > 0:
                self.sim.metrics.count("file_refaults", missing)
                self.hot.grow(missing)
            self.stream_carry += self.stream_pages_per_s * tick_s
            pages = int(self.stream_carry)
            if pages:
                self.stream_carry -= pages
                # The reader faults its pages evenly over the tick, so the
                # reclaim they cause looks at folios at those times, not
                # all at the tick's start: a caller's young bit depends on
                # when reclaim looks, and the tick is not the kernel's.
                self.stream.grow(pages, fault_s_per_page=tick_s / pages,
                                 batch_pages=self.stream_batch_pages)
            yield env.timeout(tick_s)
