"""Every parameter of the model, with its default, unit and source, in one place.

A scenario file may set any of these and nothing else.  The unit is part of the
name.  Each default says where it comes from: a kernel or glibc source file
(docs/sources.md gives each fact its primary source), a file under data/, or
an explicit "assumption:" that the report lists so that nobody mistakes it
for a measurement.

Per-call costs are not here: they are measured, and come from data/ through
model.calibration (see Costs).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

PAGE_BYTES = 4096


# Upper bounds: what a Linux x86_64 machine can have, so that a slip of the
# keyboard (a trillion threads) is refused in one line instead of asking the
# simulator for terabytes.  Each is (value, where it comes from).  What a
# scenario within them costs the simulator is checked in model.scenario.
TASKS = (4 << 20, "PID_MAX_LIMIT on 64-bit, include/linux/threads.h")
BYTES = (1 << 52, "x86_64 MAX_PHYSMEM_BITS with 5-level paging, "
                  "arch/x86/include/asm/sparsemem.h")
FRACTION = (1.0, "a fraction")


def param(default, source: str, *, choices: tuple = (), minimum=0, maximum=None):
    """A scenario parameter: its default, where that default comes from and its bounds.

    `maximum` is None (no upper bound: a time, a rate the model aggregates)
    or (value, why).
    """
    return field(default=default,
                 metadata={"source": source, "choices": choices, "minimum": minimum,
                           "maximum": maximum})


@dataclass(frozen=True)
class Run:
    duration_s: float = param(600.0, "scenario choice", minimum=1e-3,
                              maximum=(30 * 86400.0, "a month of simulated time"))
    probe_interval_s: float = param(10.0, "scenario choice", minimum=1e-3)
    # Reclaim and pressure are stepped, not continuous: this is the step.
    tick_s: float = param(0.1, "assumption: fine against 60 s key life and kswapd wake-ups",
                          minimum=1e-4)
    # The harness's --settle-s: calls, calls_zeroed and key lives (the
    # harness's counts, model.sim.metrics) are counted from here on, in key
    # lives of state.key_life_s; the other counters cover the whole run.
    settle_s: float = param(0.0, "scenario choice: vgetrandom-harness states --settle-s")


@dataclass(frozen=True)
class Machine:
    ram_bytes: int = param(4 << 30, "scenario choice", minimum=PAGE_BYTES, maximum=BYTES)
    swap_bytes: int = param(0, "CI and developer machines here have no swap (env README)",
                           maximum=BYTES)
    # Kernel, slab, page tables and everything not modelled: never reclaimable.
    reserved_bytes: int = param(256 << 20, "assumption: kernel + unmodelled unreclaimable memory",
                               maximum=BYTES)
    # 0 asks for the kernel's own formula (mm/page_alloc.c calculate_min_free_kbytes).
    min_free_bytes: int = param(0, "mm/page_alloc.c calculate_min_free_kbytes: sqrt(lowmem_kb*16)",
                               maximum=BYTES)
    watermark_scale_factor: int = param(10, "mm/page_alloc.c: default watermark_scale_factor",
                                        minimum=1,
                                        maximum=(3000, "its sysctl's extra2, mm/page_alloc.c"))
    swappiness: int = param(60, "mm/vmscan.c: default vm_swappiness",
                           maximum=(200, "its sysctl's extra2, kernel/sysctl.c"))
    # 0: the measured value (model.calibration, from data/host/pressure.csv).
    kswapd_pages_per_s: float = param(
        0.0, "0 = measured: Costs.kswapd_pages_per_s (data/host/pressure.csv, derived)")
    scan_ns_per_page: float = param(
        0.0, "0 = measured: Costs.scan_ns_per_page (data/host/pressure.csv)")
    walk_ns_per_page: float = param(
        0.0, "0 = measured: Costs.walk_ns_per_page (data/host/pressure_walk_reclaim.csv)")


@dataclass(frozen=True)
class Memcg:
    # 0: no memory cgroup; the workload is under the machine's limits only.
    limit_bytes: int = param(0, "scenario choice", maximum=BYTES)


@dataclass(frozen=True)
class Workload:
    processes: int = param(4, "scenario choice", minimum=1, maximum=TASKS)
    threads_per_process: int = param(64, "scenario choice", maximum=TASKS)
    # 0: threads live for the whole run; otherwise exponential with this mean,
    # and arrivals keep the population steady (Little's law).
    thread_lifetime_s: float = param(0.0, "scenario choice")
    # Calls per second for each thread, drawn from (rate, weight) pairs.
    calls_per_s: tuple = param(((100.0, 1.0),), "assumption: scenario's traffic mix")
    # How a thread's calls fall in time: independent exponential gaps, or
    # every thread of a rate on the same deadlines k / rate (timers firing
    # together: a page is referenced at one instant per period).
    call_pattern: str = param("poisson", "scenario choice: vgetrandom-harness states --pattern",
                              choices=("poisson", "periodic"))
    # Which state each thread gets.  glibc: threads start in the order the
    # workload makes them, each with a rate drawn from calls_per_s, and take
    # the next state from glibc's free list (LIFO).  grouped, interleaved:
    # the harness's layouts (vgetrandom-harness states --layout): the
    # process's threads are split among the calls_per_s rates in proportion
    # to their weights (exact counts), each rate on pages of its own or
    # dealt out in turn, states_in_use_per_page to a page.
    layout: str = param("glibc", "sysdeps/unix/sysv/linux/getrandom.c (glibc 2.41); "
                        "the harness's --layout", choices=("glibc", "grouped", "interleaved"))
    # grouped and interleaved: states used per page (the harness's
    # --per-page; 0: every state the page holds).
    states_in_use_per_page: int = param(0, "scenario choice: vgetrandom-harness states "
                                        "--per-page", maximum=(1 << 16, "a 64 KiB page of "
                                                               "one-byte states"))
    request_bytes: tuple = param(((4, 1.0),), "docs/sources.md: the kernel selftest's "
                                 "bench-single and Go's crypto/rand measure 4-byte calls")
    # Memory the server process has besides getrandom states (anon).
    process_rss_bytes: int = param(64 << 20, "assumption: a modest server process", maximum=BYTES)
    # Fraction of that memory referenced between two LRU scans (it only
    # matters with swap: without it the anon lists are not scanned).
    heap_hot_fraction: float = param(1.0, "assumption: a server's own memory is its working "
                                     "set", maximum=FRACTION)
    fork_per_s: float = param(0.0, "scenario choice",
                              maximum=(1e5, "assumption: a fork() takes tens of microseconds"))
    child_threads: int = param(1, "scenario choice", maximum=TASKS)
    child_lifetime_s: float = param(10.0, "scenario choice")
    # The harness's pressure holder (model.sim.region): one process maps this
    # much memory the design's way (MAP_DROPPABLE, mlock'd, ...), writes
    # every page once, then a thread reads every page this often.  The
    # pressure hog starts when the region is written.
    region_bytes: int = param(0, "scenario choice: harness pressure --droppable-mib",
                             maximum=BYTES)
    region_touch_per_s: float = param(
        0.0, "scenario choice: harness pressure --touch hot reads every page each --hot-ms "
             "10 ms (100/s), --touch cold never (0)")

    @property
    def process_calls_per_s(self) -> float:
        """A process's getrandom() calls a second, its threads at the mix's mean rate."""
        total = sum(w for _, w in self.calls_per_s)
        return self.threads_per_process * sum(r * w for r, w in self.calls_per_s) / total


@dataclass(frozen=True)
class Pressure:
    """Other memory users: an anon hog following a profile and the page cache,
    or (profile "proactive") no hog but an agent reclaiming from the memcg."""
    profile: str = param("none", "scenario choice",
                         choices=("none", "steady", "spikes", "leak", "proactive"))
    anon_base_bytes: int = param(0, "scenario choice", maximum=BYTES)
    anon_peak_bytes: int = param(0, "scenario choice", maximum=BYTES)
    # Spikes: the mean time from one spike's start to the next.  Each hog
    # (a restart after an OOM kill is a new one) draws its own schedule from
    # the run's seed: the first spike starts uniformly within one period of
    # the hog's start, the idle gaps between spikes are gamma-distributed
    # with mean spike_period_s - spike_duration_s and this coefficient of
    # variation (0: clockwork).  model.sim.workload.Hog.
    spike_period_s: float = param(60.0, "scenario choice", minimum=1e-3)
    spike_duration_s: float = param(10.0, "scenario choice")
    spike_gap_cv: float = param(0.5, "assumption: other work spikes about, not exactly, "
                                "every period; between a timer (0) and independent "
                                "arrivals (1)")
    leak_bytes_per_s: float = param(0.0, "scenario choice", maximum=BYTES)
    # Leak: it starts uniformly within this long of the hog's start (each
    # restarted hog draws again).
    leak_start_max_s: float = param(60.0, "assumption: a leak starts within a minute of its "
                                    "process; it only spreads the leaks' timing")
    # Fraction of the hog's pages referenced between two LRU scans.
    anon_hot_fraction: float = param(0.5, "assumption: half of a hog's memory is its working set",
                                     maximum=FRACTION)
    # Page cache: a hot working set, and used-once reads that stream through
    # the inactive list and keep it moving (the usual cause of steady reclaim).
    file_hot_bytes: int = param(512 << 20, "scenario choice", maximum=BYTES)
    # Fraction of the hot page cache referenced between two LRU scans.
    file_hot_fraction: float = param(1.0, "assumption: the hot page cache is read "
                                     "between every two scans", maximum=FRACTION)
    file_stream_bytes_per_s: float = param(0.0, "scenario choice", maximum=BYTES)
    # The stream's pages past the limit are charged, and reclaimed for, this
    # many bytes at a time (0: page by page, as filemap_add_folio() charges
    # them, each failure reclaiming SWAP_CLUSTER_MAX).  A simulation step
    # for a reader of gigabytes a second: the same tail is scanned in the
    # same order, in fewer passes.
    file_stream_batch_bytes: int = param(0, "simulation step (model.sim.memory.Domain.charge)",
                                         maximum=BYTES)
    # Proactive: a TMO/senpai-style agent outside the memcg writes
    # proactive_reclaim_bytes to its memory.reclaim (cgroup v2) at
    # proactive_first_s and every proactive_period_s after, whether or not
    # memory is short (model.sim.memory.ProactiveReclaim).
    proactive_reclaim_bytes: int = param(
        4 << 20, "cgroup v2 memory.reclaim, Documentation/admin-guide/cgroup-v2.rst; "
        "data/guests/proactive-*.csv (the harness's --reclaim-mib 4)", minimum=1, maximum=BYTES)
    proactive_period_s: float = param(
        5.0, "cgroup v2 memory.reclaim, Documentation/admin-guide/cgroup-v2.rst; "
        "data/guests/proactive-*.csv (the harness's --reclaim-period-s 5)", minimum=1e-3)
    proactive_first_s: float = param(
        0.0, "data/guests/proactive-*.csv: the harness's agent writes first as it starts, "
        "after the caller and the reader, before the calls' settle_s")
    # The working set's pages that reclaim took come back at most this fast
    # (0: all at the next tick): a reader cycling through file_hot_bytes at
    # this rate reads them again as it comes round, and fills the cache from
    # empty at the start.
    file_hot_refault_bytes_per_s: float = param(
        0.0, "scenario choice: the harness's --churn-mib-s (data/guests/proactive-*.csv)",
        maximum=BYTES)
    # What happens to the hog after the OOM killer picks it.
    restart_after_oom_s: float = param(0.0, "scenario choice: 0 means it stays dead")


@dataclass(frozen=True)
class State:
    state_bytes: int = param(144, "include/vdso/getrandom.h: struct vgetrandom_state on "
                             "64-bit (the vDSO's size_of_opaque_state)", minimum=1,
                             maximum=BYTES)
    # glibc 2.41 rounds each state up to the L1 data cache line
    # (_SC_LEVEL1_DCACHE_LINESIZE): 192 B apart, 21 to a 4 KiB page on
    # x86_64.  1: packed (the harness's layout, 28 to a page).
    cache_line_bytes: int = param(64, "x86_64 L1 data cache line; glibc 2.41 "
                                  "__getrandom_early_init() (docs/sources.md)", minimum=1,
                                  maximum=(4096, "a page"))
    # Pages of states one mmap() adds: glibc 2.41 maps one page at a time
    # (vgetrandom_get_state_alloc()); its first patch and the 6.12 selftest
    # mapped ALIGN_PAGE(nprocs * size).
    pages_per_map: int = param(1, "glibc 2.41 vgetrandom_get_state_alloc() (docs/sources.md)",
                               minimum=1, maximum=(1 << 20, "assumption: a 4 GiB mapping"))
    page_bytes: int = param(PAGE_BYTES, "x86_64 base page", minimum=1,
                            maximum=(64 << 10, "the largest base page Linux has (64 KiB)"))
    key_life_s: float = param(60.0, "drivers/char/random.c: CRNG_RESEED_INTERVAL",
                              minimum=1e-3)
    memlock_limit_bytes: int = param(8 << 20, "include/uapi/linux/resource.h MLOCK_LIMIT, "
                                     "the default since 5.16 (9dcc38e2813e)", maximum=BYTES)
    # What a droppable fault does when nothing is reclaimable.  Source reading:
    # vma_alloc_folio() only adds __GFP_NOWARN, so the allocator's OOM killer
    # runs as for any fault; handle_mm_fault() then clears VM_FAULT_OOM and the
    # access is retried.  "retry" models a kernel that never kills for it.
    droppable_fault_at_oom: str = param(
        "oom-kill", "mm/mempolicy.c vma_alloc_folio(); mm/memory.c handle_mm_fault()",
        choices=("oom-kill", "retry"))
    droppable_retry_s: float = param(0.01, "assumption: one retry per scheduler tick",
                                     minimum=1e-6)
    # A faulted state page waits off the LRU in its CPU's lru_add batch for
    # one of the measured waits (Costs.lru_add_wait_s) times this.  How long
    # depends on what else the CPU runs, which a scenario does not say.
    lru_add_wait_scale: float = param(
        1.0, "assumption: the waits measured on a 2-vCPU VM under page-cache churn "
        "(data/host/states_trace.csv) hold for the scenario's machine",
        maximum=(100.0, "a hundred times the measured waits"))


SECTIONS = {"run": Run, "machine": Machine, "memcg": Memcg, "workload": Workload,
            "pressure": Pressure, "state": State}


def describe() -> list[tuple[str, object, str]]:
    """(dotted name, default, source) for every parameter, for docs and reports."""
    return [(f"{section}.{f.name}", f.default, f.metadata["source"])
            for section, cls in SECTIONS.items() for f in fields(cls)]
