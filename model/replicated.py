"""Replicated runs for the figures and the report, through model.sweep.

model.sweep owns replication (common random numbers: replication r has the
same seed for every design), the run cache and parallel workers;
model.replicate owns the statistics.  This module only shapes their
answers for Q1-Q6: a sweep per scenario, and per-design views of one metric.

One exception: model.sweep always costs runs from data/host.  A what-if
(costs set by hand) runs the same seeds in a plain loop here instead, so
hand-set costs never reach the sweep's cache.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import replicate
from .scenario import load
from .sim.designs import BASELINE, DESIGNS
from .sim.simulation import simulate
from .sweep import RESULTS, SweepSpec, run_sweep

CONFIDENCE = replicate.CONFIDENCE


def spec(name: str, scenario, designs: tuple | None = None, replications: int = 5,
         overrides: dict | None = None, grid: dict | None = None) -> SweepSpec:
    """A sweep: `scenario` (a name, or a Scenario) with fixed `overrides`, a
    factorial `grid`, every point run `replications` times per design (no
    stopping rule; default: every design)."""
    base = load(scenario) if isinstance(scenario, str) else scenario
    if overrides:
        base = base.with_overrides(overrides)
    return SweepSpec(name=name, description=f"model.questions: {name}", scenario=base,
                     grid=tuple((k, tuple(v)) for k, v in (grid or {}).items()),
                     designs=tuple(designs or DESIGNS), reference=BASELINE, base_seed=0,
                     min_replications=replications, max_replications=replications,
                     batch=replications, path="model/questions.py")


def runs(sweep: SweepSpec, costs, workers: int = 1, out_root=RESULTS) -> pd.DataFrame:
    """Tidy runs: scenario, point, <grid keys>, design, replication, seed, metric,
    value; every run reports every metric."""
    grid_keys = [k for k, _ in sweep.grid]
    if not costs.what_if:
        result = run_sweep(sweep, workers=workers, out=out_root / sweep.name)
        if len(result.failures):
            first = result.failures.iloc[0]
            raise RuntimeError(f"sweep {sweep.name}: {len(result.failures)} runs failed, "
                               f"first: design {first['design']}: {first['error']}")
        frame = result.runs.drop(columns=["sweep"])
    else:
        rows = []
        for point, (overrides, scenario) in enumerate(sweep.points()):
            for rep, seed in enumerate(sweep.seeds()):
                for design in sweep.designs:
                    m = simulate(scenario, design, seed=seed, replication=rep,
                                 costs=costs).metrics
                    rows.append(m.assign(point=point, **{k: scenario.value(k)
                                                         for k in grid_keys}))
        frame = (pd.concat(rows, ignore_index=True).drop(columns=["scenario"])
                 .sort_values(["point", "design", "replication", "metric"], kind="stable",
                              ignore_index=True))
    frame.insert(0, "scenario", sweep.scenario.name)
    return frame


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float
    ci_half: float       # half-width of the 95% t-interval; 0 when degenerate
    stddev: float
    minimum: float
    maximum: float


def summarize(values) -> Summary:
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return Summary(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    mean, low, high = replicate.t_interval(x)
    half = replicate.half_width(low, high) if math.isfinite(low) else 0.0
    sd = float(x.std(ddof=1)) if x.size > 1 else 0.0
    return Summary(int(x.size), mean, half, sd, float(x.min()), float(x.max()))


def by_design(frame: pd.DataFrame, metric: str) -> dict:
    """{design: values ordered by replication} for one metric."""
    rows = frame[frame["metric"] == metric].sort_values("replication")
    return {d: g["value"].to_numpy() for d, g in rows.groupby("design", sort=False)}


def p_values(frame: pd.DataFrame, reference: str = BASELINE) -> dict:
    """{(design, metric): p} of the paired t-test against `reference`."""
    paired = replicate.paired(frame, ["scenario"], reference)
    return {(r.design, r.metric): r.p_value for r in paired.itertuples()}

