"""One run: a scenario, a design and a seed in; tidy DataFrames out.

Random streams are keyed by what uses them (a process's arrivals, its
refaults, reclaim's young-bit checks), never drawn from one shared generator,
so the same seed gives every design the same workload (common random
numbers) and the same scenario and seed give bit-identical results.
"""
from __future__ import annotations

import bisect
import gc
import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import designs as designs_mod
from .calls import PATTERNS
from .costs import Costs
from .environment import Environment
from .lru import Lruvec
from .memory import Domain, Kswapd, ProactiveReclaim, Swap, kernel_watermarks
from .metrics import Metrics, tidy, tidy_classes, tidy_events, tidy_series
from .placement import DROP, PLACEMENTS, RESERVED, SKIP, SWAP
from .region import Region
from ..scenario import Scenario, ScenarioError
from .states import harness_layout
from .workload import GetrandomProcess, Hog, PageCache


class Streams:
    """Independent numpy generators, one per (purpose, id), from one seed."""

    def __init__(self, seed: int):
        self.seed = seed

    def rng(self, purpose: str, *ids: int) -> np.random.Generator:
        key = (sum(ord(c) << (8 * i) for i, c in enumerate(purpose[:7])),) + ids
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed,
                                                                          spawn_key=key)))


# Result.folio_trace's columns: those of data/host/states_trace.csv's refaults.
TRACE_COLUMNS = ["page", "rate_hz", "faulted_s", "off_lru_s", "joined_s", "outcome",
                 "outcome_s"]


@dataclass
class Result:
    metrics: pd.DataFrame      # scenario, design, seed, replication, metric, value
    timeseries: pd.DataFrame   # scenario, design, seed, replication, t_s, series, value
    oom_events: pd.DataFrame   # one row per OOM kill
    classes: pd.DataFrame      # one row per call rate: the harness's states.csv counts
    # With trace_folios: one row per state-page refault, as measure.lru_trace
    # records the kernel's (data/host/states_trace.csv).
    folio_trace: pd.DataFrame | None = None


class Simulation:
    def __init__(self, scenario: Scenario, design: str, seed: int, costs: Costs,
                 check_invariants: bool = False, trace_folios: bool = False):
        self.scenario = scenario
        self.folio_trace = [] if trace_folios else None
        self.design = designs_mod.get(design)
        self.seed = seed
        self.costs = costs
        self.check_invariants = check_invariants
        self.env = Environment()
        self.streams = Streams(seed)
        self.metrics = Metrics()
        self.processes: list = []
        self.region = None
        self.next_pid = 1
        self.hogs_started = 0
        request = scenario.workload.request_bytes
        self.reseed_s = costs.reseed_ns * 1e-9
        self.calls = PATTERNS[scenario.workload.call_pattern]
        # What a call costs at each rate a thread may have: back to back, and
        # apart from it what the gap its thread slept adds (Costs.after_gap;
        # the mean over the pattern's gaps), every such extra also counted in
        # cpu_after_gap_s, so that a run says what its calls cost back to
        # back as well (Q5 gives both).  A call that finds its state dropped
        # was measured alone (idlecall's dropped mode: its own page, faulted
        # back by itself); here it is billed as a vDSO call and a reseed,
        # each with its extra (dropped_reseed_gap_s), and the call that
        # faults the page back (the first of the page's threads to call,
        # which a page-mate may be) pays the rest, refault_gap_s.  Both over
        # the gaps a drop falls in.  A process that calls as often as
        # idlecall's busy one (28,000 calls a second) pays the vDSO's and
        # the syscall's curves timed there, in the process's main thread,
        # each call timed in a function of its own (data/host/
        # idlecall_curves.csv, means over processes; README, the bullet on
        # idlecall's prices): there a syscall after a second's gap costs
        # far less than a lone thread's.  A
        # busy process's reseeds and refaults were not timed: the lone
        # curves (the refault's share of a dropped state's call is taken
        # from the lone calls it was measured beside).  A process that
        # calls less often pays the curves of the busiest process idlecall
        # timed at or below its rate (Costs.after_gap_for()): one making a
        # few hundred calls a second already pays far less for a syscall
        # after a second's gap than a lone thread does (README, the bullet
        # on the processes between).
        # A fork child is priced as the scenario's processes are.
        pattern = scenario.workload.call_pattern
        rates = [r for r, _ in scenario.workload.calls_per_s]
        process_curves = costs.after_gap_for(scenario.workload.process_calls_per_s)

        def after_gap_s(kind: str, rate: float, length_biased: bool = False,
                        lone: bool = False) -> float:
            curve = (costs.after_gap if lone else process_curves).get(kind)
            return curve.mean_over(pattern, rate, length_biased) * 1e-9 if curve else 0.0
        self.vdso_call_s, self.syscall_call_s = (costs.mean_call_ns(v, request) * 1e-9
                                                 for v in (True, False))
        self.vdso_gap_s = {r: after_gap_s("vdso", r) for r in rates}
        self.syscall_gap_s = {r: after_gap_s("syscall", r) for r in rates}
        self.reseed_gap_s = {r: after_gap_s("reseed", r) for r in rates}
        self.dropped_reseed_gap_s = {r: after_gap_s("reseed", r, True) for r in rates}
        self.refault_gap_s = {r: after_gap_s("zeroed", r, True)
                              - after_gap_s("vdso", r, True, lone=True)
                              - self.dropped_reseed_gap_s[r] for r in rates}
        # The harness's counts start after run.settle_s, in whole key lives.
        self.settle_s = scenario.run.settle_s
        self.key_life_s = scenario.state.key_life_s
        self.key_windows = max(0, math.floor((scenario.run.duration_s - self.settle_s)
                                             / self.key_life_s + 1e-9))
        self.key_windows_end_s = self.settle_s + self.key_windows * self.key_life_s
        # P(a call in a key life) by call rate, for every rate a thread may
        # have: every thread's bill and exit asks.
        self.p_call_in_key_life = {rate: self.calls.p_any_window(rate, self.key_life_s)
                                   for rate, _ in scenario.workload.calls_per_s}
        self.domain = self._make_domain()
        self._rates = [r for r, _ in scenario.workload.calls_per_s]
        self._rate_cdf = list(itertools.accumulate(w for _, w in scenario.workload.calls_per_s))

    # -- set-up ------------------------------------------------------------------

    def _make_domain(self) -> Domain:
        sc = self.scenario
        page = sc.state.page_bytes
        ram_pages = sc.machine.ram_bytes // page
        swap = Swap(sc.machine.swap_bytes // page) if sc.machine.swap_bytes else None
        lruvec = Lruvec(self.streams.rng("reclaim"))
        common = dict(swap=swap, lruvec=lruvec,
                      scan_ns_per_page=self._measured("scan_ns_per_page"),
                      walk_ns_per_page=self._measured("walk_ns_per_page"),
                      swappiness=sc.machine.swappiness, metrics=self.metrics,
                      processes=lambda: self.processes)
        reserved = sc.machine.reserved_bytes // page
        if sc.memcg.limit_bytes:
            # The container case: the memcg limit binds long before the
            # machine does, so the machine's own reclaim is not modelled.
            limit = sc.memcg.limit_bytes // page
            if limit + reserved > ram_pages:
                raise ScenarioError(f"memcg.limit_bytes = {sc.memcg.limit_bytes}: larger than "
                                    f"machine.ram_bytes less machine.reserved_bytes")
            domain = Domain(self.env, limit, None, kind="memcg", **common)
        else:
            marks = kernel_watermarks(ram_pages, page, sc.machine.min_free_bytes,
                                      sc.machine.watermark_scale_factor)
            if reserved + marks[2] >= ram_pages:
                raise ScenarioError(f"machine.reserved_bytes = {sc.machine.reserved_bytes}: "
                                    f"leaves no memory above the high watermark")
            domain = Domain(self.env, ram_pages, marks, kind="machine", **common)
            domain.reserve(reserved)
            Kswapd(self.env, domain, self._measured("kswapd_pages_per_s"), sc.run.tick_s,
                   self.metrics)
        return domain

    def _measured(self, name: str) -> float:
        """machine.NAME from the scenario, or where it is 0 the measured Costs.NAME."""
        value = getattr(self.scenario.machine, name) or getattr(self.costs, name)
        if value <= 0:
            raise ScenarioError(f"machine.{name}: no value (the scenario leaves it 0 and the "
                                f"costs have none); set it or give the cost as a what-if")
        return value

    def after(self, delay_s: float, fn, *args) -> None:
        """Call fn(*args, now) delay_s from now: a wake-up (Environment.wake_after),
        no SimPy event or process: a million thread arrivals and exits an
        hour at 100,000 threads are only calls at a time."""
        if delay_s < 0:
            raise ValueError(f"negative delay {delay_s}")
        self.env.wake_after(delay_s, fn, args)

    def _pid(self) -> int:
        pid = self.next_pid
        self.next_pid += 1
        return pid

    def _draw_rate(self, rng) -> float:
        """A thread's call rate, from the scenario's (rate, weight) mix."""
        u = rng.random() * self._rate_cdf[-1]
        return self._rates[bisect.bisect_right(self._rate_cdf, u)]

    # -- processes -------------------------------------------------------------------

    def _server(self, index: int):
        """A server process: its RSS, its threads (arriving and leaving), its forks."""
        env, wl = self.env, self.scenario.workload
        proc = GetrandomProcess(self, self._pid(), f"server{index}", "server")
        self.processes.append(proc)
        ok, stall_s = proc.heap.grow(proc.heap_pages_wanted)
        if not ok:
            return
        if wl.layout == "glibc":
            for _ in range(wl.threads_per_process):
                self._thread(proc, self._draw_rate(proc.rng), wl.thread_lifetime_s)
        else:
            for rate, index in self._harness_threads(proc):
                self._thread(proc, rate, wl.thread_lifetime_s, state_index=index)
        if wl.fork_per_s > 0:
            env.process(self._forks(proc))
        if wl.thread_lifetime_s > 0 and wl.threads_per_process > 0:
            arrival_per_s = wl.threads_per_process / wl.thread_lifetime_s
            self._arrivals(proc, 1 / arrival_per_s)
        # A SimPy process all the same: the servers start in order with the
        # hog and the page cache, as Simulation.run starts them.
        yield from ()

    def _arrivals(self, proc, mean_gap_s: float) -> None:
        """The process's next thread arrives an exponential gap from now.

        A chain of wake-ups (Environment.wake_after), not a SimPy process
        looping: resuming a generator for each of a million arrivals cost
        more than the arrivals' own work."""
        if proc.alive:
            self.env.wake_after(proc.rng.exponential(mean_gap_s), self._arrive,
                                (proc, mean_gap_s))

    def _arrive(self, proc, mean_gap_s: float, now: float) -> None:
        if proc.alive:
            self._thread(proc, self._draw_rate(proc.rng), self.scenario.workload.thread_lifetime_s)
            self._arrivals(proc, mean_gap_s)

    def _harness_threads(self, proc) -> list[tuple[float, int]]:
        """(rate, state index) per thread in the harness's layouts: each rate's
        share of the threads by its weight, placed as states_layout() does."""
        wl = self.scenario.workload
        total = sum(w for _, w in wl.calls_per_s)
        counts = [wl.threads_per_process * w / total for _, w in wl.calls_per_s]
        if any(abs(n - round(n)) > 1e-9 for n in counts):
            raise ScenarioError(f"workload.layout = {wl.layout}: the calls_per_s weights must "
                                f"split threads_per_process = {wl.threads_per_process} into "
                                f"whole numbers of threads")
        try:
            placed = harness_layout([round(n) for n in counts], proc.allocator.per_folio,
                                    wl.states_in_use_per_page, wl.layout == "interleaved")
        except ValueError as e:
            raise ScenarioError(f"workload.states_in_use_per_page: {e}") from None
        return [(wl.calls_per_s[c][0], index) for c, index in placed]

    def _thread(self, proc, rate_per_s: float, mean_life_s: float, slot=None,
                state_index: int | None = None):
        now = self.env.now
        thread = proc.start_thread(now, rate_per_s, slot, state_index)
        if thread is not None and mean_life_s > 0:
            self._exit_at(proc, thread, now + proc.rng.exponential(mean_life_s))
        return thread

    def _exit_at(self, proc, thread, t_s: float) -> None:
        """The thread exits at t_s.  The process keeps its threads' exit
        times (workload.ExitTimes) and one wake-up is pending, for the
        earliest, instead of a timeout per thread in SimPy's queue."""
        proc.exits.push(t_s, thread)
        if t_s < proc.exit_wake_s:
            proc.exit_wake_s = t_s
            self.env.wake_at(t_s, self._exits_due, (proc, t_s))

    def _exits_due(self, proc, t_s: float, now: float) -> None:
        if t_s != proc.exit_wake_s:
            return              # an earlier exit came in after this wake-up was set
        # A thread's exit changes no other thread's exit time: the due ones
        # can leave the queue together.
        for thread in proc.exits.pop_due(now):
            proc.exit_thread(thread, now)
        proc.exit_wake_s = proc.exits.earliest_s()
        if proc.exit_wake_s < math.inf:
            self.env.wake_at(proc.exit_wake_s, self._exits_due, (proc, proc.exit_wake_s))

    def _forks(self, parent):
        """fork() at exponential intervals, by a random thread of the parent.

        The times come from a stream of their own, so that they stay the
        same when anything else draws differently (common random numbers).
        """
        env, wl = self.env, self.scenario.workload
        rng = self.streams.rng("fork", parent.pid)
        while parent.alive:
            yield env.timeout(rng.exponential(1 / wl.fork_per_s))
            if parent.alive and parent.threads:
                # The k-th thread, without a list of them all at every fork.
                k = rng.integers(len(parent.threads))
                self._fork(parent, next(itertools.islice(parent.threads.values(), k, None)))

    def _fork(self, parent, forking_thread):
        """fork(): the child gets the state mapping wiped, and the design's locking."""
        wl, design = self.scenario.workload, self.design
        self.metrics.count("forks")
        child = GetrandomProcess(self, self._pid(), f"{parent.name}.child", "child",
                                 parent=parent)
        child.allocator, kept = parent.allocator.clone_for_child(
            child, design.child_placement, forking_thread.slot)
        if design.child_charged_to_memlock:
            child.locked_pages = child.allocator.nr_folios
        self.processes.append(child)
        self._thread(child, forking_thread.rate_per_s, 0.0, slot=kept)
        for _ in range(wl.child_threads - 1):
            self._thread(child, self._draw_rate(child.rng), 0.0)
        life_s = child.rng.exponential(wl.child_lifetime_s) if wl.child_lifetime_s else 0
        if life_s:
            self.after(life_s, self._reap, child)

    def _reap(self, proc, now: float):
        proc.exit(now)
        if proc in self.processes:
            self.processes.remove(proc)

    def hog_killed(self, hog, now: float):
        self.processes.remove(hog)
        restart_s = self.scenario.pressure.restart_after_oom_s
        if restart_s > 0:
            self.after(restart_s, self._start_hog)

    def _start_hog(self, now: float):
        hog = Hog(self, self._pid(), self.streams.rng("hog", self.hogs_started), born_t=now)
        self.hogs_started += 1
        self.processes.append(hog)
        self.env.process(hog.run())

    # -- refaults ------------------------------------------------------------------

    def refault_later(self, folio):
        if not folio.refault_pending:
            folio.refault_pending = True
            self.env.process(self._refault(folio))

    def _refault(self, folio):
        """The first call on a dropped or swapped folio faults it back in.

        A droppable fault that cannot get memory is retried, as the kernel
        does once it has cleared VM_FAULT_OOM: the threads on the folio wait.
        """
        proc, env = folio.owner, self.env
        retry_s = self.scenario.state.droppable_retry_s
        try:
            if folio.rate_per_s <= 0:
                return
            touch_t, rate = proc.next_touch(folio, env.now)
            yield env.timeout(max(0.0, touch_t - env.now))
            while proc.alive and not folio.resident and folio.rate_per_s > 0:
                if proc.fault_in_state(folio, env.now):
                    if folio.placement.reclaim == DROP:
                        self.metrics.count("state_refaults_dropped")
                        self.metrics.count("cpu_fault_s", self.refault_gap_s[rate])
                        self.metrics.count("cpu_after_gap_s", self.refault_gap_s[rate])
                    proc.refaulted(folio, env.now)
                    return
                if not proc.alive:
                    return
                self.metrics.count("droppable_fault_retries")
                self.metrics.count("droppable_fault_retry_s", retry_s)
                yield env.timeout(retry_s)
        finally:
            folio.refault_pending = False

    # -- probes and invariants ---------------------------------------------------------

    def _probe(self):
        while True:
            self.metrics.probe(self.env.now, self.snapshot())
            if self.check_invariants:
                self.assert_invariants()
            yield self.env.timeout(self.scenario.run.probe_interval_s)

    def state_folios(self):
        for proc in self.processes:
            if isinstance(proc, GetrandomProcess):
                yield from proc.allocator.folios

    def snapshot(self) -> dict:
        page = self.scenario.state.page_bytes
        state_bytes = self.scenario.state.state_bytes
        domain = self.domain
        resident = unevictable = keyed_swappable = zeroed_in_use = 0
        for folio in self.state_folios():
            if folio.resident:
                resident += 1
                reclaim = folio.placement.reclaim
                unevictable += reclaim == SKIP
                if reclaim == SWAP:
                    keyed_swappable += folio.keyed_in_use()
            # zeroed first: most states are keyed, or free.
            zeroed_in_use += len([s for s in folio.slots
                                  if s.zeroed is not None and s.thread is not None])
        servers = [p for p in self.processes if isinstance(p, GetrandomProcess)]
        return {
            "free_bytes": domain.free_pages * page,
            **{f"{pool}_bytes": n * page for pool, n in domain.pools.items()},
            "swap_used_bytes": domain.swap.used_pages * page if domain.swap else 0,
            "state_bytes_resident": resident * page,
            "state_bytes_unevictable": unevictable * page,
            "memlock_charged_bytes": sum(p.locked_pages for p in servers) * page,
            "key_bytes_swappable": keyed_swappable * state_bytes,
            "states_zeroed_in_use": zeroed_in_use,
            "threads": sum(len(p.threads) for p in servers),
        }

    def assert_invariants(self):
        """What must hold at every step; raises AssertionError naming the breach."""
        domain = self.domain
        assert all(n >= 0 for n in domain.pools.values()), domain.pools
        assert domain.free_pages >= 0, f"free pages {domain.free_pages} < 0"
        used = sum(domain.pools.values())
        on_lru = sum(lst.pages for lst in domain.lruvec.lists.values()) + domain.lruvec.batched
        off_lru = {RESERVED} | {p.pool for p in PLACEMENTS if p.lru is None}
        expected = used - sum(domain.pools[pool] for pool in off_lru)
        assert on_lru == expected, f"LRU holds {on_lru} pages, pools say {expected}"
        assert domain.used_pages == used, f"used_pages {domain.used_pages}, pools sum to {used}"
        limit = self.scenario.state.memlock_limit_bytes // self.scenario.state.page_bytes
        for proc in self.processes:
            if isinstance(proc, GetrandomProcess):
                assert proc.locked_pages <= limit or proc.kind == "child", \
                    f"{proc.name}: {proc.locked_pages} locked pages over RLIMIT_MEMLOCK"
                for thread in proc.threads.values():
                    if thread.slot is not None and thread.slot.zeroed and not thread.paused \
                            and thread.next_call_t is None:
                        raise AssertionError(f"{proc.name}/{thread.tid} runs on a zeroed state "
                                             f"and no call of its is to reseed it")
                    if thread.paused and thread.slot is not None and thread.slot.folio.resident:
                        raise AssertionError(f"{proc.name}/{thread.tid} waits for a state page "
                                             f"that is in memory")

    # -- the run ---------------------------------------------------------------------

    def run(self, replication: int = 0) -> Result:
        sc, env = self.scenario, self.env
        for index in range(sc.workload.processes):
            env.process(self._server(index))
        hog_start_s = 0.0
        if sc.workload.region_bytes:
            self.region = Region(self, self._pid())
            self.processes.append(self.region)
            hog_start_s = self.region.write(env.now)
        if sc.pressure.profile == "proactive":
            p, page = sc.pressure, sc.state.page_bytes
            env.process(ProactiveReclaim(env, self.domain, p.proactive_reclaim_bytes // page,
                                         p.proactive_period_s, p.proactive_first_s,
                                         self.settle_s, self.metrics).run())
        elif sc.pressure.profile != "none":
            if hog_start_s > 0:
                self.after(hog_start_s, self._start_hog)
            else:
                self._start_hog(0.0)
        if sc.pressure.file_hot_bytes or sc.pressure.file_stream_bytes_per_s:
            env.process(PageCache(self).run())
        env.process(self._probe())
        env.run(until=sc.run.duration_s)
        end = env.now
        for proc in self.processes:
            if isinstance(proc, GetrandomProcess):
                for thread in proc.threads.values():
                    thread.close(end)
        self.metrics.probe(end, self.snapshot())
        if self.check_invariants:
            self.assert_invariants()
        keys = {"scenario": sc.name, "design": self.design.name, "seed": self.seed,
                "replication": replication}
        if self.region is not None:
            self.region.report(self.metrics)
        values = self.metrics.summary()
        values.update(self._derived(values))
        trace = None
        if self.folio_trace is not None:
            for proc in self.processes:
                if isinstance(proc, GetrandomProcess):
                    proc.trace_close()
            trace = pd.DataFrame(self.folio_trace, columns=TRACE_COLUMNS)
        return Result(tidy(keys, values), tidy_series(keys, self.metrics.series),
                      tidy_events(keys, self.metrics.oom_events),
                      tidy_classes(keys, self.metrics.classes), trace)

    def dismantle(self) -> None:
        """Drop the finished run's own references, so that reference counting
        frees most of it rather than the cyclic collector: every pending
        event refers to the environment that queues it, and every thread to
        its process that lists it.  At 100,000 threads that collection took
        about 2 s; this leaves a tenth of the objects to it."""
        self.env.clear()
        for proc in self.processes:
            if isinstance(proc, GetrandomProcess):
                proc.threads.clear()
                proc.exits.clear()
        self.processes.clear()

    def _derived(self, values: dict) -> dict:
        """Q4 and time-averaged figures computed from the design and the probes."""
        series = pd.DataFrame(self.metrics.series, columns=["t_s", "series", "value"])
        means = series.groupby("series")["value"].mean()
        hours = self.scenario.run.duration_s / 3600
        return {
            "state_bytes_resident_mean": float(means.get("state_bytes_resident", 0.0)),
            "state_bytes_unevictable_mean": float(means.get("state_bytes_unevictable", 0.0)),
            "states_dropped_per_hour": values.get("states_dropped", 0.0) / hours,
            "reseed_syscalls": sum(values.get(f"reseeds_{c}", 0.0)
                                   for c in ("first", "expiry", "drop", "fork")),
            "key_bytes_dumpable": 0.0 if self.design.dontdump else values.get(
                "key_bytes_swappable_max", 0.0),
            # Without wipe-on-fork a child would reuse its parent's batch.
            "states_shared_over_fork": 0.0 if self.design.wipe_on_fork else values.get(
                "forks", 0.0),
            "what_if_costs": float(self.costs.what_if),
        }


def simulate(scenario: Scenario, design: str, seed: int = 0, replication: int = 0,
             costs: Costs | None = None, check_invariants: bool = False,
             trace_folios: bool = False) -> Result:
    """Run one scenario for one design; the same arguments give the same frames.

    `trace_folios`: also record every state-page refault (Result.folio_trace);
    it draws no random number, so the other frames are the same."""
    if costs is None:
        from ..calibration import load_costs
        costs = load_costs()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed(={seed!r}) must be a non-negative integer")
    # The cyclic garbage collector is off for the run: a full collection walks
    # every live thread, state slot, folio and pending timeout, and a run with
    # 100,000 threads spent a third of its CPU time there (bench/model_bench.py).
    # The run's objects are freed by reference counting as they die; what
    # lives in cycles (a reaped fork child with its state pool, about 6 KB:
    # fork-server for an hour peaks at 183 MiB instead of 142 MiB) waits for
    # the collector to be back on.
    enabled = gc.isenabled()
    gc.disable()
    sim = Simulation(scenario, design, int(seed), costs, check_invariants, trace_folios)
    try:
        return sim.run(replication)
    finally:
        sim.dismantle()
        if enabled:
            gc.enable()


__all__ = ["simulate", "Simulation", "Result", "Streams"]
