"""Sweep throughput: runs per second, the speed-up from 1 to 2 local workers,
and the wall time of the whole Q3 pressure sweep (model/sweeps/q3-pressure.toml).

Target (issue 7): the Q3 sweep, at least 5 pressure levels x 5 designs x 30
replications, within 10 minutes on the 2-core machines this project runs on.
Every sweep here runs with the cache off, into a scratch directory, so the
times are of simulation and not of reading finished runs back.
"""
import dataclasses
import os
import tempfile
import time
from pathlib import Path

from model.sweep import load_spec, run_sweep

TARGET_S = 600


def timed_sweep(spec, workers: int, out: Path):
    started = time.perf_counter()
    result = run_sweep(spec, workers=workers, out=out, cache=False)
    return result, time.perf_counter() - started


def main() -> None:
    q3 = load_spec("q3-pressure")
    # The speed-up is measured on a slice of Q3: every level and design, 4 replications.
    probe = dataclasses.replace(q3, name="q3-slice", min_replications=4, max_replications=4,
                                batch=4, metric=None)
    simulated_s = q3.scenario.run.duration_s
    # The speed-up is only meaningful on an otherwise idle machine: say how idle it was.
    print(f"cpus: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}; "
          f"Q3 runs simulate {simulated_s:.0f} s each")
    with tempfile.TemporaryDirectory(prefix="sweep-bench.") as tmp:
        tmp = Path(tmp)
        walls = {}
        for workers in (1, 2):
            result, wall = timed_sweep(probe, workers, tmp / f"slice-w{workers}")
            walls[workers] = wall
            runs = result.executed
            print(f"q3 slice, {workers} worker{'s' if workers > 1 else ' '}: {runs} runs in "
                  f"{wall:6.1f} s = {runs / wall:5.1f} runs/s, "
                  f"{runs * simulated_s / wall:8,.0f} simulated s per wall s", flush=True)
        print(f"speed-up 1 -> 2 workers: {walls[1] / walls[2]:.2f}x "
              f"(load average now {os.getloadavg()[0]:.1f})")

        result, wall = timed_sweep(q3, 2, tmp / "q3")
        points = len(result.points)
        reps = result.points["replications"]
        print(f"q3-pressure: {points} levels x {len(q3.designs)} designs x "
              f"{reps.min()}-{reps.max()} replications = {result.executed} runs "
              f"({len(result.failures)} failed) in {wall:.1f} s with 2 workers; "
              f"target < {TARGET_S} s: {'met' if wall < TARGET_S else 'MISSED'}")
