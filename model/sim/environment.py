"""SimPy's environment, with bare wake-ups that are not SimPy events.

At 100,000 threads an hour holds about 2.4 million thread arrivals and
exits, each a function to call at a time and nothing else: no process waits
on it, nothing is yielded.  As SimPy events each cost a queue entry, an
event object and a pass through Environment.step() with its callbacks;
they were most of the events of a run and a large share of its time.

Here they wait in a heap of their own, and step() runs every wake-up that
comes before SimPy's next event in one loop, before that event.  Each
wake-up is keyed as SimPy keys an event, (time, priority, id), its id drawn
from the environment's own counter when it is scheduled, so wake-ups and
events keep the one order SimPy would give them as events: the same run,
bit for bit, only fewer steps.
"""
from __future__ import annotations

import math
from heapq import heappop, heappush

import simpy
from simpy.events import NORMAL


class Environment(simpy.Environment):
    """simpy.Environment and its wake-ups (wake_after)."""

    def __init__(self):
        super().__init__()
        # (time, NORMAL, id, fn, args): ids are unique across both heaps, so
        # comparing a wake-up with an event's (time, priority, id, event)
        # never reaches fn or the event.
        self._wakeups: list[tuple] = []

    def wake_after(self, delay_s: float, fn, args: tuple) -> None:
        """Call fn(*args, now) delay_s from now, where a Timeout made now
        would fire (same time, priority and id)."""
        heappush(self._wakeups, (self._now + delay_s, NORMAL, next(self._eid), fn, args))

    def wake_at(self, t_s: float, fn, args: tuple) -> None:
        """wake_after(), at the time t_s to the bit where a delay from now
        reaches it: now + (t_s - now) may round off it, and a thread's exit
        time is billed to the bit.  Where none does (now + delay rounds
        past it both ways) it fires at the float below, never after;
        Simulation._exits_due finds the exit not yet due and sets it again."""
        now = self._now
        delay_s = t_s - now
        if delay_s < 0:
            raise ValueError(f"wake-up at {t_s} before now ({now})")
        while now + delay_s < t_s:
            delay_s = math.nextafter(delay_s, math.inf)
        while now + delay_s > t_s:
            delay_s = math.nextafter(delay_s, -math.inf)
        heappush(self._wakeups, (now + delay_s, NORMAL, next(self._eid), fn, args))

    def step(self) -> None:
        """The wake-ups due before SimPy's next event, then that event."""
        wakeups, queue = self._wakeups, self._queue
        while wakeups and (not queue or wakeups[0] < queue[0]):
            now, _, _, fn, args = heappop(wakeups)
            self._now = now
            fn(*args, now)
        super().step()

    def peek(self) -> float:
        """The time of the next wake-up or event."""
        return min(self._wakeups[0][0] if self._wakeups else simpy.core.Infinity,
                   super().peek())

    def clear(self) -> None:
        """Drop whatever is pending (the run is over)."""
        self._queue.clear()
        self._wakeups.clear()
