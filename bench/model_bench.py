"""Simulator throughput: simulated thread-seconds per wall-clock second.

The scenario is model/scenarios/bench.toml: 10,000 threads for one simulated
hour.  Target (issue 2): five designs together in under 60 s on the 2-core
machines this project runs on, so 12 s a design whatever their number.
"""
import platform
import time

import model
from model.sim.simulation import simulate

TARGET_S_PER_DESIGN = 60 / 5


def main() -> None:
    scenario = model.load("bench")
    wl = scenario.workload
    thread_s = wl.processes * wl.threads_per_process * scenario.run.duration_s
    print(f"scenario bench: {wl.processes * wl.threads_per_process} threads, "
          f"{scenario.run.duration_s:.0f} s simulated; {platform.processor() or platform.machine()}")
    print(f"{'design':<16} {'wall s':>8} {'thread-s/s':>12}")
    walls = {}
    for design in model.DESIGNS:
        started = time.perf_counter()
        simulate(scenario, design, seed=0)
        walls[design] = time.perf_counter() - started
        print(f"{design:<16} {walls[design]:>8.1f} {thread_s / walls[design]:>12,.0f}",
              flush=True)
    total, target = sum(walls.values()), TARGET_S_PER_DESIGN * len(walls)
    print(f"{f'all {len(walls)}':<16} {total:>8.1f}   target < {target:.0f} s: "
          f"{'met' if total < target else 'MISSED'}")
