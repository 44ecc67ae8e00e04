"""Simulator throughput: wall time for every design, and against the previous commit.

The scenario is model/scenarios/bench.toml (10 server processes, one
simulated hour, steady page-cache churn and anon spikes) at two sizes:
10,000 threads (the file as it is) and 100,000 threads (10,000 a process).

Target (issue 14): 100,000 threads x one simulated hour x every design of
model.DESIGNS in under 60 s of wall time on the 2-core machines this project
runs on, the designs run side by side in two worker processes.

The machine is shared, so one wall time says little about a change.  The
comparison runs the previous commit's model (`git archive` of HEAD~, or of
--against REF, into a scratch directory) and this tree's in pairs, one on
each core at the same time, so that what slows one slows the other, and
prints new/old of the CPU seconds of each simulate() call.  It also says
whether each pair's metrics are bit-identical: they must be unless the
commit changes the model's behaviour on purpose.

    python -m bench.model_bench [--against REF] [--threads N ...] [--q3 PEAK ...]
                                [--skip-target]
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_THREADS = 100_000
TARGET_S = 60
WORKERS = 2
PROCESSES = 10              # bench.toml's workload.processes

# One simulate() in a fresh interpreter on the tree on PYTHONPATH: CPU and wall
# seconds of the call alone (not of importing or calibrating), and a digest of
# every frame of its result.
CHILD = r"""
import hashlib, json, sys, time
import pandas as pd
import model
from model.calibration import load_costs
from model.sim.simulation import simulate
name, overrides, seed, design = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
scenario = model.load(name, overrides)
costs = load_costs()
cpu, wall = time.process_time(), time.perf_counter()
result = simulate(scenario, design, seed=seed, costs=costs)
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
digest = hashlib.sha256()
for field in ("metrics", "timeseries", "oom_events", "classes"):
    frame = getattr(result, field, None)
    if frame is not None:
        digest.update(field.encode() + repr(list(frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
print(json.dumps({"cpu_s": cpu, "wall_s": wall, "digest": digest.hexdigest()}))
"""


class Case:
    """A scenario with overrides and a seed, as one line of the output says it."""

    def __init__(self, label: str, name: str, overrides: dict, seed: int = 0):
        self.label, self.name, self.overrides, self.seed = label, name, overrides, seed

    @classmethod
    def bench(cls, threads: int) -> "Case":
        return cls(f"{threads:,} threads x 3600 s", "bench",
                   {"workload.threads_per_process": threads // PROCESSES})

    @classmethod
    def q3(cls, peak: str) -> "Case":
        """One level of model/sweeps/q3-pressure.toml, its first replication's seed."""
        return cls(f"Q3 sweep point, spike peak {peak}", "spikes",
                   {"run.duration_s": 300, "pressure.restart_after_oom_s": 10,
                    "pressure.anon_peak_bytes": peak}, seed=3)


def designs() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from model.sim.designs import DESIGNS
    return list(DESIGNS)


def run_one(tree: Path, case: Case, design: str) -> dict:
    """simulate() once on the model in `tree`; {"error": line} if it failed."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    proc = subprocess.run([sys.executable, "-c", CHILD, case.name, json.dumps(case.overrides),
                           str(case.seed), design], cwd=tree,
                          env=env, capture_output=True, text=True)
    if proc.returncode:
        lines = proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"]
        return {"error": lines[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def previous_tree(ref: str, into: Path) -> str:
    """Unpack the commit `ref` into `into`; returns its short hash and subject."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h %s", ref],
                          capture_output=True, text=True, check=True).stdout.strip()[:72]


def target(names: list[str], old: Path | None) -> None:
    """Every design at TARGET_THREADS, WORKERS at a time: the wall time of the
    lot, this tree's and then (if given) the old tree's, and their ratio."""
    case = Case.bench(TARGET_THREADS)
    walls = {}
    for which, tree in [("new", ROOT)] + ([("old", old)] if old is not None else []):
        print(f"{case.label} x {len(names)} designs, {WORKERS} workers, {which} "
              f"(load average {os.getloadavg()[0]:.1f}):", flush=True)
        started = time.perf_counter()
        with cf.ThreadPoolExecutor(WORKERS) as pool:
            runs = dict(zip(names, pool.map(lambda d: run_one(tree, case, d), names)))
        wall = time.perf_counter() - started
        for design, run in runs.items():
            print(f"  {design:<16} " + (run["error"] if "error" in run else
                                        f"simulate() {run['wall_s']:6.1f} s wall, "
                                        f"{run['cpu_s']:6.1f} s CPU"))
        ok = wall < TARGET_S and not any("error" in r for r in runs.values())
        print(f"  all {len(names)}: {wall:.1f} s wall (with each worker's interpreter start "
              f"and calibration); target < {TARGET_S} s on {WORKERS} cores: "
              f"{'met' if ok else 'MISSED'}", flush=True)
        walls[which] = wall
    if len(walls) == 2:
        print(f"  all {len(names)} wall, new/old: {walls['new'] / walls['old']:.2f}")


def compare(old: Path, case: Case, names: list[str]) -> None:
    """Old and new side by side, one pair per design: new/old CPU seconds."""
    print(f"{case.label}: this tree (new) against old, in pairs "
          f"(load average {os.getloadavg()[0]:.1f}):")
    print(f"  {'design':<16} {'old CPU s':>9} {'new CPU s':>9} {'new/old':>8}  metrics")
    ratios = []
    for design in names:
        with cf.ThreadPoolExecutor(2) as pool:
            was = pool.submit(run_one, old, case, design)
            now = pool.submit(run_one, ROOT, case, design)
            was, now = was.result(), now.result()
        if "error" in was or "error" in now:
            print(f"  {design:<16} old: {was.get('error', 'ok')}; new: {now.get('error', 'ok')}")
            continue
        ratio = now["cpu_s"] / was["cpu_s"]
        ratios.append(ratio)
        same = "identical" if was["digest"] == now["digest"] else "DIFFER"
        print(f"  {design:<16} {was['cpu_s']:9.2f} {now['cpu_s']:9.2f} {ratio:8.2f}  {same}",
              flush=True)
    if ratios:
        print(f"  geometric mean new/old: {math.prod(ratios) ** (1 / len(ratios)):.2f}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.model_bench")
    ap.add_argument("--against", default="HEAD~", help="the commit to compare with (HEAD~)")
    ap.add_argument("--threads", type=int, nargs="*", default=[10_000],
                    help="bench.toml at these thread counts against it (10000)")
    ap.add_argument("--q3", nargs="*", default=["3056 MiB"],
                    help="Q3 sweep points (spike peaks) against it (3056 MiB)")
    ap.add_argument("--skip-target", action="store_true",
                    help=f"leave out the {TARGET_THREADS:,}-thread target runs")
    args = ap.parse_args(argv if argv is not None else [])
    names = designs()
    with tempfile.TemporaryDirectory(prefix="model-bench.") as tmp:
        try:
            what = previous_tree(args.against, Path(tmp))
        except subprocess.CalledProcessError as e:
            print(f"no comparison: cannot unpack {args.against} ({e})")
            if not args.skip_target:
                target(names, None)
            return
        print(f"old = {args.against} = {what}")
        if not args.skip_target:
            target(names, Path(tmp))
        for case in [Case.bench(n) for n in args.threads] + [Case.q3(p) for p in args.q3]:
            compare(Path(tmp), case, names)


if __name__ == "__main__":
    main(sys.argv[1:])
