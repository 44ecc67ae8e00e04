"""Calibration: how long load_costs() takes to fit the committed data/host.

Every command and every sweep worker fits the costs once (later calls in the
same process are served from model.calibration's cache), so this is paid
once per run of anything.  Target: under 1 s.  It was a timed test; a
wall-clock figure belongs here, printed, not asserted.
"""
import time

from model import calibration

TARGET_S = 1.0


def main() -> None:
    walls = []
    for _ in range(5):
        calibration._CACHE.clear()          # time the fit, not the cache
        started = time.perf_counter()
        calibration.load_costs()
        walls.append(time.perf_counter() - started)
    worst = max(walls)
    print(f"load_costs() fitting data/host: best {min(walls) * 1e3:.0f} ms, worst "
          f"{worst * 1e3:.0f} ms of 5; target < {TARGET_S:g} s: "
          f"{'met' if worst < TARGET_S else 'MISSED'}")
