"""model.sim.environment's wake-ups run where SimPy would run them as events,
so that taking them out of SimPy's queue moves no number of a run."""
from __future__ import annotations

import math
import random

import pytest

from model.sim.environment import Environment


def _trace(as_events: bool, seed: int) -> list:
    """A tangle of wake-ups, SimPy timeouts and processes on a coarse clock
    (ties everywhere): what ran, when, in order.  With `as_events` every
    wake-up is a SimPy Timeout made at the same moment instead."""
    env, rng, log = Environment(), random.Random(seed), []

    def wake(delay_s, tag):
        if as_events:
            env.timeout(delay_s).callbacks.append(lambda event: fire(tag, env.now))
        else:
            env.wake_after(delay_s, fire, (tag,))

    def fire(tag, now):
        log.append((now, tag))
        roll = rng.random()
        if roll < 0.4:
            wake(rng.choice([0.0, 0.5, 1.0]), tag + "w")
        elif roll < 0.5:
            env.process(worker(tag + "p", 2))   # an Initialize event: urgent, at now

    def worker(name, rounds):
        for _ in range(rounds):
            yield env.timeout(rng.choice([0.0, 0.5, 1.0]))
            log.append((env.now, name))
            wake(rng.choice([0.0, 0.5]), name + "w")

    for i in range(8):
        wake(rng.choice([0.0, 0.5, 1.0]), f"w{i}")
        env.process(worker(f"p{i}", 6))
    env.run(until=6.0)
    return log


@pytest.mark.parametrize("seed", range(5))
def test_wakeups_run_in_the_order_simpy_gives_the_same_timeouts(seed):
    as_wakeups, as_events = _trace(False, seed), _trace(True, seed)
    assert len(as_events) > 100
    assert as_wakeups == as_events


def test_wake_at_fires_at_the_time_or_the_float_below_it():
    """A thread's exit is billed at its exit time: wake_at fires at t_s
    wherever now + delay can reach it, else at the float just below (SimPy's
    clock is now + delay), never after it; set again from there, as
    Simulation._exits_due does for an exit not yet due, it fires at t_s."""
    env, first, last = Environment(), {}, {}
    times = sorted(0.1 * k + math.ulp(0.1 * k) * j for k in range(1, 40) for j in (-1, 0, 1))

    def fire(t, now):
        first.setdefault(t, now)
        last[t] = now
        if now < t:
            env.wake_at(t, fire, (t,))

    env.wake_after(0.05, lambda now: [env.wake_at(t, fire, (t,)) for t in times], ())
    env.run(until=10.0)
    assert all(math.nextafter(t, -math.inf) <= first[t] <= t for t in times)
    assert 0 < sum(first[t] < t for t in times) < 0.1 * len(times)   # the case exists, rarely
    assert all(last[t] == t for t in times)
    with pytest.raises(ValueError):
        env.wake_at(env.now - 1.0, fire, (0.0,))
