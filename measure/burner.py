"""A CPU burner at a set duty cycle, for the mobility test.

    python -m measure.burner DUTY

Spins DUTY of every PERIOD_S and sleeps the rest, until SIGTERM.  It is
not pinned and not in the harness's memcg: it is load on the machine's
CPUs, as another program's would be, for the scheduler to place.  Whether
that load moves the unpinned churn reader more or less, and how the
timer-locked state page fares, is what the mobility test measures
(measure/host.py, MOBILITY_DUTIES).
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

PERIOD_S = 0.010     # a scheduler tick's order, so that the load is smooth over a reclaim pass


def burn(duty: float, period_s: float = PERIOD_S) -> None:
    """Spin duty of every period, sleep the rest, forever."""
    next_start = time.monotonic()
    while True:
        spin_until = next_start + duty * period_s
        while time.monotonic() < spin_until:
            pass
        next_start += period_s
        time.sleep(max(0.0, next_start - time.monotonic()))


def check_duty(duty: float) -> float:
    if not 0.0 <= duty <= 1.0:
        raise ValueError(f"burner duty {duty!r}: not a fraction of a CPU in [0, 1]")
    return duty


@contextlib.contextmanager
def burning(duty: float):
    """A burner at `duty` while the block runs (none at 0).  Yields a dict
    filled at the end with burn_cpu: the CPU-seconds a second the burner
    really used (its rusage over its life; 0.0 without a burner)."""
    result = {"burn_cpu": 0.0}
    if check_duty(duty) == 0:
        yield result
        return
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "measure.burner", repr(duty)])
    try:
        yield result
    finally:
        proc.send_signal(signal.SIGTERM)
        # wait4() both reaps it and says what it used; Popen must not reap it first.
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0
        wall = max(time.monotonic() - started, 1e-9)
        result["burn_cpu"] = round((usage.ru_utime + usage.ru_stime) / wall, 3)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        duty = check_duty(float(argv[0])) if len(argv) == 1 else None
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if duty is None:
        print("usage: python -m measure.burner DUTY", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    burn(duty)
    return 0


if __name__ == "__main__":
    sys.exit(main())
