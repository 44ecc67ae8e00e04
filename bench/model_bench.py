"""Simulator throughput: simulated thread-seconds per wall-clock second.

The scenario is model/scenarios/bench.toml: 10,000 threads for one simulated
hour.  Target (issue 2): all five designs together in under 60 s on the
2-core machines this project runs on.
"""
import platform
import time

import model
from model.sim.simulation import simulate


def main() -> None:
    scenario = model.load("bench")
    wl = scenario.workload
    thread_s = wl.processes * wl.threads_per_process * scenario.run.duration_s
    print(f"scenario bench: {wl.processes * wl.threads_per_process} threads, "
          f"{scenario.run.duration_s:.0f} s simulated; {platform.processor() or platform.machine()}")
    print(f"{'design':<14} {'wall s':>8} {'thread-s/s':>12}")
    total = 0.0
    for design in model.DESIGNS:
        started = time.perf_counter()
        simulate(scenario, design, seed=0)
        wall = time.perf_counter() - started
        total += wall
        print(f"{design:<14} {wall:>8.1f} {thread_s / wall:>12,.0f}", flush=True)
    verdict = "met" if total < 60 else "MISSED"
    print(f"{'all five':<14} {total:>8.1f}   target < 60 s: {verdict}")
