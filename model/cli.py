"""`python -m model run` and `python -m model study`."""
from __future__ import annotations

import argparse
import signal
import time
from pathlib import Path

import pandas as pd

from . import atomic
from .cliexit import check_out, exit_status
from .calibration import load_costs, parse_what_if, provenance_table
from .progress import Progress
from .scenario import ScenarioError, load
from .sim.designs import DESIGNS
from .sim.simulation import Simulation

RESULTS = Path("results")
# How long `study` takes on a 2-core machine, as the README's table of
# times measures it (tests/test_scenario_cli.py keeps the two in step).
STUDY_TIME = "about 10 min on shared cores"
FULL_TIME = "about 20-40 min"
# `study` draws its figures here: figures/ is what `make figures` commits.
STUDY_FIGURES = "figures"
PARTS = ("metrics", "timeseries", "oom_events")

# The study's default scenarios, one per question they answer first.
STUDY_SCENARIOS = ("server", "spikes", "leak", "container", "fork-server")

# What a table per design shows: (metric, label, scale, unit).  The model
# bills calls at each thread's rate (model.sim.workload Thread.account), so the
# calls, their CPU time and the key-expiry reseeds are expected values, not
# counts: their labels say so, and whole numbers are not to be expected.
TABLE = (
    ("calls_vdso", "calls served by the vDSO, expected", 1e-6, "M"),
    ("calls_syscall", "calls served by the syscall, expected", 1e-6, "M"),
    ("cpu_getrandom_s", "CPU time in getrandom(), expected", 1.0, "s"),
    ("cpu_after_gap_s", "CPU the gaps added (calls, faults)", 1.0, "s"),
    ("reseeds_first", "reseeds: first use", 1.0, ""),
    ("reseeds_expiry", "reseeds: key expiry, expected", 1.0, ""),
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


def simulate_with_progress(scenario, design: str, seed: int, costs):
    """model.sim.simulation.simulate(), with progress in simulated seconds, and
    stopped by the first Ctrl-C.

    The progress is a SimPy process of its own that only reads the clock:
    it adds events but never reorders the model's (SimPy breaks ties by
    creation order), so the numbers are those of simulate().

    SimPy turns a KeyboardInterrupt raised inside a process into that
    process's failure, raised only when the event queue reaches it: with
    four servers each starting a million threads, Ctrl-C would stop one and
    wait for the other three.  So a Ctrl-C is also remembered, and the next
    step of the event loop raises it.
    """
    sim = Simulation(scenario, design, seed, costs)
    duration_s = scenario.run.duration_s
    step_s = duration_s / 100

    def report(bar):
        while True:
            yield sim.env.timeout(step_s)
            bar.update(step_s)

    interrupted = []

    def on_sigint(signum, frame):
        interrupted.append(signum)
        raise KeyboardInterrupt

    def step(step=sim.env.step):
        if interrupted:
            raise KeyboardInterrupt
        step()

    sim.env.step = step
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        with Progress(duration_s, f"{scenario.name} / {design}", "simulated s") as bar:
            sim.env.process(report(bar))
            return sim.run()
    finally:
        signal.signal(signal.SIGINT, previous)


def run_scenario(name: str, designs, seed: int, out: Path | None, costs) -> pd.DataFrame:
    scenario = load(name)
    results = []
    for design in designs:
        started = time.perf_counter()
        result = simulate_with_progress(scenario, design, seed, costs)
        results.append(result)
        print(format_table(result.metrics, design, costs))
        print(f"  ({time.perf_counter() - started:.1f} s wall)\n", flush=True)
    frames = {part: pd.concat([getattr(r, part) for r in results], ignore_index=True)
              for part in PARTS}
    if out is not None:
        where = out / scenario.name / f"seed{seed}"
        kept, dropped = write_runs(where, frames, costs)
        print(f"wrote {where}/ ({', '.join(f'{p}.csv' for p in PARTS)}, costs.csv)"
              + (f"; kept the rows of {', '.join(kept)} from an earlier run" if kept else "")
              + (f"; dropped those of {', '.join(dropped)}, run with other costs"
                 if dropped else ""), flush=True)
    return frames["metrics"]


def write_runs(where: Path, frames: dict, costs) -> tuple[list[str], list[str]]:
    """Write one scenario and seed's frames, keeping the rows of designs not rerun.

    A second `run` of the same scenario and seed with another design adds
    its rows instead of replacing the first run's, as long as both used the
    same costs (costs.csv): rows computed with other costs are not mixed in.
    Returns the earlier designs kept and those dropped for their other
    costs.  Rows are in DESIGNS order, whichever design ran first; the
    directory is replaced atomically.
    """
    cost_table = pd.DataFrame(provenance_table(costs), columns=["parameter", "value", "source"])
    earlier = {part: _read(where / f"{part}.csv") for part in PARTS}
    before = [] if earlier["metrics"] is None else list(earlier["metrics"]["design"].unique())
    rerun = set(frames["metrics"]["design"])
    costs_file = where / "costs.csv"
    same_costs = costs_file.exists() and \
        costs_file.read_text() == cost_table.to_csv(index=False)
    if not same_costs:
        earlier = {}
    kept = [d for d in DESIGNS if d in before and d not in rerun and same_costs]
    dropped = [d for d in DESIGNS if d in before and d not in rerun and not same_costs]
    order = {d: i for i, d in enumerate(DESIGNS)}
    with atomic.directory(where) as tmp:
        for part, frame in frames.items():
            old = earlier.get(part)
            if old is not None and "design" in old:
                frame = pd.concat([old[old["design"].isin(kept)], frame], ignore_index=True)
                frame = frame.sort_values("design", key=lambda s: s.map(order), kind="stable")
            atomic.write_csv(tmp / f"{part}.csv", frame)
        # The costs the run used and where each came from (what-ifs say so).
        atomic.write_csv(tmp / "costs.csv", cost_table)
    return kept, dropped


def _read(path: Path) -> pd.DataFrame | None:
    try:
        return pd.read_csv(path)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return None


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
        check_out(args.out)
        if args.seed < 0:
            raise ScenarioError(f"--seed {args.seed}: must be >= 0")
        costs = load_costs(what_if=parse_what_if(args.what_if))
        run_scenario(args.scenario, _designs(args), args.seed, args.out, costs)
    return exit_status(run, (ScenarioError, ValueError))


def study_main(argv: list[str]) -> int:
    p = _parser("study")
    p.add_argument("--full", action="store_true",
                   help="figures and report at effort 'full', 30 replications per point "
                        f"({FULL_TIME}) instead of the default few ({STUDY_TIME}); see "
                        "model/questions.py EFFORTS")
    args = p.parse_args(argv)

    def study():
        check_out(args.out)
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
        # Into results/, never figures/: figures/ holds the committed,
        # full-effort figures and changes only through `make figures`.
        for path in figures.draw_all(study, args.out / STUDY_FIGURES):
            print(path)
        print(report.write(study, args.out / "report.txt",
                           "python -m model study " + " ".join(argv)))
    return exit_status(study, (ScenarioError, ValueError), "interrupted")
