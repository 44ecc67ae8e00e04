"""The simulator's own memory per simulated unit, against model.scenario.SIM_BYTES.

model.scenario refuses a scenario whose run would take more than
SIM_BUDGET_BYTES, estimating it from SIM_BYTES per thread, region page and
probe.  This measures those figures: each in a fresh process, the peak RSS
(ru_maxrss) of a run with many units minus that of a run with few, per unit.
The estimate holds while every measured figure is at most its SIM_BYTES.
"""
import subprocess
import sys

from model.scenario import SIM_BASE_BYTES, SIM_BYTES

# unit -> (overrides with N for the count, small N, large N)
CASES = {
    "thread": ({"workload.processes": 1, "workload.threads_per_process": "N",
                "workload.thread_lifetime_s": 0, "machine.ram_bytes": "64 GiB",
                "run.duration_s": 1}, 1_000, 400_000),
    "region page": ({"workload.region_bytes": "N", "machine.ram_bytes": "64 GiB",
                     "run.duration_s": 1}, 4096 * 1_000, 4096 * 1_000_000),
    "probe": ({"run.duration_s": "N", "run.probe_interval_s": 1, "run.tick_s": 1,
               "pressure.profile": "none", "pressure.file_stream_bytes_per_s": 0,
               "workload.processes": 1, "workload.threads_per_process": 4}, 100, 100_000),
}

CHILD = """
import resource, sys, json
import model
from model.sim.simulation import simulate
simulate(model.load("server", json.loads(sys.argv[1])), "droppable", seed=0)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def peak_rss(overrides: dict) -> int:
    import json
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(overrides)],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[-1])


def main() -> None:
    print(f"{'unit':<12} {'measured B':>11} {'SIM_BYTES':>10}")
    base = None
    for unit, (template, small, large) in CASES.items():
        fill = lambda n: {k: (n if v == "N" else v) for k, v in template.items()}  # noqa: E731
        low, high = peak_rss(fill(small)), peak_rss(fill(large))
        base = low if base is None else min(base, low)
        per_unit = (high - low) / (large - small) * (4096 if unit == "region page" else 1)
        verdict = "holds" if per_unit <= SIM_BYTES[unit] else "UNDERESTIMATED"
        print(f"{unit:<12} {per_unit:>11,.0f} {SIM_BYTES[unit]:>10,}  {verdict}", flush=True)
    print(f"base RSS of a small run: {base / 2**20:.0f} MiB (SIM_BASE_BYTES "
          f"{SIM_BASE_BYTES / 2**20:.0f} MiB)")
