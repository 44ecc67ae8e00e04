"""`python -m model run` and `python -m model study`."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from . import atomic
from .cliexit import exit_status
from .calibration import load_costs, parse_what_if, provenance_table
from .sim.designs import DESIGNS
from .scenario import ScenarioError, load
from .sim.simulation import simulate

RESULTS = Path("results")

# The study's default scenarios, one per question they answer first.
STUDY_SCENARIOS = ("server", "spikes", "leak", "container", "fork-server")

# What a table per design shows: (metric, label, scale, unit).
TABLE = (
    ("calls_vdso", "calls served by the vDSO", 1e-6, "M"),
    ("calls_syscall", "calls served by the syscall", 1e-6, "M"),
    ("cpu_getrandom_s", "CPU time in getrandom()", 1.0, "s"),
    ("reseeds_first", "reseeds: first use", 1.0, ""),
    ("reseeds_expiry", "reseeds: 60 s key expiry", 1.0, ""),
    ("reseeds_drop", "reseeds: dropped by reclaim", 1.0, ""),
    ("reseeds_fork", "reseeds: wiped by fork", 1.0, ""),
    ("states_dropped", "in-use states dropped", 1.0, ""),
    ("p_state_dropped_in_key_life", "P(state dropped in its key life)", 1.0, ""),
    ("state_bytes_resident_max", "state memory resident, max", 2**-10, "KiB"),
    ("state_bytes_unevictable_max", "state memory unevictable, max", 2**-10, "KiB"),
    ("memlock_charged_bytes_max", "charged to RLIMIT_MEMLOCK, max", 2**-10, "KiB"),
    ("threads_syscall_fallback", "threads fallen back to syscall", 1.0, ""),
    ("reclaim_stalls", "reclaim stalls", 1.0, ""),
    ("reclaim_stall_total_s", "reclaim stall time, total", 1.0, "s"),
    ("reclaim_stall_p99_ms", "reclaim stall p99", 1.0, "ms"),
    ("droppable_fault_retries", "droppable faults retried", 1.0, ""),
    ("oom_kills", "OOM kills", 1.0, ""),
    ("oom_kills_of_state_holders", "OOM kills of state holders", 1.0, ""),
    ("oom_victim_state_bytes", "state bytes of OOM victims", 2**-10, "KiB"),
    ("key_bytes_swappable_max", "key bytes in swappable memory, max", 1.0, "B"),
    ("key_bytes_swapped", "key bytes written to swap", 1.0, "B"),
)


def format_table(metrics: pd.DataFrame, design: str, costs) -> str:
    values = metrics.set_index("metric")["value"]
    first = metrics.iloc[0]
    head = f"{first['scenario']} / {design} / seed {first['seed']}"
    lines = [head, "-" * len(head)]
    for metric, label, scale, unit in TABLE:
        value = values.get(metric, 0.0) * scale
        text = f"{value:.3g}" if metric.startswith("p_") else f"{value:,.2f}".rstrip("0").rstrip(".")
        lines.append(f"  {label:<38} {text:>16} {unit}")
    if "region_pages" in values:        # the harness's pressure experiment (model.sim.region)
        lines.append(f"  {'region pages dropped (fraction)':<38} "
                     f"{values['region_drop_fraction']:>16.4f}")
        lines.append(f"  {'region holder OOM-killed':<38} {values['region_killed']:>16.0f}")
    if costs.what_if:
        lines.append(f"  ({costs.what_if_note()})")
    return "\n".join(lines)


def run_scenario(name: str, designs, seed: int, out: Path | None, costs) -> pd.DataFrame:
    scenario = load(name)
    results = []
    for design in designs:
        started = time.perf_counter()
        result = simulate(scenario, design, seed=seed, costs=costs)
        results.append(result)
        print(format_table(result.metrics, design, costs))
        print(f"  ({time.perf_counter() - started:.1f} s wall)\n", flush=True)
    frames = {part: pd.concat([getattr(r, part) for r in results], ignore_index=True)
              for part in ("metrics", "timeseries", "oom_events")}
    if out is not None:
        with atomic.directory(out / scenario.name / f"seed{seed}") as tmp:
            for part, frame in frames.items():
                atomic.write_csv(tmp / f"{part}.csv", frame)
            # The costs the run used and where each came from (what-ifs say so).
            atomic.write_csv(tmp / "costs.csv", pd.DataFrame(
                provenance_table(costs), columns=["parameter", "value", "source"]))
    return frames["metrics"]


def _parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m model {prog}")
    p.add_argument("--design", action="append", dest="designs", metavar="D",
                   help=f"a design to run, repeatable (default: all of {', '.join(DESIGNS)})")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", type=Path, default=RESULTS,
                   help="results directory (default results/)")
    p.add_argument("--what-if", action="append", dest="what_if", metavar="NAME=VALUE",
                   help="set a cost by hand instead of data/host (repeatable; 'facts' sets "
                        "an earlier selftest run, docs/sources.md); flagged in every output")
    return p


def _designs(args) -> list[str]:
    designs = args.designs or list(DESIGNS)
    for d in designs:
        if d not in DESIGNS:
            raise ScenarioError(f"unknown design '{d}' (known: {', '.join(DESIGNS)})")
    return designs


def run_main(argv: list[str]) -> int:
    p = _parser("run")
    p.add_argument("scenario", help="a name from model/scenarios/ or a path to a TOML file")
    args = p.parse_args(argv)

    def run():
        if args.seed < 0:
            raise ScenarioError(f"--seed {args.seed}: must be >= 0")
        costs = load_costs(what_if=parse_what_if(args.what_if))
        run_scenario(args.scenario, _designs(args), args.seed, args.out, costs)
    return exit_status(run, (ScenarioError, ValueError))


def study_main(argv: list[str]) -> int:
    p = _parser("study")
    p.add_argument("--full", action="store_true",
                   help="figures and report from 30 replications per point (about an hour) "
                        "instead of the default few (minutes); see model/questions.py EFFORTS")
    args = p.parse_args(argv)

    def study():
        costs = load_costs(what_if=parse_what_if(args.what_if))
        designs = _designs(args)
        for name in STUDY_SCENARIOS:
            print(f"== scenario {name} ==\n")
            run_scenario(name, designs, args.seed, args.out, costs)
        # The figures and the report: one set of replicated runs for both.
        from . import figures, questions, report
        print("== figures and report ==\n")
        study = questions.cached_run("full" if args.full else "study",
                                     what_if=parse_what_if(args.what_if))
        # Each figure's footnote names its effort and commit, so a study's
        # figures are never mistaken for the committed full-effort ones.
        for path in figures.draw_all(study):
            print(path)
        print(report.write(study, args.out / "report.txt",
                           "python -m model study " + " ".join(argv)))
    return exit_status(study, (ScenarioError, ValueError), "interrupted")
