"""When a thread's getrandom() calls fall: the scenario's call pattern.

Calls are never events (model.sim.workload bills them in bulk); what the
model needs of their timing is answered here, for both patterns the harness
runs (vgetrandom-harness states --pattern):

  poisson   independent exponential gaps: counts are expectations, the
            first call after t is t plus an exponential draw, and a page
            shared by threads of summed rate R stays untouched over dt with
            probability exp(-R dt);
  periodic  every thread of a rate on the same absolute deadlines k / rate
            (timers firing together, phase-locked from t = 0): counts are
            exact, and a page is touched in (since, now] only if one of its
            threads' deadlines falls there.  A page touched once a period
            at one instant looks unreferenced to a scan that comes twice
            within the period, however busy its threads are in total.
"""
from __future__ import annotations

import math

# Deadlines are k / rate; t * rate is within a few ulps of k at a deadline.
_EPS = 1e-6


def _index(t: float, rate: float) -> int:
    """Deadlines k / rate with k >= 1 up to and including t."""
    return math.floor(t * rate + _EPS)


class Poisson:
    name = "poisson"

    @staticmethod
    def count(rate: float, a: float, b: float) -> float:
        """Calls in (a, b]: expected."""
        return rate * (b - a)

    @staticmethod
    def next_after(rate: float, t: float, rng) -> float:
        return t + rng.exponential(1.0 / rate)

    @staticmethod
    def p_any(rate: float, a: float, b: float) -> float:
        """P(at least one call in (a, b])."""
        return -math.expm1(-rate * (b - a)) if b > a else 0.0

    @staticmethod
    def p_any_window(rate: float, length: float) -> float:
        """P(at least one call in a window of `length`)."""
        return -math.expm1(-rate * length)

    @staticmethod
    def touched(folio, since: float, now: float, rng) -> bool:
        """Any call by the folio's threads in (since, now]?"""
        return rng.random() >= math.exp(-folio.rate_per_s * (now - since))


class Periodic:
    name = "periodic"

    @staticmethod
    def count(rate: float, a: float, b: float) -> float:
        return float(_index(b, rate) - _index(a, rate))

    @staticmethod
    def next_after(rate: float, t: float, rng) -> float:
        return (_index(t, rate) + 1) / rate

    @staticmethod
    def p_any(rate: float, a: float, b: float) -> float:
        return 1.0 if _index(b, rate) > _index(a, rate) else 0.0

    @staticmethod
    def p_any_window(rate: float, length: float) -> float:
        """Over windows of `length` at every phase: the share holding a deadline."""
        return min(1.0, rate * length)

    @staticmethod
    def touched(folio, since: float, now: float, rng) -> bool:
        return any(_index(now, rate) > _index(since, rate) for rate in folio.rates)


PATTERNS = {p.name: p for p in (Poisson, Periodic)}
