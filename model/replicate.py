"""Statistics over replications: confidence intervals, paired differences, stopping.

Replication r of every design at a grid point runs on the same seed, so the
designs see the same workload and pressure (common random numbers) and the
difference between two designs is best judged pair by pair: the paired
t-interval removes the run-to-run variation that both designs share.

Means get a Student-t 95% interval.  A rare event (a state dropped within
its key life) gets its own treatment, rare_event(): see there.  Tail
metrics (a p99 of stall times, one number per run) are skewed across runs and often mostly zeros, so their
interval comes from scipy.stats.bootstrap with a fixed random_state: the same
runs always give the same interval.  Every run reports every metric
(model.sim.metrics.COUNTERS), so no run is ever padded.
"""
from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95
# Fixed so that the same runs always give the same bootstrap interval.
BOOTSTRAP_SEED = 0
BOOTSTRAP_RESAMPLES = 2000
_TAIL = re.compile(r"_p\d+(_|$)")


def is_tail(metric: str) -> bool:
    """A per-run percentile such as reclaim_stall_p99_ms: bootstrapped, not t."""
    return bool(_TAIL.search(metric))


def t_interval(values) -> tuple[float, float, float]:
    """(mean, low, high) of a Student-t interval; degenerate samples get width 0."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean()) if x.size else math.nan
    if x.size < 2:
        return mean, math.nan, math.nan
    sd = float(x.std(ddof=1))
    if sd == 0.0:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, x.size - 1)) * sd / math.sqrt(x.size)
    return mean, mean - half, mean + half


def bootstrap_interval(values) -> tuple[float, float, float]:
    """(mean, low, high) by BCa bootstrap of the mean, percentile where BCa cannot."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean()) if x.size else math.nan
    if x.size < 2:
        return mean, math.nan, math.nan
    if np.all(x == x[0]):
        return mean, mean, mean
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ci = stats.bootstrap((x,), np.mean, confidence_level=CONFIDENCE,
                                 n_resamples=BOOTSTRAP_RESAMPLES, method=method,
                                 random_state=np.random.default_rng(BOOTSTRAP_SEED))
        low, high = float(ci.confidence_interval.low), float(ci.confidence_interval.high)
        if math.isfinite(low) and math.isfinite(high):
            return mean, low, high
    return mean, math.nan, math.nan


def interval(metric: str, values) -> tuple[float, float, float, str]:
    """(mean, low, high, method) with the method this metric calls for."""
    if is_tail(metric):
        return (*bootstrap_interval(values), "bootstrap")
    return (*t_interval(values), "t")


def half_width(low: float, high: float) -> float:
    return (high - low) / 2


def tight_enough(metric: str, values, target: float, relative: bool) -> bool:
    """The stopping rule: the CI half-width is within target (or target * |mean|)."""
    mean, low, high, _ = interval(metric, values)
    if not (math.isfinite(low) and math.isfinite(high)):
        return False
    allowed = target * abs(mean) if relative else target
    return half_width(low, high) <= allowed


def summarize(runs: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """One row per (by..., metric): n, mean, sd, 95% CI and how it was computed."""
    rows = []
    for key, group in runs.groupby(by + ["metric"], sort=True, dropna=False):
        metric = key[-1]
        values = group["value"].to_numpy(dtype=float)
        mean, low, high, method = interval(metric, values)
        rows.append((*key, values.size, mean,
                     float(values.std(ddof=1)) if values.size > 1 else math.nan,
                     low, high, half_width(low, high), method))
    return pd.DataFrame(rows, columns=by + ["metric", "n", "mean", "sd", "ci_low", "ci_high",
                                            "half_width", "ci_method"])


def paired(runs: pd.DataFrame, by: list[str], reference: str) -> pd.DataFrame:
    """Each design minus `reference`, replication by replication, per (by..., metric).

    Only replications that both designs finished are paired.  p_value is the
    two-sided paired t-test; where every difference is the same number the
    test is undefined, and p is reported as 1.0 for all-zero differences and
    0.0 otherwise (a constant non-zero shift is as significant as it gets).
    """
    columns = by + ["design", "reference", "metric", "n_pairs", "mean_diff", "ci_low",
                    "ci_high", "mean_reference", "relative_diff", "p_value"]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    wide = runs.pivot_table(index=by + ["metric", "replication"], columns="design",
                            values="value", aggfunc="first")
    if reference not in wide.columns:
        return pd.DataFrame(columns=columns)
    rows = []
    others = [d for d in wide.columns if d != reference]
    for key, group in wide.groupby(level=list(range(len(by) + 1)), sort=True):
        for design in others:
            both = group[[design, reference]].dropna()
            diff = (both[design] - both[reference]).to_numpy(dtype=float)
            if diff.size == 0:
                continue
            mean, low, high = t_interval(diff)
            if diff.size < 2:
                p = math.nan
            elif np.all(diff == diff[0]):
                p = 1.0 if diff[0] == 0 else 0.0
            else:
                p = float(stats.ttest_rel(both[design], both[reference]).pvalue)
            mean_ref = float(both[reference].mean())
            rows.append((*key[:-1], design, reference, key[-1], diff.size, mean, low, high,
                         mean_ref, mean / abs(mean_ref) if mean_ref else math.nan, p))
    return pd.DataFrame(rows, columns=columns)


# -- rare events over independent units -----------------------------------------------

def clopper_pearson_upper(k: int, n: int, confidence: float = CONFIDENCE) -> float:
    """One-sided Clopper-Pearson upper bound on a proportion seen k times in n.

    With k = 0 this is 1 - (1 - confidence)^(1/n), about 3/n at 95%.
    """
    if n <= 0:
        return math.nan
    if k >= n:
        return 1.0
    return float(stats.beta.ppf(confidence, k + 1, n - k))


def units_to_bound(target: float, confidence: float = CONFIDENCE) -> int:
    """Independent units, none with the event, that bound its probability
    below `target`: the least n with clopper_pearson_upper(0, n) < target."""
    return math.floor(math.log(1 - confidence) / math.log1p(-target)) + 1


def rare_event(fractions, lives, target: float) -> dict:
    """P of an event per key life, with intervals over independent units.

    `fractions[i]` is the fraction of unit i's key lives with the event (a
    replication's p_state_dropped_in_key_life), `lives[i]` how many key
    lives unit i had.  Key lives within a unit are not independent (a
    reclaim pass that thrashes drops many at once), so nothing here counts
    them as trials.  The estimate is the mean of the units' fractions, and:

    - the 95% interval is the bootstrap over units (BCa: it stays within
      [0, 1]), or, where no unit has the event, [0, the two-sided
      Clopper-Pearson upper end over units];
    - `upper95`, the one-sided bound, is Clopper-Pearson on the share of
      units with any event: a unit's fraction is at most 1 when it has one
      and 0 when it has none, so its mean is at most that share, whatever
      the key lives within a unit do together.  It is the only bound used
      for "bounded below": where no unit has the event it is about 3/n;
    - `units_needed`: where no unit has the event, how many units in all
      (none with it) bound P below `target`; None where some unit has it
      (more units at the same rate never will); `key_lives_needed`: the key
      lives that many units of this length hold (simulated, not independent);
    - `design_effect`: the variance of the units' fractions over what it
      would be if every key life were an independent trial (1: independent;
      far above 1: pooling key lives overstates what the runs show).
    """
    f = np.asarray(fractions, dtype=float)
    m = np.asarray(lives, dtype=float)
    n = int(f.size)
    k = int(np.count_nonzero(f > 0))
    out = {"units": n, "units_with_event": k, "key_lives": float(m.sum()),
           "key_lives_per_unit": float(m.mean()) if n else math.nan}
    needed = units_to_bound(target) if k == 0 else None
    if n == 0:
        return {**out, "p_mean": math.nan, "p_low": math.nan, "p_high": math.nan,
                "upper95": math.nan, "ci_method": "", "design_effect": math.nan,
                "units_needed": None, "key_lives_needed": None, "verdict": "no runs"}
    if k == 0:
        mean, low = 0.0, 0.0
        high = clopper_pearson_upper(0, n, 1 - (1 - CONFIDENCE) / 2)
        method = "Clopper-Pearson over units"
    else:
        mean, low, high = bootstrap_interval(f)
        method = "bootstrap over units"
    upper = clopper_pearson_upper(k, n)
    binomial_var = mean * (1 - mean) / m.mean() if m.mean() > 0 else 0.0
    deff = float(f.var(ddof=1)) / binomial_var if n > 1 and binomial_var > 0 else math.nan
    if upper < target:
        verdict = "bounded"
    elif k and low > target:
        verdict = "above"
    else:
        verdict = "open"
    return {**out, "p_mean": mean, "p_low": low, "p_high": high, "upper95": upper,
            "ci_method": method, "design_effect": deff, "units_needed": needed,
            "key_lives_needed": needed * out["key_lives_per_unit"] if needed else None,
            "verdict": verdict}


def rare_events(runs: pd.DataFrame, by: list[str], fraction: str, lives: str,
                target: float) -> pd.DataFrame:
    """rare_event() per (by...) group of tidy runs: one unit per replication,
    `fraction` its share of trials with the event, `lives` its trials."""
    rows = []
    mine = runs[runs["metric"].isin([fraction, lives])]
    for key, group in mine.groupby(by, sort=True):
        wide = group.pivot_table(index="replication", columns="metric", values="value")
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key)), **rare_event(wide[fraction], wide[lives], target)})
    return pd.DataFrame(rows)
