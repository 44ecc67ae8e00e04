"""Replicated runs and their statistics, for the figures and the report.

Runs come from model.sweep.run_sweep when that module is present (it owns
replication, caching and parallel execution); otherwise from a plain loop
over model.simulate with the same seeding rule, so the figures never depend
on which branch was merged first.  Replication r runs with seed r for every
design: common random numbers, so design differences are paired.
"""
from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .designs import DESIGNS
from .scenario import load
from .simulation import simulate

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE


# Counters the simulation reports only once touched (model/metrics.py keeps
# them in a defaultdict): absent means zero.
COUNTERS = ("calls_vdso", "calls_syscall", "cpu_getrandom_s", "cpu_fault_s", "cpu_mlock_s",
            "reseeds_first", "reseeds_expiry", "reseeds_drop", "reseeds_fork",
            "reseed_syscalls", "states_dropped", "states_dropped_per_hour", "key_lives",
            "key_lives_dropped", "state_pages_dropped", "free_states_dropped",
            "threads_syscall_fallback", "mlock_failures", "pgscan_kswapd", "pgsteal_kswapd",
            "pgscan_direct", "pgsteal_direct", "droppable_fault_retries",
            "key_bytes_swapped", "key_bytes_dumpable", "states_shared_over_fork", "forks",
            "state_bytes_unevictable_max", "memlock_charged_bytes_max",
            "key_bytes_swappable_max", "state_bytes_resident_max")


def runs(scenario: str, designs=tuple(DESIGNS), replications: int = 5,
         overrides: dict | None = None, costs=None) -> pd.DataFrame:
    """Tidy metrics of `replications` runs per design: scenario, design, seed,
    replication, metric, value.  A counter a run never touched is 0 in it."""
    base = load(scenario)
    if overrides:
        base = base.with_overrides(overrides)
    frames = [simulate(base, d, seed=r, replication=r, costs=costs).metrics
              for r in range(replications) for d in designs]
    tidy = pd.concat(frames, ignore_index=True)
    wide = tidy.pivot_table(index=["scenario", "design", "seed", "replication"],
                            columns="metric", values="value", aggfunc="first")
    wide = wide.reindex(columns=sorted(set(wide.columns) | set(COUNTERS))).fillna(0.0)
    out = wide.stack().rename("value").reset_index()
    return out[["scenario", "design", "seed", "replication", "metric", "value"]]


def sweep_available() -> bool:
    return importlib.util.find_spec("model.sweep") is not None


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float
    ci_half: float       # half-width of the t-interval; 0 when n < 2
    stddev: float
    minimum: float
    maximum: float

    @property
    def low(self) -> float:
        return self.mean - self.ci_half

    @property
    def high(self) -> float:
        return self.mean + self.ci_half


def summarize(values) -> Summary:
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n == 0:
        return Summary(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    sd = float(x.std(ddof=1)) if n > 1 else 0.0
    half = float(stats.t.ppf(1 - ALPHA / 2, n - 1) * sd / math.sqrt(n)) if n > 1 else 0.0
    return Summary(n, float(x.mean()), half, sd, float(x.min()), float(x.max()))


def paired_p(a, b) -> float:
    """Two-sided paired t-test p-value of a against b (same seeds).

    Identical pairs are no evidence of a difference (p = 1); a constant
    non-zero difference is a certain one (p = 0): scipy returns nan for both.
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) < 2:
        return math.nan
    if np.all(d == d[0]):
        return 1.0 if d[0] == 0 else 0.0
    return float(stats.ttest_rel(a, b).pvalue)


def by_design(frame: pd.DataFrame, metric: str) -> dict:
    """{design: values ordered by replication} for one metric."""
    rows = frame[frame["metric"] == metric].sort_values("replication")
    return {d: g["value"].to_numpy() for d, g in rows.groupby("design", sort=False)}


def proportion_upper(successes: float, trials: float, confidence: float = CONFIDENCE) -> float:
    """One-sided Clopper-Pearson upper bound on a proportion.

    With no drop seen in N key lives this is about 3/N: the most that a
    run of that length can rule out, which is what Ingo's 1e-5 is tested
    against.
    """
    k, n = int(round(successes)), int(round(trials))
    if n <= 0:
        return math.nan
    if k >= n:
        return 1.0
    return float(stats.beta.ppf(confidence, k + 1, n - k))
