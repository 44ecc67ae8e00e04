"""What a run counts, and the tidy DataFrames it becomes.

One row per (scenario, design, seed, replication, metric), value a float;
time series from the probes in the same long form; OOM kills as events.
Counters are plain floats in a dict: calls are accounted in bulk, so most of
them grow by fractional amounts.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

KEYS = ("scenario", "design", "seed", "replication")

# Every counter a run may touch, so that every run reports the same metrics
# (a design that never drops still says states_dropped = 0).
COUNTERS = (
    "calls_vdso", "calls_syscall", "cpu_getrandom_s", "cpu_fault_s", "cpu_mlock_s",
    # What the calls' gaps added to those (model.sim.costs.GapCurve): less
    # it, the same calls and faults charged back to back.
    "cpu_after_gap_s",
    "reseeds_first", "reseeds_expiry", "reseeds_drop", "reseeds_fork",
    "key_lives", "key_lives_dropped", "states_dropped", "free_states_dropped",
    "state_pages_dropped", "state_pages_swapped", "state_swapins", "key_bytes_swapped",
    "state_faults", "state_refaults_dropped", "state_fault_stall_s", "droppable_fault_retries",
    "droppable_fault_retry_s", "threads_started", "threads_syscall_fallback",
    "mlock_failures", "forks", "file_refaults", "pgscan_kswapd", "pgsteal_kswapd",
    "pgscan_direct", "pgsteal_direct", "kswapd_cpu_s", "nr_vmscan_immediate_reclaim",
    # The harness's memcg experiment (model.sim.region); zero in other scenarios.
    "region_pages", "region_pages_dropped", "region_drop_fraction", "region_killed",
    # Writes to memory.reclaim (model.sim.memory.ProactiveReclaim), named as
    # data/guests/proactive-*.csv names them; zero in other scenarios.
    "reclaims", "reclaims_short", "reclaim_pgscan", "reclaim_pgsteal", "reclaims_dropping",
    "reclaim_state_pages_dropped",
)


class Metrics:
    def __init__(self):
        self.counters = dict.fromkeys(COUNTERS, 0.0)
        self.maxima = defaultdict(float)
        self.stalls_s: list[float] = []
        self.oom_events: list[dict] = []
        self.series: list[tuple[float, str, float]] = []
        # Per call rate, the harness's states.csv counts (calls,
        # calls_zeroed, key_lives, key_lives_dropped): {(rate, name): value}.
        self.classes = defaultdict(float)

    def count(self, name: str, amount: float = 1.0) -> None:
        # Called for every thread's start, bill and exit: the dict's own
        # KeyError is the check that the counter exists, not a lookup more.
        try:
            self.counters[name] += amount
        except KeyError:
            raise AssertionError(f"unknown counter {name}: add it to COUNTERS") from None

    def count_class(self, rate_per_s: float, name: str, amount: float = 1.0) -> None:
        """A count of the threads calling at rate_per_s; also the run's total
        where the run has a counter of that name."""
        self.classes[(rate_per_s, name)] += amount
        if name in self.counters:
            self.counters[name] += amount

    def peak(self, name: str, value: float) -> None:
        if value > self.maxima[name]:
            self.maxima[name] = value

    def allocstall(self, stall_s: float) -> None:
        self.stalls_s.append(stall_s)

    def oom_kill(self, now: float, victim, domain: str, requester) -> None:
        self.oom_events.append({
            "t_s": now, "domain": domain, "victim": victim.name,
            "victim_kind": victim.kind, "rss_bytes": victim.rss_pages() * victim.page_bytes,
            "state_bytes": victim.state_pages() * victim.page_bytes,
            "requester": getattr(requester, "name", ""),
        })

    def probe(self, now: float, values: dict) -> None:
        for name, value in values.items():
            self.series.append((now, name, float(value)))
            self.peak(f"{name}_max", value)

    def summary(self) -> dict[str, float]:
        """Every metric of the run, derived ones included."""
        out = dict(self.counters)
        out.update(self.maxima)
        stalls = np.asarray(self.stalls_s)
        out["reclaim_stalls"] = float(stalls.size)
        out["reclaim_stall_total_s"] = float(stalls.sum()) if stalls.size else 0.0
        out["reclaim_stall_p99_ms"] = (float(np.percentile(stalls, 99)) * 1e3
                                       if stalls.size else 0.0)
        kills = self.oom_events
        out["oom_kills"] = float(len(kills))
        out["oom_kills_of_state_holders"] = float(sum(1 for k in kills if k["state_bytes"]))
        out["oom_victim_state_bytes"] = float(sum(k["state_bytes"] for k in kills))
        writes = out["reclaims"]
        out["reclaim_pgsteal_mean"] = out["reclaim_pgsteal"] / writes if writes else 0.0
        lives = out.get("key_lives", 0.0)
        out["p_state_dropped_in_key_life"] = (out.get("key_lives_dropped", 0.0) / lives
                                              if lives else 0.0)
        return out


def tidy(keys: dict, values: dict[str, float]) -> pd.DataFrame:
    names = sorted(values)
    frame = pd.DataFrame({"metric": names, "value": [float(values[n]) for n in names]})
    for i, key in enumerate(KEYS):
        frame.insert(i, key, keys[key])
    return frame


def tidy_series(keys: dict, series) -> pd.DataFrame:
    frame = pd.DataFrame(series, columns=["t_s", "series", "value"])
    for i, key in enumerate(KEYS):
        frame.insert(i, key, keys[key])
    return frame


def tidy_events(keys: dict, events) -> pd.DataFrame:
    columns = ["t_s", "domain", "victim", "victim_kind", "rss_bytes", "state_bytes", "requester"]
    frame = pd.DataFrame(events, columns=columns)
    for i, key in enumerate(KEYS):
        frame.insert(i, key, keys[key])
    return frame


CLASS_COUNTS = ("calls", "calls_zeroed", "key_lives", "key_lives_dropped")


def tidy_classes(keys: dict, classes: dict) -> pd.DataFrame:
    """One row per call rate with the harness's counts (zero where none came)."""
    rates = sorted({rate for rate, _ in classes})
    frame = pd.DataFrame({"rate_hz": rates})
    for name in CLASS_COUNTS:
        frame[name] = [float(classes.get((r, name), 0.0)) for r in rates]
    for i, key in enumerate(KEYS):
        frame.insert(i, key, keys[key])
    return frame
