"""How Q3's answer moves with the model's assumptions.

    python -m model sensitivity SCENARIO [--set KEY=VALUE ...] [--replications N]
                                [--factorial K] [--workers N] [--out DIR] [--no-progress]

Every parameter whose source in model.params begins "assumption:" is varied
over the plausible range RANGES states for it, one at a time from SCENARIO
(with the --set overrides: the operating point), the others at the
scenario's values; then the K assumptions whose ranges move P most are
crossed in a 2^K factorial, to show what they do together.  An assumption
that cannot act in the scenario (the heap's referenced fraction without
swap, a leak's start without a leak) is listed as not varied, with why.

Two numbers per point, for the baseline design (droppable), mean and 95%
bootstrap interval over replications (common random numbers: every point
runs the same seeds, so differences between points are not seed noise):

- P(state dropped within its key life), p_state_dropped_in_key_life;
- the reseed cost of drops: reseeds after a drop (reseeds_drop) per hour of
  run, times the measured cost of one reseed (Costs.reseed_ns), in CPU ms
  per hour.

The runs go through model.sweep (run cache, workers), so a rerun redoes
nothing.  Writes OUT/oat.csv (one row per assumption, end and metric),
OUT/factorial.csv, OUT/skipped.csv (default OUT: results/sensitivity/SCENARIO/),
and prints both tables.  model.questions runs the same for Q3's tornado
figure (model.figures.draw_q3_tornado).
"""
from __future__ import annotations

import argparse
import itertools
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import atomic, params, replicate, replicated
from .calibration import load_costs
from .cliexit import check_out, exit_status
from .scenario import Scenario, ScenarioError, load
from .sim.designs import BASELINE
from .sweep import RESULTS, SweepError
from .workers import BackendError

OUT = Path("results") / "sensitivity"


@dataclass(frozen=True)
class Range:
    low: object
    high: object
    why: str
    # None: it always acts; else (predicate on the scenario, why it cannot act).
    applies: tuple | None = None
    # Short names of the ends where their values are long.
    names: tuple = ()


def _with_swap(sc: Scenario) -> bool:
    return sc.value("machine.swap_bytes") > 0


# Plausible ends for each assumption, with the reason.  A new "assumption:"
# in model.params needs a line here (tests/test_sweep.py checks it).
RANGES = {
    "run.tick_s": Range(0.05, 0.2, "half and twice the step: reclaim and pressure are "
                        "stepped, the key life is 60 s"),
    "machine.reserved_bytes": Range("128 MiB", "512 MiB", "kernel and slab of a small VM "
                                    "to a busy server's"),
    "workload.calls_per_s": Range(
        [[1000.0, 0.1], [10.0, 0.3], [0.05, 0.6]], [[1000.0, 0.8], [10.0, 0.1], [0.05, 0.1]],
        "the mix of busy and idle threads: 10% to 80% calling 1000/s, the rest 10/s or "
        "nearly idle (0.05/s)", names=("10% busy", "80% busy")),
    "workload.process_rss_bytes": Range("16 MiB", "512 MiB", "a small daemon to a large "
                                        "server process"),
    "workload.heap_hot_fraction": Range(0.25, 1.0, "a quarter of the heap to all of it "
                                        "referenced between two scans",
                                        (_with_swap, "no swap: the anon lists are not "
                                         "scanned")),
    "pressure.spike_gap_cv": Range(0.0, 1.0, "a timer (0) to independent arrivals (1)"),
    "pressure.leak_start_max_s": Range(10.0, 300.0, "a leak starting within 10 s to 5 min",
                                       (lambda sc: sc.value("pressure.profile") == "leak",
                                        "no leak in this scenario")),
    "pressure.anon_hot_fraction": Range(0.1, 0.9, "a tenth to nine tenths of the other "
                                        "work's memory in its working set"),
    "pressure.file_hot_fraction": Range(0.25, 1.0, "a quarter to all of the hot page cache "
                                        "read between two scans"),
    "state.lru_add_wait_scale": Range(0.0, 3.0, "no wait (a busy CPU drains its lru_add "
                                      "batch at once) to three times the waits measured"),
    "state.droppable_retry_s": Range(0.001, 0.1, "a retry per ms to one per 100 ms",
                                     (lambda sc: sc.value("state.droppable_fault_at_oom")
                                      == "retry", "faults at OOM kill, never retry")),
}
METRICS = (("p_state_dropped_in_key_life", "P(state dropped in its key life)"),
           ("reseed_cpu_ms_per_h", "reseed CPU after drops (ms per hour)"))


def assumptions() -> list[str]:
    """Every parameter model.params marks as an assumption."""
    return [name for name, _, source in params.describe()
            if str(source).startswith("assumption:")]


@dataclass
class Sensitivity:
    scenario: Scenario                 # the operating point
    replications: int
    oat: pd.DataFrame                  # assumption, end, value, metric, n, mean, low, high
    factorial: pd.DataFrame            # <keys>, metric, n, mean, low, high
    skipped: pd.DataFrame              # assumption, why
    ranking: list = field(default_factory=list)     # assumptions, largest spread of P first


def label(value) -> str:
    """A range end as text: sizes and mixes as written."""
    if isinstance(value, list):
        return "+".join(f"{w:g}x{r:g}/s" for r, w in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _end_label(assumption: str, end: str) -> str:
    if not assumption:
        return ""
    r = RANGES[assumption]
    if r.names:
        return r.names[end == "high"]
    return label(getattr(r, end))


def _summaries(runs: pd.DataFrame, by: list[str], scenario: Scenario, costs) -> pd.DataFrame:
    """Mean and bootstrap interval of both metrics per group of `by`."""
    hours = scenario.value("run.duration_s") / 3600
    wide = runs.pivot_table(index=by + ["replication"], columns="metric", values="value")
    wide["reseed_cpu_ms_per_h"] = wide["reseeds_drop"] * costs.reseed_ns / 1e6 / hours
    rows = []
    for key, g in wide.groupby(level=list(range(len(by))), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        for metric, _ in METRICS:
            mean, low, high = replicate.bootstrap_interval(g[metric])
            rows.append({**dict(zip(by, key)), "metric": metric, "n": len(g), "mean": mean,
                         "low": low, "high": high})
    return pd.DataFrame(rows)


def _runs(name: str, scenario: Scenario, grid: dict, replications: int, costs, workers: int,
          out_root: Path) -> pd.DataFrame:
    spec = replicated.spec(name, scenario, designs=(BASELINE,), replications=replications,
                           grid=grid)
    return replicated.runs(spec, costs, workers, out_root)


def run(scenario: Scenario, replications: int = 10, factorial: int = 3, workers: int = 1,
        costs=None, out_root: Path = RESULTS) -> Sensitivity:
    """One-at-a-time ends of every applicable assumption, then the factorial."""
    costs = costs or load_costs()
    missing = [a for a in assumptions() if a not in RANGES]
    if missing:
        raise ValueError(f"no plausible range for assumption {missing[0]} "
                         "(add it to model.sensitivity.RANGES)")
    tag = f"sensitivity-{scenario.name}"
    base = _runs(f"{tag}-base", scenario, {}, replications, costs, workers, out_root)
    base["assumption"], base["end"] = "", "base"
    frames, skipped = [base], []
    for name in assumptions():
        r = RANGES[name]
        if r.applies and not r.applies[0](scenario):
            skipped.append({"assumption": name, "why": r.applies[1]})
            continue
        runs = _runs(f"{tag}-{name}", scenario, {name: [r.low, r.high]}, replications, costs,
                     workers, out_root)
        runs["assumption"] = name
        runs["end"] = runs["point"].map({0: "low", 1: "high"})
        frames.append(runs.drop(columns=[name]))
    oat = _summaries(pd.concat(frames, ignore_index=True), ["assumption", "end"], scenario,
                     costs)
    oat["value"] = [_end_label(a, e) for a, e in zip(oat["assumption"], oat["end"])]
    ranking = _rank(oat)
    # Only assumptions that moved something are worth crossing.
    top = [a for a in ranking[:factorial] if any(_spans(oat, a))]
    cells = pd.DataFrame()
    if len(top) >= 2:
        runs = _runs(f"{tag}-factorial", scenario,
                     {a: [RANGES[a].low, RANGES[a].high] for a in top}, replications, costs,
                     workers, out_root)
        ends = list(itertools.product(("low", "high"), repeat=len(top)))
        for i, a in enumerate(top):
            runs[a] = runs["point"].map({p: e[i] for p, e in enumerate(ends)})
        cells = _summaries(runs, top, scenario, costs)
    return Sensitivity(scenario, replications, oat, cells,
                       pd.DataFrame(skipped, columns=["assumption", "why"]), ranking)


def _spans(oat: pd.DataFrame, assumption: str) -> tuple:
    """Per metric, how far the assumption's range moves it: the spread of
    the means at its low end, at the scenario's value and at its high end
    (both ends may fall on the same side: where a few MiB move the band of
    drops, either end can leave it)."""
    mine = oat[oat["assumption"].isin([assumption, ""])]
    spread = mine.groupby("metric")["mean"].agg(lambda x: x.max() - x.min())
    return tuple(float(spread[m]) for m, _ in METRICS)


def _rank(oat: pd.DataFrame) -> list[str]:
    """Assumptions by how far they move P, then the reseed cost."""
    names = sorted(set(oat["assumption"]) - {""})
    return sorted(names, key=lambda a: tuple(-x for x in _spans(oat, a)))


def text(s: Sensitivity) -> str:
    """Both tables as plain text."""
    point = ", ".join(f"{k}={label(v)}" for k, v in s.scenario.overrides) or "as in its file"
    lines = [f"Sensitivity of scenario '{s.scenario.name}' ({point}),",
             f"{BASELINE} design, mean [95% bootstrap interval] over {s.replications} "
             "replications, the same seeds at every point; assumptions by how far they "
             "move P.", ""]
    base = s.oat[s.oat["end"] == "base"].set_index("metric")
    for metric, name in METRICS:
        lines.append(f"{name}: at the scenario's values {_ci(base.loc[metric])}")
        for a in s.ranking:
            g = s.oat[(s.oat["assumption"] == a) & (s.oat["metric"] == metric)].set_index("end")
            lines.append(f"  {a:<28}{g.loc['low', 'value']:>24} {_ci(g.loc['low']):<30}"
                         f"{g.loc['high', 'value']:>24} {_ci(g.loc['high'])}")
        lines.append("")
    lines += [f"not varied: {row.assumption}: {row.why}" for row in s.skipped.itertuples()]
    if not len(s.factorial):
        lines.append("no factorial: fewer than two assumptions moved either number")
    else:
        keys = list(s.factorial.columns[:s.factorial.columns.get_loc("metric")])
        lines += ["", f"Factorial of the top {len(keys)} (ends: low/high as above): "
                  + ", ".join(keys)]
        wide = s.factorial.pivot_table(index=keys, columns="metric", values="mean")
        wide = wide.reindex(list(itertools.product(("low", "high"), repeat=len(keys))))
        lines.append("  " + "".join(f"{k.split('.')[-1]:>24}" for k in keys)
                     + "".join(f"{m.split('_per_')[0][:22]:>24}" for m, _ in METRICS))
        for ends, row in wide.iterrows():
            lines.append("  " + "".join(f"{e:>24}" for e in ends)
                         + "".join(f"{row[m]:>24.3g}" for m, _ in METRICS))
    return "\n".join(lines)


def _ci(row) -> str:
    return f"{row['mean']:.3g} [{row['low']:.3g}, {row['high']:.3g}]"


def parse_set(items: list[str]) -> dict:
    """--set KEY=VALUE, VALUE as a TOML value ("3056 MiB", 0.5, [[10, 1]])."""
    out = {}
    for item in items or ():
        key, eq, raw = item.partition("=")
        if not eq or not key.strip():
            raise ScenarioError(f"--set {item!r}: expected KEY=VALUE")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        out[key.strip()] = value
    return out


def write(s: Sensitivity, out: Path) -> None:
    atomic.write_csv(out / "oat.csv", s.oat)
    atomic.write_csv(out / "factorial.csv", s.factorial)
    atomic.write_csv(out / "skipped.csv", s.skipped)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m model sensitivity",
                                description="Vary each assumption of model.params over its "
                                            "plausible range: P(state dropped), reseed cost.")
    p.add_argument("scenario", help="a scenario name from model/scenarios/, or a .toml path")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", dest="overrides",
                   help="the operating point, e.g. --set 'pressure.anon_peak_bytes=\"3056 "
                        "MiB\"' (repeatable)")
    p.add_argument("--replications", type=int, default=10, help="per point (default 10)")
    p.add_argument("--factorial", type=int, default=3,
                   help="cross the top K assumptions in a 2^K factorial (default 3; 0: none)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="local worker processes (default: one per CPU)")
    p.add_argument("--out", type=Path, help=f"output directory (default {OUT}/SCENARIO)")
    args = p.parse_args(argv)

    def sensitivity():
        if args.replications < 2:
            raise ScenarioError(f"--replications {args.replications}: need >= 2 for an "
                                "interval")
        if not 0 <= args.factorial <= 5:
            raise ScenarioError(f"--factorial {args.factorial}: expected 0 to 5 "
                                "(2^K points)")
        scenario = load(args.scenario, parse_set(args.overrides))
        out = check_out(args.out or OUT / scenario.name)
        result = run(scenario, args.replications, args.factorial, args.workers)
        write(result, out)
        print(text(result))
        print(f"wrote {out}/")
        return 0
    return exit_status(sensitivity, (ScenarioError, SweepError, BackendError, ValueError,
                                     OSError),
                       "interrupted: finished runs are cached; run the same command to resume")
