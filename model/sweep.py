"""Sweeps: a grid of scenarios x designs x replications, with confidence intervals.

    python -m model sweep SWEEP.toml [--workers N] [--dask ADDRESS] [--out DIR]
                                     [--no-progress]

A sweep file names a base scenario, fixed overrides, a factorial grid of
dotted parameters, the designs, and how many replications to run:

    [sweep]
    name = "q3-pressure"              # default: the file's stem
    scenario = "server"               # a name from model/scenarios/, or a path
                                      # (relative to this file) ending in .toml
    designs = ["syscall", "droppable", "mlock"]     # default: every design
    reference = "droppable"           # paired differences are design - reference
                                      # (default: the baseline, model.sim.designs)
    base_seed = 0

    [overrides]                       # applied to every grid point
    "run.duration_s" = 300

    [grid]                            # every combination is one grid point
    "pressure.file_stream_bytes_per_s" = ["0 MiB", "64 MiB", "256 MiB"]

    [replications]
    min = 10                          # first batch at every grid point
    max = 30
    batch = 10                        # added while the rule is not met (default: min)
    metric = "states_dropped_per_hour"
    relative_half_width = 0.05        # or absolute_half_width = 100.0

Common random numbers: replication r runs on seed
SeedSequence(base_seed).generate_state(max)[r] for every design and every grid
point, and the model keys its random streams by purpose, so designs are
compared on the same workload.  The stopping rule is decided per grid point
after each batch, from that point's runs alone: the next batch runs unless
every design's 95% CI half-width on `metric` is within the target.  Because
the decision depends on the runs and not on their timing, the set of runs,
and every number, is the same for 1 worker, N workers or a Dask cluster.

Python API (what the notebooks use):

    from model.sweep import load_spec, run_sweep
    spec = load_spec("model/sweeps/q3-pressure.toml")     # or "q3-pressure";
                                                           # SweepError if bad
    result = run_sweep(spec, workers=2)                    # or a path or name
    result.runs       # point, <grid keys>, design, replication, seed, metric, value
    result.summary    # per point, design, metric: n, n_failed, mean, sd, ci_low,
                      #   ci_high, half_width, ci_method ("t" or "bootstrap")
    result.paired     # per point, design, metric: design - reference, paired
                      #   t CI, relative_diff, p_value
    result.points     # per point: grid values, replications, why it stopped
                      #   ("ci", "ci at max", "max", "fixed"), runs_failed
    result.failures   # one row per failed run, with its error

Every frame starts with a `sweep` column and has one column per grid key,
holding the value as the model sees it (sizes in bytes), sorted by point,
design (in the file's order), replication and metric.  workers=1 runs in this
process; workers=N uses N local processes; dask_address a running
dask.distributed scheduler (tcp://host:port) whose workers can import model.

run_sweep(spec_or_path, workers=1, dask_address=None, out=None, progress=True,
cache=True, on_run=None): `out` defaults to results/sweeps/<name>/; finished
runs are cached in out/cache/ (see model.runcache), so calling it again, or
rerunning an interrupted sweep, redoes nothing finished.  `progress` is a
bar on a terminal, a line every 30 s elsewhere (model.progress).  The CSVs
(runs, summary, paired, points, failures) and sweep.json are written
atomically at the end.  A failed run is reported on stderr with its
parameters, left out of the statistics and counted in summary.n_failed; it
does not stop the sweep, but the CLI then exits 1.
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import atomic, replicate, runcache, workers as workers_mod
from .cliexit import check_out, exit_status
from .progress import Progress
from .calibration import load_costs
from .sim.designs import BASELINE, DESIGNS
from .sim.placement import DROP
from .scenario import Scenario, ScenarioError, load, read_toml

RESULTS = Path("results") / "sweeps"
SWEEP_DIR = Path(__file__).parent / "sweeps"
RUN_KEYS = ["point", "design", "replication", "seed"]
# Ingo's claim, "99.999% of cases won't ever be dropped": P(a state is
# dropped within its key life) against 1e-5, over replications.
RARE_EVENT = ("p_state_dropped_in_key_life", "key_lives")
RARE_TARGET = 1e-5


class SweepError(ValueError):
    """A sweep that cannot run; str() is the one-line message."""


@dataclass(frozen=True)
class SweepSpec:
    name: str
    description: str
    scenario: Scenario                 # base scenario, fixed overrides applied
    grid: tuple                        # ((dotted key, (values...)), ...)
    designs: tuple
    reference: str
    base_seed: int
    min_replications: int
    max_replications: int
    batch: int
    metric: str | None = None          # stopping rule; None: always max
    half_width: float = 0.0
    relative: bool = True
    path: str = ""

    def points(self) -> list[tuple[dict, Scenario]]:
        """(overrides, scenario) for every grid combination, first key slowest."""
        keys = [k for k, _ in self.grid]
        combos = itertools.product(*(values for _, values in self.grid))
        out = []
        for combo in combos:
            overrides = dict(zip(keys, combo))
            out.append((overrides, self.scenario.with_overrides(overrides)))
        return out

    def seeds(self) -> list[int]:
        """Replication r's seed, the same for every design and grid point."""
        state = np.random.SeedSequence(self.base_seed).generate_state(self.max_replications)
        return [int(s) for s in state]


@dataclass
class SweepResult:
    spec: SweepSpec
    runs: pd.DataFrame
    summary: pd.DataFrame
    paired: pd.DataFrame
    points: pd.DataFrame
    failures: pd.DataFrame
    out: Path | None
    model_version: str
    cache_hits: int = 0
    executed: int = 0
    wall_s: float = 0.0
    extra: dict = field(default_factory=dict)


# -- the sweep file ------------------------------------------------------------------

_SECTIONS = {
    "sweep": {"name", "description", "scenario", "designs", "reference", "base_seed"},
    "overrides": None, "grid": None,
    "replications": {"min", "max", "batch", "metric", "relative_half_width",
                     "absolute_half_width"},
}


def load_spec(path: str | Path) -> SweepSpec:
    """Read and check a sweep file; every problem is a one-line SweepError."""
    path = Path(path)
    if not path.exists() and not path.suffix and (SWEEP_DIR / f"{path}.toml").exists():
        path = SWEEP_DIR / f"{path}.toml"
    raw = read_toml(path, SweepError, "no such sweep file")
    try:
        return _spec_from_dict(raw, path)
    except ScenarioError as e:
        raise SweepError(f"{path}: {e}") from None


def _spec_from_dict(raw: dict, path: Path) -> SweepSpec:
    where = str(path)
    for section, body in raw.items():
        if section not in _SECTIONS:
            raise SweepError(f"{where}: unknown section [{section}] "
                             f"(known: {', '.join(_SECTIONS)})")
        if not isinstance(body, dict):
            raise SweepError(f"{where}: [{section}] must be a table")
        allowed = _SECTIONS[section]
        if allowed is not None and set(body) - allowed:
            raise SweepError(f"{where}: unknown key '{section}.{sorted(set(body) - allowed)[0]}'")
    head = raw.get("sweep", {})
    name = str(head.get("name", path.stem))
    base = _base_scenario(head.get("scenario"), path)
    overrides = _flatten(raw.get("overrides", {}))
    try:
        base = base.with_overrides(overrides) if overrides else base
    except ScenarioError as e:
        raise SweepError(f"{where}: [overrides] {e}") from None
    grid = []
    for key, values in _flatten(raw.get("grid", {})).items():
        if not isinstance(values, list):
            raise SweepError(f"{where}: grid '{key}': expected a list of values, got {values!r}")
        if not values:
            raise SweepError(f"{where}: grid '{key}': empty range")
        for value in values:
            try:
                base.with_overrides({key: value})
            except ScenarioError as e:
                raise SweepError(f"{where}: grid: {e}") from None
        grid.append((key, tuple(values)))
    designs = head.get("designs", list(DESIGNS))
    if not isinstance(designs, list) or not designs:
        raise SweepError(f"{where}: sweep.designs: expected a non-empty list of designs")
    for d in designs:
        if d not in DESIGNS:
            raise SweepError(f"{where}: sweep.designs: unknown design '{d}' "
                             f"(known: {', '.join(DESIGNS)})")
    if len(set(designs)) != len(designs):
        raise SweepError(f"{where}: sweep.designs: a design is listed twice")
    reference = head.get("reference", BASELINE if BASELINE in designs else designs[0])
    if reference not in designs:
        raise SweepError(f"{where}: sweep.reference = {reference!r}: not one of sweep.designs")
    base_seed = head.get("base_seed", 0)
    if isinstance(base_seed, bool) or not isinstance(base_seed, int) or base_seed < 0:
        raise SweepError(f"{where}: sweep.base_seed = {base_seed!r}: expected an integer >= 0")
    reps = raw.get("replications", {})
    lo = _count(where, "replications.min", reps.get("min", 1), 1)
    hi = _count(where, "replications.max", reps.get("max", lo), lo)
    batch = _count(where, "replications.batch", reps.get("batch", lo), 1)
    metric = reps.get("metric")
    rel, absolute = reps.get("relative_half_width"), reps.get("absolute_half_width")
    if metric is not None:
        if not isinstance(metric, str) or not metric:
            raise SweepError(f"{where}: replications.metric = {metric!r}: expected a metric name")
        if (rel is None) == (absolute is None):
            raise SweepError(f"{where}: replications: give one of relative_half_width "
                             f"and absolute_half_width with metric")
        if lo < 2:
            raise SweepError(f"{where}: replications.min = {lo}: a stopping rule needs >= 2")
    elif rel is not None or absolute is not None:
        raise SweepError(f"{where}: replications: a half-width needs replications.metric")
    target = rel if rel is not None else absolute
    if target is not None and (isinstance(target, bool) or not isinstance(target, (int, float))
                               or not target > 0):
        raise SweepError(f"{where}: replications half-width = {target!r}: expected a number > 0")
    return SweepSpec(name=name, description=str(head.get("description", "")), scenario=base,
                     grid=tuple(grid), designs=tuple(designs), reference=reference,
                     base_seed=base_seed, min_replications=lo, max_replications=hi,
                     batch=batch, metric=metric, half_width=float(target or 0.0),
                     relative=rel is not None, path=str(path))


def _base_scenario(name, path: Path) -> Scenario:
    if not isinstance(name, str) or not name:
        raise SweepError(f"{path}: sweep.scenario: expected a scenario name or a .toml path")
    if name.endswith(".toml"):
        return load(path.parent / name)
    return load(name)


def _flatten(table: dict, prefix: str = "") -> dict:
    """{"pressure": {"x": [..]}} and {"pressure.x": [..]} both give {"pressure.x": [..]}."""
    flat = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def _count(where: str, name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SweepError(f"{where}: {name} = {value!r}: expected an integer >= {minimum}")
    return value


# -- running it ------------------------------------------------------------------------

def run_sweep(spec_or_path, workers: int = 1, dask_address: str | None = None,
              out: str | Path | None = None, progress: bool = True, cache: bool = True,
              on_run=None) -> SweepResult:
    """Run (or resume) a sweep and write its CSVs; see the module docstring.

    on_run(task, outcome, from_cache) is called after every run, in the
    parent process: tests use it to interrupt a sweep midway.
    """
    spec = spec_or_path if isinstance(spec_or_path, SweepSpec) else load_spec(spec_or_path)
    if workers < 1:
        raise SweepError(f"--workers {workers}: must be >= 1")
    if workers > workers_mod.max_workers():
        print(f"note: --workers {workers} capped at {workers_mod.max_workers()} "
              f"({workers_mod.MAX_WORKERS_PER_CPU} per CPU, {os.cpu_count()} CPUs)",
              file=sys.stderr)
        workers = workers_mod.max_workers()
    started = time.perf_counter()
    out = check_out(out if out is not None else RESULTS / spec.name)
    costs = load_costs()
    version = runcache.model_version(costs)
    store = runcache.RunCache(out / "cache") if cache else None
    points = spec.points()
    seeds = spec.seeds()
    grid_keys = [k for k, _ in spec.grid]

    outcomes: dict[tuple, dict] = {}      # (point, design, replication) -> outcome
    planned = [0] * len(points)           # replications scheduled per point
    outstanding = [0] * len(points)
    stopped = [""] * len(points)
    counts = {"cache_hits": 0, "executed": 0}
    engine = workers_mod.backend(workers, dask_address)
    # Every point's first batch is known now; later batches grow the total.
    bar = Progress(len(points) * spec.min_replications * len(spec.designs), spec.name, "runs",
                   enabled=progress)

    def describe(task) -> str:
        values = ", ".join(f"{k}={v!r}" for k, v in points[task.point][0].items())
        return (f"{spec.name} point {task.point} ({values or 'base'}) design {task.design} "
                f"replication {task.replication} seed {task.seed}")

    def record(task, outcome, from_cache: bool) -> None:
        outcomes[(task.point, task.design, task.replication)] = outcome
        if "error" in outcome:
            bar.write(f"run failed: {describe(task)}: {outcome['error']}")
        elif store is not None and not from_cache:
            store.put(task.key, outcome["metrics"],
                      {"sweep": spec.name, "point": points[task.point][0],
                       "design": task.design, "replication": task.replication,
                       "seed": task.seed, "model_version": version})
        bar.update()
        if on_run is not None:
            on_run(task, outcome, from_cache)

    def schedule(point: int, n: int) -> None:
        reps = range(planned[point], min(planned[point] + n, spec.max_replications))
        if reps.start >= spec.min_replications:
            bar.grow(len(reps) * len(spec.designs))
        planned[point] = reps.stop
        scenario = points[point][1]
        for rep in reps:
            for design in spec.designs:
                key = runcache.run_key(scenario, design, seeds[rep], rep, version)
                task = workers_mod.Task(point, design, rep, seeds[rep], scenario, costs, key)
                hit = store.get(key) if store is not None else None
                if hit is not None:
                    counts["cache_hits"] += 1
                    record(task, {"metrics": hit}, True)
                else:
                    outstanding[point] += 1
                    engine.submit(task)

    def advance(point: int) -> None:
        """After a batch: stop the point, or schedule the next batch."""
        while outstanding[point] == 0 and not stopped[point]:
            if _tight(spec, point, planned[point], outcomes):
                stopped[point] = "ci" if planned[point] < spec.max_replications else "ci at max"
            elif planned[point] >= spec.max_replications:
                stopped[point] = "max" if spec.metric else "fixed"
            else:
                schedule(point, spec.batch)

    try:
        for point in range(len(points)):
            schedule(point, spec.min_replications)
        for point in range(len(points)):
            advance(point)
        while engine.pending():
            task, outcome = engine.next_done()
            outstanding[task.point] -= 1
            counts["executed"] += 1
            record(task, outcome, False)
            advance(task.point)
    finally:
        engine.close()
        bar.close()

    result = _finish(spec, points, grid_keys, outcomes, planned, stopped, out, version,
                     counts, time.perf_counter() - started)
    result.extra["workers"] = None if dask_address else workers
    return result


def _values(point: int, design: str, n: int, outcomes: dict, metric: str) -> list[float]:
    """The first n replications' values of one metric; failed runs are left out."""
    out = []
    for rep in range(n):
        outcome = outcomes.get((point, design, rep), {})
        if "metrics" in outcome:
            out.append(outcome["metrics"].get(metric, 0.0))
    return out


def _tight(spec: SweepSpec, point: int, n: int, outcomes: dict) -> bool:
    if spec.metric is None:
        return False
    return all(replicate.tight_enough(spec.metric,
                                      _values(point, d, n, outcomes, spec.metric),
                                      spec.half_width, spec.relative)
               for d in spec.designs)


def _finish(spec, points, grid_keys, outcomes, planned, stopped, out, version, counts,
            wall_s) -> SweepResult:
    rows, failures = [], []
    seeds = spec.seeds()
    for (point, design, rep), outcome in outcomes.items():
        if "metrics" in outcome:
            rows.extend((point, design, rep, seeds[rep], m, v)
                        for m, v in outcome["metrics"].items())
        else:
            failures.append((point, design, rep, seeds[rep], outcome["error"]))
    runs = pd.DataFrame(rows, columns=RUN_KEYS + ["metric", "value"])
    # Sorted before any statistics, so that sums run in the same order
    # whatever order the workers finished in.
    runs = runs.sort_values(RUN_KEYS + ["metric"], kind="stable", ignore_index=True)
    grid = pd.DataFrame([{"point": i, **{k: _cell(sc.value(k)) for k in grid_keys}}
                         for i, (_, sc) in enumerate(points)])
    design_order = {d: i for i, d in enumerate(spec.designs)}

    def tidy(frame: pd.DataFrame, sort: list[str]) -> pd.DataFrame:
        frame = grid.merge(frame, on="point", how="right")
        frame.insert(0, "sweep", spec.name)
        keys = [frame[c].map(design_order) if c == "design" else frame[c] for c in sort]
        order = np.lexsort([k.to_numpy() for k in reversed(keys)]) if len(frame) else []
        return frame.iloc[order].reset_index(drop=True)

    failed = pd.DataFrame(failures, columns=RUN_KEYS + ["error"])
    summary = replicate.summarize(runs, ["point", "design"]) if len(runs) else \
        pd.DataFrame(columns=["point", "design", "metric", "n"])
    n_failed = failed.groupby(["point", "design"]).size().rename("n_failed").reset_index()
    summary = summary.merge(n_failed, on=["point", "design"], how="left")
    summary["n_failed"] = summary["n_failed"].fillna(0).astype(int)
    cols = list(summary.columns)
    cols.insert(cols.index("n") + 1, cols.pop(cols.index("n_failed")))
    summary = summary[cols]
    paired = replicate.paired(runs, ["point"], spec.reference)
    failed_per_point = failed.groupby("point").size()
    point_rows = pd.DataFrame({"point": range(len(points)), "replications": planned,
                               "stopped": stopped,
                               "runs_failed": [int(failed_per_point.get(i, 0))
                                               for i in range(len(points))]})

    result = SweepResult(
        spec=spec,
        runs=tidy(runs, ["point", "design", "replication", "metric"]),
        summary=tidy(summary, ["point", "design", "metric"]),
        paired=tidy(paired, ["point", "design", "metric"]),
        points=tidy(point_rows, ["point"]),
        failures=tidy(failed, ["point", "design", "replication"]),
        out=out, model_version=version, cache_hits=counts["cache_hits"],
        executed=counts["executed"], wall_s=wall_s)
    _write(result)
    return result


def _cell(value):
    """A grid value as a CSV cell: numbers stay numbers, distributions become text."""
    return value if isinstance(value, (int, float, str)) else json.dumps(value)


def _write(result: SweepResult) -> None:
    out, spec = result.out, result.spec
    for name in ("runs", "summary", "paired", "points", "failures"):
        atomic.write_csv(out / f"{name}.csv", getattr(result, name))
    about = {
        "sweep": spec.name, "description": spec.description, "spec": spec.path,
        "scenario": spec.scenario.name, "fixed_overrides": dict(spec.scenario.overrides),
        "grid": {k: list(v) for k, v in spec.grid}, "designs": list(spec.designs),
        "reference": spec.reference, "base_seed": spec.base_seed,
        "replications": {"min": spec.min_replications, "max": spec.max_replications,
                         "batch": spec.batch, "metric": spec.metric,
                         "half_width": spec.half_width, "relative": spec.relative},
        "model_version": result.model_version, "runs_ok": int(result.runs[RUN_KEYS]
                                                              .drop_duplicates().shape[0]),
        "runs_failed": len(result.failures), "cache_hits": result.cache_hits,
        "executed": result.executed, "wall_s": round(result.wall_s, 3),
    }
    atomic.write_text(out / "sweep.json", json.dumps(about, indent=2, default=repr) + "\n")


# -- the command -------------------------------------------------------------------------

def headline(result: SweepResult, metric: str | None = None) -> str:
    """The primary metric per grid point and design, mean [95% CI], as text."""
    spec = result.spec
    metric = metric or spec.metric or "states_dropped_per_hour"
    rows = result.summary[result.summary["metric"] == metric]
    grid_keys = [k for k, _ in spec.grid]
    lines = [f"{spec.name}: {metric}, mean [95% CI] over replications"]
    labels = {k: _grid_labels(k, rows[k].unique()) for k in grid_keys}
    for point, group in rows.groupby("point", sort=True):
        first = group.iloc[0]
        label = ", ".join(f"{k}={labels[k][first[k]]}" for k in grid_keys) or "base"
        lines.append(f"  point {point}: {label}")
        for _, r in group.iterrows():
            lines.append(f"    {r['design']:<14} {_num(r['mean']):>12} "
                         f"[{_num(r['ci_low'])}, {_num(r['ci_high'])}]  n={r['n']}"
                         + (f" failed={r['n_failed']}" if r["n_failed"] else ""))
    return "\n".join(lines)


def rare_event_text(result: SweepResult) -> str:
    """Per grid point, each design that can drop a state: P(dropped within
    its key life) with its interval over replications (model.replicate.
    rare_event), and, where no replication dropped one, what bounding P
    below 1e-5 would take in replications, key lives and CPU time (this
    sweep's own CPU seconds per run; none where every run came from cache)."""
    spec, runs = result.spec, result.runs
    dropping = [d for d in spec.designs if DESIGNS[d].placement.reclaim == DROP]
    if not dropping or not set(RARE_EVENT) <= set(runs["metric"]):
        return ""
    table = replicate.rare_events(runs[runs["design"].isin(dropping)], ["point", "design"],
                                  *RARE_EVENT, RARE_TARGET)
    workers = result.extra.get("workers")
    cpu_s = (result.wall_s * workers / result.executed
             if workers and result.executed else None)
    grid_keys = [k for k, _ in spec.grid]
    points = result.points.set_index("point")
    labels = {k: _grid_labels(k, points[k].unique()) for k in grid_keys}
    lines = [f"{spec.name}: P(state dropped within its key life) against {RARE_TARGET:g}, "
             "over replications (the independent units: key lives within one share its "
             "spikes and are never counted as trials)"]
    for point, group in table.groupby("point", sort=True):
        label = ", ".join(f"{k}={labels[k][points.loc[point, k]]}" for k in grid_keys)
        lines.append(f"  point {point}: {label or 'base'}")
        for r in group.itertuples():
            head = f"    {r.design:<16}"
            if r.units_with_event:
                lines.append(head + f"P = {_num(r.p_mean)} [{_num(r.p_low)}, "
                             f"{_num(r.p_high)}] (bootstrap over {r.units} replications, "
                             f"{r.units_with_event} with a drop): " + {
                                 "above": f"above {RARE_TARGET:g}",
                                 "bounded": f"bounded below {RARE_TARGET:g}"}.get(
                                     r.verdict, f"interval reaches {RARE_TARGET:g}"))
                continue
            text = (f"no drop in {r.units} replications ({r.key_lives:,.0f} key lives): "
                    f"P < {_num(r.upper95)} (one-sided 95%, Clopper-Pearson over "
                    "replications)")
            if r.verdict == "bounded":
                lines.append(head + text + f": bounded below {RARE_TARGET:g}")
                continue
            hours = r.units_needed * cpu_s / 3600 if cpu_s else None
            cost = (f", about {hours:,.0f} CPU-hours" if hours and hours >= 10 else
                    f", about {hours:.2g} CPU-hours" if hours else "")
            cost += (f" at this sweep's {cpu_s:.2g} s per run per worker, an upper bound "
                     "where the CPUs were shared" if cpu_s else "")
            lines.append(head + text + f";\n{'':20}bounding it below {RARE_TARGET:g} takes "
                         f"{int(r.units_needed):,} replications without a drop "
                         f"({r.key_lives_needed:,.0f} key lives simulated{cost})")
    return "\n".join(lines)


def _grid_labels(key: str, values) -> dict:
    """Each level of one grid key as the model sees it -> its label: sizes in
    MiB when any level is a MiB or more, one unit for the whole key so that
    0 reads `0 MiB/s` beside `64 MiB/s`."""
    numbers = [v for v in values if isinstance(v, (int, float, np.number))]
    if "_bytes" not in key or not numbers or max(numbers) < 1 << 20:
        return {v: str(v) for v in values}
    per_s = "/s" if key.endswith("_per_s") else ""
    return {v: f"{v / (1 << 20):g} MiB{per_s}" if isinstance(v, (int, float, np.number))
            else str(v) for v in values}


def _num(x: float) -> str:
    return "nan" if not math.isfinite(x) else f"{x:.4g}"


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m model sweep",
                                description="Run a sweep file: grid x designs x replications.")
    p.add_argument("spec", help="a sweep TOML file, or a name from model/sweeps/")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="local worker processes (default: one per CPU)")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="run on the dask.distributed scheduler at ADDRESS instead")
    p.add_argument("--out", type=Path, help="output directory (default results/sweeps/NAME)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)

    def sweep():
        result = run_sweep(args.spec, workers=args.workers, dask_address=args.dask,
                           out=args.out, progress=not args.no_progress)
        print(headline(result))
        rare = rare_event_text(result)
        if rare:
            print(rare)
        print(f"{result.executed} runs executed, {result.cache_hits} from cache, "
              f"{len(result.failures)} failed, in {result.wall_s:.1f} s; wrote {result.out}/")
        return 1 if len(result.failures) else 0
    return exit_status(sweep, (SweepError, ScenarioError, workers_mod.BackendError, OSError),
                       "interrupted: finished runs are cached; run the same command to resume")
