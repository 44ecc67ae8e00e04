"""Costs for the model, fitted to what the harness measured in data/host/.

Each parameter comes from one file and a stated row selection (rows measured
on the host only: a TCG guest's timings are never costs):

  vdso, syscall       callcost.csv, threads=1: a SizeCurve through the
                      per-size medians (power law between neighbouring
                      sizes).  The measured cost per byte grows with size,
                      so one line base_ns + ns_per_byte misses (its worst
                      residual is in the source).  Every other thread count
                      gets its own curve in Costs.call_by_threads; the
                      model's threads do not contend for CPUs, so it charges
                      the one-thread cost (a documented choice).
  reseed_ns           reseed.csv: median(zeroed) - median(warm), same size.
  fault_ns.anon       fault.csv kind=anon           (first touch, per page)
  fault_ns.droppable  fault.csv kind=droppable
  fault_ns.unevictable fault.csv kind=mlock2_onfault (touch of a locked page)
  state_fault_ns.*    fault.csv kind=anon_refault_rw, droppable_refault_rw:
                      a page just dropped (MADV_DONTNEED) read, then
                      written, alone, as the vDSO touches a state (it reads
                      state->in_use, then writes it, lib/vdso/getrandom.c):
                      the read maps the shared zero page and the write
                      replaces it, two faults (do_anonymous_page(),
                      do_wp_page(), mm/memory.c); each timed by itself,
                      since a state page faults back alone.  unevictable:
                      kind=mlock2_onfault_rw, the same pair on a fresh
                      locked page (its pages are never dropped, so only a
                      first touch, in bulk: no single-page kind for it)
  mlock_ns_per_page   fault.csv kind=mlock          (mlock of resident pages)
  scan_ns_per_page    pressure.csv, kind=droppable, outcome=ok, hog exited:
                      the hog's fill time less its fault time (ns per page
                      from the runs without reclaim), against pgscan_file
                      (Theil-Sen slope).
  walk_ns_per_page    pressure_walk_reclaim.csv: every memcg reclaim call
                      traced while the pressure grid ran (python -m
                      measure.host --only pressure_walk: the vmscan
                      tracepoints, measure.reclaim_walk), the calls' time
                      over the pages they scanned.  How fast reclaim's clock
                      runs while it walks the lists: a folio looked at twice
                      is looked at again after the pages between (the
                      model's young-bit reads), where scan_ns_per_page is
                      what a page scanned costs the task that waits.
  kswapd_pages_per_s  derived: 1e9 / scan_ns_per_page.  kswapd runs the same
                      shrink_lruvec() as direct reclaim; this is one CPU
                      scanning flat out.  No experiment here wakes kswapd
                      (memcg limits do not), so it is an upper bound.
  lru_add_wait_s      states_trace.csv off_lru_s: every measured wait of a
                      refaulted state page between its fault and its joining
                      the LRU (python -m measure.lru_trace, 10 ms
                      resolution); the model draws one per state fault.
  after_gap           idlecall_curves.csv (or, without it, idlecall.csv),
                      each mode timed alone (a thread calling once a gap:
                      idlecall --modes vdso, syscall, dropped), each call
                      timed in a function of its own (--call-code own;
                      idlecall.csv's were timed inline, and dearer after
                      a gap in the builds that took them: README, the
                      bullet on idlecall's prices), no spinners, no
                      companion threads: per mode, the
                      mean at each gap less the mean at gap 0, each the
                      mean of the processes' means (process_means(); a
                      vDSO or syscall call of DEAR_NS or more left out as
                      the machine's, not the call's: own_calls()), what
                      a call after its thread slept costs more than back
                      to back (GapCurve): vdso (its key current), syscall, zeroed
                      (mode dropped) and reseed
                      (idlecall.csv's, inline: the vDSO's calls that
                      reseeded less those whose key was current, at the
                      same gap, less reseed_ns; at shorter gaps the
                      syscall's extra, scaled to meet it).
                      Means, not medians: a thread pays the sum of its calls.
                      Measured at 16 B alone; the extra is taken to be the
                      same at every size (added, not scaled).  Where
                      idlecall timed them in a process whose other threads
                      called (--companion MODE:HZ:THREADS: the busy one and
                      those between), the vDSO's and the syscall's own
                      curves there, by the companions' calls a second
                      (Costs.process_after_gap).

A parameter without rows is refused by name.  `what_if` sets parameters by
hand; the result is flagged (Costs.what_if) and its sources say what was set.
An earlier selftest run, not kept as data, is only a what-if preset ("facts",
docs/sources.md).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from measure.provenance import side_file

from . import fits
from .datafiles import DATA as DATA_DIR, rel_path
from .sim.costs import Costs, GapCurve, Linear, SizeCurve

# Columns each file must have for the rows calibration reads.
COLUMNS = {
    "callcost.csv": ("where", "mode", "size_bytes", "threads", "ns_per_call"),
    "reseed.csv": ("where", "state", "size_bytes", "ns_per_call"),
    "fault.csv": ("where", "kind", "ns_per_page"),
    "pressure.csv": ("where", "kind", "touch", "limit_mib", "droppable_mib", "hog_mib",
                     "pages", "dropped_pages", "drop_fraction", "hog_fill_ns", "holder", "hog",
                     "outcome", "pgscan_file"),
    "states_trace.csv": ("where", "off_lru_s"),
    "pressure_walk_reclaim.csv": ("where", "command", "nr_scanned", "duration_ns"),
    "idlecall.csv": ("where", "mode", "gap_ms", "spin", "size_bytes", "ns_per_call",
                     "rng_moved"),
    "idlecall_curves.csv": ("where", "mode", "gap_ms", "spin", "size_bytes", "ns_per_call",
                            "rng_moved", "call_code"),
}
# The model's after_gap settings timed again, each call in a function of
# its own (measure_after_gap()).
CURVES_FILE = "idlecall_curves.csv"
NUMERIC = {"size_bytes", "threads", "ns_per_call", "ns_per_page", "limit_mib", "droppable_mib",
           "hog_mib", "pages", "dropped_pages", "drop_fraction", "hog_fill_ns", "pgscan_file",
           "off_lru_s", "nr_scanned", "duration_ns", "gap_ms", "spin", "rng_moved"}

# Every parameter, the file it is measured in.
PARAMETERS = {
    "vdso": "callcost.csv", "syscall": "callcost.csv",
    "reseed_ns": "reseed.csv",
    "fault_ns.anon": "fault.csv", "fault_ns.droppable": "fault.csv",
    "fault_ns.unevictable": "fault.csv", "mlock_ns_per_page": "fault.csv",
    "state_fault_ns.anon": "fault.csv", "state_fault_ns.droppable": "fault.csv",
    "state_fault_ns.unevictable": "fault.csv",
    "scan_ns_per_page": "pressure.csv", "kswapd_pages_per_s": "pressure.csv",
    "walk_ns_per_page": "pressure_walk_reclaim.csv",
    "lru_add_wait_s": "states_trace.csv",
    "after_gap": "idlecall.csv",
}
FAULT_KINDS = {"fault_ns.anon": "anon", "fault_ns.droppable": "droppable",
               "fault_ns.unevictable": "mlock2_onfault", "mlock_ns_per_page": "mlock",
               "state_fault_ns.anon": "anon_refault_rw",
               "state_fault_ns.droppable": "droppable_refault_rw",
               "state_fault_ns.unevictable": "mlock2_onfault_rw"}
# idlecall's modes: vdso, dropped (a call on a state dropped before the
# sleep) and syscall; its --modes default takes turns, rows from before the
# option have no modes column and took turns.
IDLE_MODES = ("vdso", "dropped", "syscall")
TAKING_TURNS = ",".join(IDLE_MODES)
# A gap is a point of an after_gap curve only with this many calls timed.
IDLE_MIN_CALLS = 5
AFTER_GAP_KINDS = ("vdso", "syscall", "zeroed", "reseed")
PAGE_BYTES = 4096
MIB = 1 << 20
# What a what-if may set: a per-call line replaces the measured curve.
WHAT_IF_KEYS = ("vdso.base_ns", "vdso.ns_per_byte", "syscall.base_ns", "syscall.ns_per_byte",
                *(p for p in PARAMETERS if p not in ("vdso", "syscall")))

# An earlier run of the kernel selftest vdso_test_getrandom bench-single on
# this machine kind, 4-byte calls, 3 runs (docs/sources.md): not in data/,
# so only ever a what-if.
WHAT_IF_PRESETS = {
    "facts": {"vdso.base_ns": (19 + 26) / 2, "vdso.ns_per_byte": 0.0,
              "syscall.base_ns": (453 + 516) / 2, "syscall.ns_per_byte": 0.0},
}


class CalibrationError(ValueError):
    """Data that cannot be calibrated from; str() is the one-line message."""


@dataclass(frozen=True)
class Estimate:
    value: float | tuple
    source: str


# -- reading ---------------------------------------------------------------------

def read_table(path: Path, columns=None, host_only: bool = True) -> pd.DataFrame:
    """A harness CSV, checked: one-line CalibrationError naming file and column.

    Only rows measured on the host, unless host_only is False.
    """
    name = path.name
    columns = COLUMNS.get(name, ()) if columns is None else columns
    try:
        # Typed whole (low_memory=False), not chunk by chunk: a column added
        # to a file since its first runs (lru, cgroup, swap_kib) is empty in
        # their rows and filled in later ones.
        frame = pd.read_csv(path, keep_default_na=False, na_values=["", "na", "NA"],
                            low_memory=False)
    except FileNotFoundError:
        raise CalibrationError(f"{rel_path(path)}: no such file (make calibrate writes it)") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CalibrationError(f"{rel_path(path)}: not a readable CSV: {first}") from None
    for column in columns:
        if column not in frame.columns:
            raise CalibrationError(f"{rel_path(path)}: missing column '{column}'")
        if column in NUMERIC:
            values = pd.to_numeric(frame[column], errors="coerce")
            bad = values.isna() & frame[column].notna()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise CalibrationError(f"{rel_path(path)}: column '{column}', row {row + 2}: "
                                       f"not a number: {frame[column].iloc[row]!r}")
            frame[column] = values
    return frame[frame["where"] == "host"] if host_only and "where" in columns else frame


def _describe_rows(frame: pd.DataFrame) -> str:
    """The provenance a source string carries: kernel and date of the rows."""
    parts = []
    for column in ("kernel_release", "date_utc"):
        if column in frame.columns and len(frame):
            values = sorted(set(map(str, frame[column])))
            parts.append(values[0] if len(values) == 1 else f"{values[0]}..{values[-1]}")
    return ", ".join(parts)


# -- the fits ----------------------------------------------------------------------

def fit_calls(frame: pd.DataFrame, path: Path, mode: str, threads: int, sizes=None):
    """(SizeCurve, source) for one mode and thread count, or (None, why not).

    The curve goes through the per-size medians.  The best single line
    (base_ns + ns_per_byte) is fitted too and its worst residual reported,
    so the reader sees why the curve is used.
    """
    rows = frame[(frame["mode"] == mode) & (frame["threads"] == threads)]
    if sizes is not None:
        rows = rows[rows["size_bytes"].isin(sizes)]
    if rows["size_bytes"].nunique() < 2:
        return None, (f"{rel_path(path)} has no rows with mode={mode} threads={threads} "
                      f"at two sizes or more")
    medians = rows.groupby("size_bytes")["ns_per_call"].median()
    curve = SizeCurve(tuple(int(s) for s in medians.index), tuple(map(float, medians)))
    line = fits.relative_line(medians.index, medians.to_numpy())
    spread = "; ".join(f"{int(s)} B {fits.median_ci(g)}" for s, g in
                       rows.groupby("size_bytes")["ns_per_call"])
    source = (f"{rel_path(path)} mode={mode} threads={threads}, {len(rows)} rows "
              f"({_describe_rows(rows)}): log-log interpolation of per-size ns_per_call "
              f"medians [{spread}]; the best line {line.base:.4g} ns + {line.slope:.4g} ns/B "
              f"misses a median by up to {line.max_rel_residual:.0%}")
    return curve, source


def _median(frame, path, column, **match) -> tuple[fits.Median | None, str]:
    rows = frame
    for key, value in match.items():
        rows = rows[rows[key] == value]
    rows = rows[column].dropna()
    where = " ".join(f"{k}={v}" for k, v in match.items())
    if rows.empty:
        return None, f"{rel_path(path)} has no rows with {where}"
    return fits.median_ci(rows), f"{rel_path(path)} {where}"


def measure_calls(data_dir: Path, sizes=None) -> tuple[dict, dict]:
    """Parameters from callcost.csv, and every (mode, threads) line."""
    path = data_dir / "host" / "callcost.csv"
    frame = read_table(path)
    out, by_threads = {}, {}
    for mode in ("vdso", "syscall"):
        for threads in sorted(frame.loc[frame["mode"] == mode, "threads"].unique()):
            curve, source = fit_calls(frame, path, mode, int(threads), sizes)
            if curve is not None:
                by_threads[mode, int(threads)] = curve
        curve, source = fit_calls(frame, path, mode, 1, sizes)
        out[mode] = Estimate(curve, source) if curve else source
    return out, by_threads


def measure_reseed(data_dir: Path) -> dict:
    path = data_dir / "host" / "reseed.csv"
    frame = read_table(path)
    sizes = sorted(set(frame.loc[frame["state"] == "zeroed", "size_bytes"])
                   & set(frame.loc[frame["state"] == "warm", "size_bytes"]))
    if not sizes:
        return {"reseed_ns": f"{rel_path(path)} has no warm and zeroed rows of one size"}
    size = sizes[0]
    zeroed, _ = _median(frame, path, "ns_per_call", state="zeroed", size_bytes=size)
    warm, _ = _median(frame, path, "ns_per_call", state="warm", size_bytes=size)
    source = (f"{rel_path(path)} size_bytes={size}: zeroed {zeroed} minus warm {warm} "
              f"({_describe_rows(frame)})")
    return {"reseed_ns": Estimate(zeroed.value - warm.value, source)}


def measure_faults(data_dir: Path) -> dict:
    path = data_dir / "host" / "fault.csv"
    frame = read_table(path)
    out = {}
    for name, kind in FAULT_KINDS.items():
        median, where = _median(frame, path, "ns_per_page", kind=kind)
        out[name] = (Estimate(median.value, f"{where}: ns_per_page {median} "
                                            f"({_describe_rows(frame)})")
                     if median else where)
    return out


def reclaim_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Droppable runs that finished: the hog exited and wrote all of H."""
    return frame[(frame["kind"] == "droppable") & (frame["outcome"] == "ok")
                 & (frame["hog"] == "exited") & frame["hog_fill_ns"].notna()]


def _limits_said(limits) -> str:
    """The rows a reclaim parameter was taken from, as its source says it."""
    return ("all limits" if limits is None
            else "limit_mib in " + ",".join(str(int(x)) for x in sorted(limits)))


def measure_reclaim(data_dir: Path, limits=None) -> dict:
    path = data_dir / "host" / "pressure.csv"
    rows = reclaim_rows(read_table(path))
    if limits is not None:
        rows = rows[rows["limit_mib"].isin(limits)]
    hog_pages = rows["hog_mib"] * (MIB // PAGE_BYTES)
    calm = rows["pgscan_file"] == 0
    scanned = rows["pgscan_file"] > 0
    if calm.sum() < 1 or scanned.sum() < 2:
        why = (f"{rel_path(path)} needs droppable runs that finished both without reclaim "
               f"(pgscan_file=0) and with it")
        return {"scan_ns_per_page": why, "kswapd_pages_per_s": why}
    fill = fits.median_ci(rows.loc[calm, "hog_fill_ns"] / hog_pages[calm])
    excess_ns = rows.loc[scanned, "hog_fill_ns"] - fill.value * hog_pages[scanned]
    slope, intercept, low, high = fits.robust_slope(rows.loc[scanned, "pgscan_file"],
                                                    excess_ns)
    if slope <= 0:
        why = (f"{rel_path(path)}: the hog's fill time does not grow with pages scanned "
               f"(Theil-Sen slope {slope:.3g} ns/page)")
        return {"scan_ns_per_page": why, "kswapd_pages_per_s": why}
    what = _limits_said(limits)
    source = (f"{rel_path(path)} kind=droppable outcome=ok hog=exited, {what}: hog fill "
              f"{fill} ns/page from {int(calm.sum())} runs without reclaim; fill time "
              f"beyond that against pgscan_file over {int(scanned.sum())} runs: Theil-Sen "
              f"slope {slope:.4g} ns/page (95% CI {low:.4g}-{high:.4g}), intercept "
              f"{intercept / 1e6:.3g} ms ({_describe_rows(rows)})")
    return {"scan_ns_per_page": Estimate(slope, source),
            "kswapd_pages_per_s": Estimate(1e9 / slope, "derived: 1e9 / scan_ns_per_page, "
                                           "one CPU scanning flat out (upper bound); "
                                           + source)}


def measure_walk(data_dir: Path, limits=None) -> dict:
    """walk_ns_per_page: the traced calls' time over the pages they scanned
    (a call that scanned nothing walked nothing), at `limits` if given."""
    path = data_dir / "host" / "pressure_walk_reclaim.csv"
    calls = read_table(path)
    limit = calls["command"].str.extract(r"--limit-mib (\d+)", expand=False).astype(float)
    if limits is not None:
        calls = calls[limit.isin(limits)]
    calls = calls[calls["nr_scanned"] > 0]
    if len(calls) < 2:
        return {"walk_ns_per_page": f"{rel_path(path)} needs traced reclaim calls that "
                                    f"scanned pages"}
    walk = calls["duration_ns"].sum() / calls["nr_scanned"].sum()
    per_call = calls["duration_ns"] / calls["nr_scanned"]
    what = _limits_said(limits)
    source = (f"{rel_path(path)}, {what}: {len(calls)} memcg reclaim calls, "
              f"{calls['duration_ns'].sum() / 1e6:.4g} ms over {int(calls['nr_scanned'].sum())} "
              f"pages scanned (per call: median {per_call.median():.4g} ns, quartiles "
              f"{per_call.quantile(0.25):.4g}-{per_call.quantile(0.75):.4g}) "
              f"({_describe_rows(calls)})")
    return {"walk_ns_per_page": Estimate(walk, source)}


# python -m measure.lru_trace's refaults: one row per refault of a state page.
LRU_TRACE = Path("host") / "states_trace.csv"


def read_lru_trace(data_dir: Path, columns=None) -> pd.DataFrame:
    """data_dir's states_trace.csv, checked (CalibrationError without it)."""
    return read_table(data_dir / LRU_TRACE, columns)


def still_off_lru(frame: pd.DataFrame) -> pd.Series:
    """The refaults whose page was still off the LRU when their trace
    ended (outcome "end", no off_lru_s): their wait is right-censored."""
    return frame["off_lru_s"].isna() & (frame.get("outcome") == "end")


def traced_waits(frame: pd.DataFrame) -> pd.Series:
    """Each refault's wait off the LRU.  A page still off the LRU when its
    trace ended waited at least until then, the run's end (--run-s, in its
    command) less when it faulted: that lower bound, not nothing, or the
    longest waits (a caller away from the reader can wait minutes)
    would be the ones left out.  waits_drawn() reads the bounds as such."""
    waits = frame["off_lru_s"].astype(float)
    open_ = still_off_lru(frame)
    if open_.any():
        run_s = frame.loc[open_, "command"].str.extract(r"--run-s (\d+)")[0].astype(float)
        waits[open_] = run_s - frame.loc[open_, "faulted_s"].astype(float)
    return waits.dropna()


KM_SLACK = 1e-9     # far below 1 / (pool size)^2, far above a float sum's error


def kaplan_meier_waits(waits, censored) -> tuple[float, ...]:
    """The waits the model draws from (uniformly, one per refault) when some
    of them are only lower bounds (`censored`): as many quantiles, at the
    middles of equal slices, of their Kaplan-Meier estimate.  A censored
    wait's share goes to the longer waits that ended (Efron's
    redistribution to the right), so that a 120 s trace's open 88 s wait
    takes the length of the waits a longer trace saw end beyond 88 s, not
    88 s; what outlasted every ended wait keeps its own bound (nothing is
    known beyond it: the lower-bound reading, for that share only).
    Without censored waits, the waits themselves, in their order."""
    waits, censored = np.asarray(waits, float), np.asarray(censored, bool)
    if not censored.any():
        return tuple(float(w) for w in waits)
    order = np.lexsort((censored, waits))   # an ended wait before an open one of its length
    waits, censored = waits[order], censored[order]
    at_risk = len(waits) - np.arange(len(waits))
    survival = np.cumprod(np.where(censored, 1.0, 1.0 - 1.0 / at_risk))
    before = np.concatenate([[1.0], survival[:-1]])
    share = np.where(censored, 0.0, before - survival)
    ended = np.flatnonzero(~censored)
    last = ended[-1] if len(ended) else -1
    beyond = np.arange(len(waits)) > last       # outlasted every ended wait
    if beyond.any():
        share[beyond] = (survival[last] if len(ended) else 1.0) / beyond.sum()
    cdf = np.cumsum(share)
    levels = (np.arange(len(waits)) + 0.5) / len(waits)
    # A level the estimate reaches exactly (7/12 of [1,2+,3,4,4+,5]) picks
    # that wait, not the next one, whatever the cumulative sum's last bit.
    picked = np.minimum(np.searchsorted(cdf, levels - KM_SLACK, side="left"), len(waits) - 1)
    return tuple(float(w) for w in waits[picked])


def waits_drawn(frame: pd.DataFrame) -> tuple[float, ...]:
    """A trace's refaults' waits as the model draws them (kaplan_meier_waits
    of traced_waits, the open ones censored)."""
    waits = traced_waits(frame)
    return kaplan_meier_waits(waits, still_off_lru(frame)[waits.index])


def measure_lru_add_wait(data_dir: Path) -> dict:
    """The waits themselves, not a summary: which of them a fault meets
    decides whether its page is scanned twice before or after a call."""
    path = data_dir / LRU_TRACE
    frame = read_lru_trace(data_dir)
    waits = waits_drawn(frame)
    if not waits:
        return {"lru_add_wait_s": f"{rel_path(path)} has no refaults"}
    source = (f"{rel_path(path)}: off_lru_s of {len(waits)} refaults, median "
              f"{np.median(waits):.3g} s, {sum(w >= 0.5 for w in waits)} of 0.5 s or more, "
              f"max {max(waits):.3g} s ({_describe_rows(frame)})")
    return {"lru_add_wait_s": Estimate(waits, source)}


# The arms later tests added to a states run, and what a run taken before
# the harness (or calibrate) had each ran as: the scheduler's placement
# (--placement any), no burner beside it (the mobility test's burn_duty, a
# fraction of one CPU), the scheduler moving the reader (--reader-hop-ms 0),
# the caller's TLB left to the kernel (--tlb-flush-ms 0).
ARM_DEFAULTS = {"placement": "any", "burn_duty": 0.0, "reader_hop_ms": 0, "tlb_flush_ms": 0}


# A states class calling getrandom(2) instead of the vDSO (the harness's
# `states --classes RATE:THREADS:syscall`): the twin that prices the
# syscall in the same loop.  It has no state to find zeroed.
SYSCALL_CLASS = ":syscall"


def vdso_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the states runs whose every class calls the vDSO: a run
    of syscall classes (states_quiet.csv's, states_prices.csv's twins) has
    no state for reclaim to drop, so no drop fraction to predict."""
    twin = frame["classes"].str.contains(SYSCALL_CLASS, regex=False)
    # copy(): a frame of its own, one block per dtype, cheap to add columns to.
    return frame[~frame["run"].isin(frame.loc[twin, "run"])].copy()


def arm_of(frame: pd.DataFrame, column: str) -> pd.Series:
    """Each row's `column` of ARM_DEFAULTS, its default where not recorded."""
    default = ARM_DEFAULTS[column]
    if column not in frame:
        return pd.Series(default, index=frame.index)
    if isinstance(default, str):
        return frame[column].fillna(default)
    return pd.to_numeric(frame[column], errors="raise").fillna(default).astype(type(default))


# Every trace validate draws a states run's waits from: the campaign's
# (the model's own waits, above), spike_churn's, the placement test's
# pinned arms, the reader test's unpinned traces and the split arm's long
# traces (python -m measure.lru_trace --traces
# spike_churn|placement|reader|split_long|split_churn|split_spike).
# split_churn's four were taken after churn's split 0.05 Hz case had
# missed, to see whether its 45 waits were undersampled, split_spike's
# after spike_churn's split 1 Hz case had (so both regimes' split arms
# have eight traces); they are inputs like the rest.
LRU_TRACES = (LRU_TRACE, Path("host") / "states_trace_spike.csv",
              Path("host") / "states_trace_placement.csv",
              Path("host") / "states_trace_reader.csv",
              Path("host") / "states_trace_split_long.csv",
              Path("host") / "states_trace_split_churn.csv",
              Path("host") / "states_trace_split_spike.csv")


def lru_add_waits_by_regime(data_dir: Path) -> dict:
    """{(regime, placement): its refaults' waits} over LRU_TRACES: how long
    a refaulted page waits depends on what else its CPU runs (the reader,
    the hog, the other classes), and whether the callers share the churn
    reader's CPU (placement: any, unpinned; same; split), so a states run is
    best predicted with the waits traced under its own regime and placement.
    Files without a `regime` column are left out; rows without a
    `placement` ran unpinned.  Empty without any trace."""
    frames = [read_table(data_dir / path, ("where", "off_lru_s")) for path in LRU_TRACES
              if (data_dir / path).exists()]
    frames = [f.assign(placement=arm_of(f, "placement")) for f in frames if "regime" in f.columns]
    if not frames:
        return {}
    frame = pd.concat(frames, ignore_index=True)
    pools = {(str(regime), str(placement)): waits_drawn(g)
             for (regime, placement), g in frame.groupby(["regime", "placement"])}
    return {arm: waits for arm, waits in pools.items() if waits}


# -- the waits of an unpinned run, from where its churn reader ran ----------------

def moves_file(states_file: Path) -> Path:
    """Where measure.host keeps a states experiment's reader moves."""
    return side_file(states_file, "moves")


def read_reader_moves(path: Path) -> dict[int, pd.DataFrame]:
    """{run: its reader's moves, t_s (since the window's start) and cpu, in
    time order}; empty without the file (runs taken before the harness
    logged its reader)."""
    if not path.exists():
        return {}
    frame = read_table(path, ("where", "run", "t_s", "cpu"))
    return {int(run): g.sort_values("t_s", kind="stable")[["t_s", "cpu"]].reset_index(drop=True)
            for run, g in frame.groupby("run")}


# The harness keeps a run's first READER_LOG moves (reader_log in
# kernel-patches/harness/vgetrandom-harness.c, "# reader: log full" after
# them): a reader hopping every 10 ms fills it about 100 s into its 130 s
# run (the hop test).
READER_LOG = 8192


def moves_end_s(moves: pd.DataFrame, end_s: float) -> float:
    """Up to when a run's moves say where its reader was: its end, or the
    last move of a full log (nothing is known of the reader after it)."""
    if len(moves) >= READER_LOG:
        return min(end_s, float(moves["t_s"].iloc[-1]))
    return end_s


def reader_moves_per_s(moves: pd.DataFrame, run_s: float) -> float:
    """How often the reader changed CPU in the counted window, as far as
    its moves cover it: its first row (its first read, before the window)
    and any settle-time move are not moves of the window."""
    covered = moves_end_s(moves, run_s)
    return int(((moves["t_s"] >= 0) & (moves["t_s"] <= covered)).sum()) / covered


def reader_back_s(moves: pd.DataFrame, ncpus: int, end_s: float,
                  step_s: float = 0.05, at: np.ndarray | None = None) -> np.ndarray:
    """For a refault at any time (every step_s from the reader's first read
    to end_s, or at the instants `at` only) on any CPU but the reader's:
    how long until the reader next reads on that CPU.  That is when the
    refault's lru_add batch fills (the unpaced reader adds thousands of
    folios a second wherever it runs: states_trace_reader.csv).  A CPU the
    reader never comes back to waits until end_s at least (the lower bound,
    as traced_waits() takes it).  A full log ends the grid at its last move
    (moves_end_s)."""
    end_s = moves_end_s(moves, end_s)
    t_move, cpu_move = moves["t_s"].to_numpy(float), moves["cpu"].to_numpy(int)
    if at is None:
        grid = np.arange(t_move[0], end_s, step_s)
    else:
        at = np.asarray(at, float)
        grid = at[(at >= t_move[0]) & (at < end_s)]
    reader = cpu_move[np.searchsorted(t_move, grid, side="right") - 1]
    backs = []
    for cpu in range(ncpus):
        to_cpu = np.append(t_move[cpu_move == cpu], end_s)   # never again: until the end
        back = to_cpu[np.searchsorted(to_cpu[:-1], grid, side="right")] - grid
        backs.append(back[reader != cpu])
    return np.concatenate(backs)


# How many waits a run's mixture is drawn as (the model draws one of them
# uniformly per refault, workload._lru_add()).
MIXED_WAITS = 4000


def waits_from_moves(moves: pd.DataFrame, ncpus: int, end_s: float, away_share: float,
                     beside: tuple, elsewhere: tuple, at: np.ndarray | None = None) -> tuple:
    """The waits of one unpinned run's refaults: a share away_share of them
    away from the reader, each waiting for the reader to come back to its
    CPU or for its CPU to drain otherwise (the waits traced with the reader
    pinned elsewhere, `elsewhere`), whichever comes first; the others
    beside the reader, waiting as traced there (`beside`).  Drawn as
    MIXED_WAITS quantiles, the two parts in proportion.  `at`: the only
    instants a refault can happen (reader_back_s), where the calls are
    timer-locked."""
    back = reader_back_s(moves, ncpus, end_s, at=at)
    away = np.minimum.outer(back, np.asarray(elsewhere, float)).ravel() if elsewhere else back
    n_away = int(round(float(np.clip(away_share, 0.0, 1.0)) * MIXED_WAITS))
    return tuple(float(w) for w in np.concatenate([wait_quantiles(away, n_away),
                                                   wait_quantiles(beside, MIXED_WAITS - n_away)]))


def wait_quantiles(values, n: int = MIXED_WAITS) -> np.ndarray:
    """n waits standing for `values`: their quantiles at the middles of n
    equal slices (so a mixture of equal-length draws stays a mixture)."""
    if n == 0:
        return np.empty(0)
    return np.quantile(np.asarray(values, float), (np.arange(n) + 0.5) / n,
                       method="inverted_cdf")


def taking_turns(rows: pd.DataFrame) -> pd.Series:
    """Each idlecall row's modes: those that took turns in its run."""
    if "modes" not in rows:
        return pd.Series(TAKING_TURNS, index=rows.index)
    return rows["modes"].fillna(TAKING_TURNS)


def each_alone(rows: pd.DataFrame) -> pd.DataFrame:
    """idlecall rows of runs that timed one mode alone (--modes MODE)."""
    return rows[taking_turns(rows) == rows["mode"]]


# How idlecall timed a thread's calls (idle_setting): alone on a machine
# left alone (lone), with its process's other threads calling on states of
# their own pages (busy: --companion MODE:HZ:THREADS) or on its own state's
# page (page-mates: --companion vdso:HZ:THREADS:shared; or on the pages
# after its own in its mapping, as the states experiment lays out its
# classes: :next, "states in one mapping"; busy page-mates when
# each calls as often as the states campaign's busy class, BUSY_HZ; a process
# whose other threads call less often than that is named by their calls a
# second, between(): "280 calls/s"), timed in
# the process's main thread or in a thread it created (--thread 1; with
# its companions on the states threads' 64 KiB stacks, --thread 2), each
# after the states threads' zeroed check (--read-first 1) or not, and waking
# as the states threads wake (--abs-sleep 1) or not, in a forked child
# (--fork 1, as the states experiment's callers run) or not, its
# companions working around each call as the states threads do
# (--companion-check 1: "companions checking") or not, the call's buffer
# written before the clock starts (--touch-buf 1) or not, the call timed
# in a function of its own, its arguments loaded before the clock starts
# (--call-code own: "timed in a function"; shared: its companions calling
# through it too, "timed in a shared function"; idlecall_code.csv) or
# inline, as every run of idlecall.csv; spinners on
# every CPU (--spin 1) apart.  Runs labelled --repeat K time one setting in several
# processes; they are of their setting like any other run, each run one
# process (process_means()).  The model's after_gap: lone, busy and those
# between, the main thread.
LONE, BUSY, MATES, BUSY_MATES = "lone", "busy", "page-mates", "busy page-mates"
BETWEEN = " calls/s"  # between(): a process named by its companions' calls a second
BUSY_HZ = 1000      # measure/host.py STATE_CLASSES: the states campaign's busy class
CREATED, READ_FIRST, ABS_SLEEP = ", created thread", ", read first", ", abs sleep"
SMALL_STACKS, ONE_MAPPING, FORKED = ", 64 KiB stacks", ", states in one mapping", ", forked"
CHECKING, TOUCHED = ", companions checking", ", buffer touched"
IN_FUNCTION, IN_SHARED_FUNCTION = ", timed in a function", ", timed in a shared function"
CALL_CODES = {"own": IN_FUNCTION, "shared": IN_SHARED_FUNCTION}     # --call-code
IDLE_SETTINGS = tuple(base + place + thread + read + wake + fork + check + touch + code
                      for code in ("", *CALL_CODES.values())
                      for touch in ("", TOUCHED)
                      for check in ("", CHECKING)
                      for fork in ("", FORKED)
                      for wake in ("", ABS_SLEEP)
                      for read in ("", READ_FIRST)
                      for thread in ("", CREATED, CREATED + SMALL_STACKS)
                      for base in (LONE, BUSY, MATES, BUSY_MATES)
                      for place in ("", ONE_MAPPING))


def idle_setting(rows: pd.DataFrame) -> pd.Series:
    """Each idlecall row's setting, one of IDLE_SETTINGS or "spin" (rows
    from before --companion, --thread and --read-first had none)."""
    def column(name: str, default):
        return rows[name].fillna(default) if name in rows else pd.Series(default, rows.index)
    companion = column("companion", "none").astype(str)
    shared = companion.str.endswith(":shared")
    fields = companion.str.split(":")
    hz = pd.to_numeric(fields.str[1], errors="coerce")
    busy_hz = hz >= BUSY_HZ
    calls = (hz * pd.to_numeric(fields.str[2], errors="coerce")).map(between, na_action="ignore")
    setting = pd.Series(np.select([shared & busy_hz, shared, busy_hz, companion != "none"],
                                  [BUSY_MATES, MATES, BUSY, calls], LONE), rows.index, dtype=object)
    setting[companion.str.endswith(":next")] += ONE_MAPPING
    thread = column("thread", 0).astype(int)
    setting[thread >= 1] += CREATED
    setting[thread == 2] += SMALL_STACKS
    setting[column("read_first", 0).astype(int) == 1] += READ_FIRST
    setting[column("abs_sleep", 0).astype(int) == 1] += ABS_SLEEP
    setting[column("fork", 0).astype(int) == 1] += FORKED
    setting[column("companion_check", 0).astype(int) == 1] += CHECKING
    setting[column("touch_buf", 0).astype(int) == 1] += TOUCHED
    code = column("call_code", "none").astype(str)
    for name, suffix in CALL_CODES.items():
        setting[code == name] += suffix
    setting[rows["spin"] != 0] = "spin"
    return setting


# A vDSO or syscall call this dear by the wall clock is not the call's own
# cost, and no mean of calls takes it (own_calls()): over twice the dearest
# mean of any point (the lone syscall's after 20 s, 4.3 us), where the
# calls split (of idlecall.csv's 17,830 timed each alone at 98d3ced, 3
# between 10 and 20 us, 23 from 20 to 130 us).  They come about as often
# a call each way (12 of 7,320 syscalls, 14 of 10,510 vDSO calls), where
# the syscall's own work takes five times as long, and the thread's CPU
# clock holds them (idlecall_clock.csv): the machine's, on the calling
# CPU, not the call's.  One moved its point's mean over 4-21 processes
# by 100-300 ns.  `model costs` counts them and what they would add a call.
# The rule was set before its effect on any price was looked at.
DEAR_NS = 10_000


def dear_call(calls: pd.DataFrame) -> pd.Series:
    """Which idlecall rows are vDSO or syscall calls of DEAR_NS or more (a
    zeroed state's call, mode dropped, faults and reseeds: dear by its own
    work, and never one)."""
    return (calls["mode"] != "dropped") & (calls["ns_per_call"] >= DEAR_NS)


def own_calls(calls: pd.DataFrame) -> pd.DataFrame:
    """idlecall rows less their dear calls (dear_call())."""
    return calls[~dear_call(calls)]


def process_means(calls: pd.DataFrame, by=()) -> pd.Series:
    """Each process's mean over its own calls (own_calls() of `calls`,
    idlecall rows; within each group of
    the columns `by`, first in the index), a process known by its run's
    command and start (date_utc): idlecall runs a command in a process of
    its own, once a file (--resume matches runs by command; --repeat K
    labels a setting's processes apart).  What
    one process pays differs from the next by more than its calls' spread
    (two processes' lone vDSO calls after 1 s: 0.83 and 1.83 us), so the process,
    not the call, is the unit over which a setting's price is averaged."""
    return own_calls(calls).groupby([*by, "date_utc", "command"])["ns_per_call"].mean()


def companion_settings(setting: pd.Series) -> list[str]:
    """The settings of a process's main thread timed beside companions on
    states of their own, the busy one and those between (idle_setting()):
    what the model prices a process's calls by, by its calls a second."""
    named = setting.drop_duplicates()
    return [s for s in named if s == BUSY or s.endswith(BETWEEN)]


def between(calls_per_s: float) -> str:
    """The setting of a process whose other threads make calls_per_s calls a
    second, fewer than the busy class's (the model prices a process
    calling as often, up to the next setting timed, at its curves)."""
    return f"{calls_per_s:g}{BETWEEN}"


def companion_calls_per_s(companion: str) -> float:
    """idlecall's --companion MODE:HZ:THREADS -> the companions' calls a second."""
    _, hz, threads = companion.split(":")[:3]
    return float(hz) * int(threads)


def lone_thread(rows: pd.DataFrame) -> pd.DataFrame:
    """idlecall rows of a thread calling with its machine left alone, its
    call timed cold: what after_gap is measured on."""
    return rows[idle_setting(rows) == LONE]


def gap_curve(rows: pd.DataFrame, mode: str) -> tuple[float, GapCurve] | None:
    """The mean of `mode`'s calls timed alone at gap 0 (a vDSO call's with
    its key current) and what they cost more after each longer gap, at the
    gaps with IDLE_MIN_CALLS calls or more; each gap's mean the mean over
    the processes that timed it of each one's mean (process_means()); None
    without gap 0 and another."""
    alone = each_alone(rows)
    key_current = ~((alone["mode"] == "vdso") & (alone["rng_moved"] == 1))
    calls = alone[(alone["mode"] == mode) & key_current]
    enough = calls.groupby("gap_ms").size() >= IDLE_MIN_CALLS
    means = process_means(calls, ["gap_ms"]).groupby(level="gap_ms").mean()[enough].sort_index()
    if 0 not in means.index or len(means) < 2:
        return None
    base = float(means.loc[0])
    return base, GapCurve(tuple(g / 1000 for g in means.index),
                          tuple(float(v - base) for v in means))


def measure_after_gap(data_dir: Path) -> dict:
    """Each mode's mean alone by gap (GapCurve), and the reseed's own cost
    at the gaps where enough of the vDSO's calls reseeded (a tuple of
    (gap_s, ns), made a curve by after_gap_curves()).

    The curves from CURVES_FILE where it is there: its calls were timed in
    a function of their own, the call's arguments in registers before the
    clock starts.  idlecall.csv's were timed inline, the compiler loading
    the state's address between the clock reads, and in a busy process the
    builds that took them paid up to about three times the call's own cost
    after a gap (README, the bullet on idlecall's prices).  The reseed's
    cost stays idlecall.csv's, a difference between the calls of one
    setting and build (those that reseeded less those whose key was
    current), at its gaps of 1 s or more, where CURVES_FILE times too few
    calls to find it."""
    path = data_dir / "host" / "idlecall.csv"
    if not path.exists():
        return {"after_gap": f"{rel_path(path)}: no such file (python -m measure.host "
                             f"--only idlecall writes it)"}
    frame = read_table(path)
    inline_setting = idle_setting(frame)
    timed_path, timed, setting = path, frame, inline_setting
    if (data_dir / "host" / CURVES_FILE).exists():
        timed_path = data_dir / "host" / CURVES_FILE
        timed = read_table(timed_path)
        setting = idle_setting(timed)
        in_function = setting.str.endswith(IN_FUNCTION)
        timed, setting = timed[in_function], setting[in_function].str.removesuffix(IN_FUNCTION)
    rows = timed[setting == LONE]
    curves, said = {}, []

    def say(kind: str, base: float, curve: GapCurve) -> None:
        said.append(f"{kind} " + ", ".join(f"{g * 1000:g} ms {base + e:.0f}"
                                           for g, e in zip(curve.gaps_s, curve.extra_ns)))
    for kind, mode in (("vdso", "vdso"), ("syscall", "syscall"), ("zeroed", "dropped")):
        measured_so = gap_curve(rows, mode)
        if measured_so is None:
            return {"after_gap": f"{rel_path(timed_path)}: mode {mode} not timed alone at "
                                 f"gap 0 and another gap, {IDLE_MIN_CALLS} calls each"}
        say(kind, *measured_so)
        curves[kind] = measured_so[1]
    # In a process whose other threads called (the busy one, those
    # between), where measured: its own curves, by the companions' calls a
    # second (the busy setting's slowest companions where they differ).
    by_process, used = [], [rows]
    for name, rows_there in timed[setting.isin(companion_settings(setting))].groupby(
            setting, sort=False):
        measured_there = {mode: curve for mode in ("vdso", "syscall")
                          if (curve := gap_curve(rows_there, mode)) is not None}
        if not measured_there:
            continue
        calls_per_s = min(map(companion_calls_per_s, set(rows_there["companion"])))
        by_process.append((calls_per_s, {m: c for m, (_, c) in measured_there.items()}))
        used.append(rows_there)
        label = name if name == between(calls_per_s) else f"{name}, {between(calls_per_s)}"
        for mode, (base, curve) in measured_there.items():
            say(f"{mode} beside {label}", base, curve)
    curves["by_process"] = tuple(sorted(by_process, key=lambda item: item[0]))
    lone = each_alone(frame[inline_setting == LONE])
    vdso = own_calls(lone[lone["mode"] == "vdso"])
    by = vdso.groupby(["gap_ms", "rng_moved"])["ns_per_call"]
    n, mean = by.size().unstack(fill_value=0), by.mean().unstack()
    both = n.index[(n.get(0, 0) >= IDLE_MIN_CALLS) & (n.get(1, 0) >= IDLE_MIN_CALLS)] \
        if 1 in n.columns else []
    # The reseed's own cost after a gap; less reseed_ns in build_costs.  A
    # difference between the calls of the same processes, so over calls.
    curves["reseed"] = tuple((g / 1000, float(mean.loc[g, 1] - mean.loc[g, 0])) for g in both)
    said.append(f"reseeded less key current ({rel_path(path)}, timed inline, each mode alone) "
                + (", ".join(f"{g * 1000:g} ms {v:.0f}" for g, v in curves["reseed"])
                   or "at no gap"))
    used = each_alone(pd.concat(used))
    cpus = ", ".join(sorted(set(map(str, used.get("cpu_model", [])))))
    timing = ", each call timed in a function of its own (--call-code own)" \
        if timed_path != path else ", timed inline"
    source = (f"{rel_path(timed_path)}{timing}, each mode alone, spin 0, means in ns by gap "
              f"(>= {IDLE_MIN_CALLS} calls; the mean of the processes' means, vDSO and "
              f"syscall calls of {DEAR_NS / 1000:g} us or more left out): " + "; ".join(said)
              + f" ({_describe_rows(used)}, {cpus})")
    return {"after_gap": Estimate(curves, source)}


MEASURES = {"reseed.csv": measure_reseed, "fault.csv": measure_faults,
            "states_trace.csv": measure_lru_add_wait, "idlecall.csv": measure_after_gap}


# -- the parameter set ---------------------------------------------------------------

def parse_what_if(items) -> dict:
    """['facts', 'fault_ns.droppable=300'] -> {name: float}; presets expand."""
    out = {}
    for item in items or ():
        if item in WHAT_IF_PRESETS:
            out.update(WHAT_IF_PRESETS[item])
            continue
        name, eq, raw = item.partition("=")
        if not eq:
            raise CalibrationError(f"--what-if {item!r}: expected NAME=VALUE or a preset "
                                   f"({', '.join(WHAT_IF_PRESETS)})")
        try:
            out[name.strip()] = float(raw)
        except ValueError:
            raise CalibrationError(f"--what-if {item!r}: {raw!r} is not a number") from None
    return out


def _check_what_if(what_if: dict) -> dict:
    for name, value in what_if.items():
        if name not in WHAT_IF_KEYS:
            raise CalibrationError(f"what-if '{name}': unknown cost parameter "
                                   f"(known: {', '.join(WHAT_IF_KEYS)})")
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not np.isfinite(value) or value < 0:
            raise CalibrationError(f"what-if {name} = {value!r}: expected a number >= 0")
    return {k: float(v) for k, v in what_if.items()}


def measured(data_dir: Path | None = None, skip=(), sizes=None, limits=None):
    """{parameter: Estimate or reason}, and the (mode, threads) lines.

    `skip`: parameters nobody needs measured (what-ifs), so a file whose
    parameters are all set by hand is not read.  `sizes`/`limits` restrict
    the rows (validation fits on a subset).
    """
    data_dir = DATA_DIR if data_dir is None else Path(data_dir)
    out, by_threads = {}, {}
    for name in dict.fromkeys(PARAMETERS.values()):
        wanted = [p for p, f in PARAMETERS.items() if f == name and p not in skip]
        if not wanted:
            continue
        if name == "callcost.csv":
            found, by_threads = measure_calls(data_dir, sizes)
        elif name == "pressure.csv":
            found = measure_reclaim(data_dir, limits)
        elif name == "pressure_walk_reclaim.csv":
            found = measure_walk(data_dir, limits)
        else:
            found = MEASURES[name](data_dir)
        out.update(found)
    return out, by_threads


def _per_mapping(values: dict, prefix: str) -> dict:
    """{mapping: ns} of the FAULT_KINDS parameters named PREFIX.mapping."""
    return {name.split(".", 1)[1]: values[name] for name in FAULT_KINDS
            if name.startswith(prefix + ".")}


def after_gap_curves(value, reseed_ns: float) -> tuple[dict, tuple]:
    """Costs.after_gap and Costs.process_after_gap from the after_gap
    parameter; or from a what-if, one extra in ns for every call after any
    gap (0: every call back to back), no process's own curves.

    The reseed's measured points (its cost less reseed_ns) lie where the
    vDSO's calls reseeded, at the long gaps only (a key lives 60 s or more,
    so a thread calling often reseeds rarely and was not timed doing so).
    A reseed is one getrandom() syscall: at the shorter gaps its extra is
    the syscall's, scaled to meet the shortest measured point (or the
    syscall's unscaled, where no reseed was timed)."""
    if not isinstance(value, dict):
        return {kind: GapCurve((0.0,), (float(value),)) for kind in AFTER_GAP_KINDS}, ()
    value = dict(value)
    by_process = value.pop("by_process", ())
    syscall, reseed = value["syscall"], [(g, ns - reseed_ns) for g, ns in value["reseed"]]
    first = reseed[0][0] if reseed else math.inf
    if reseed and float(syscall(first)) <= 0:
        raise CalibrationError(f"after_gap: the syscall costs nothing more after {first:g} s "
                               f"than back to back, so the reseed's curve cannot be scaled "
                               f"to meet its point there")
    scale = reseed[0][1] / float(syscall(first)) if reseed else 1.0
    below = [(g, scale * e) for g, e in zip(syscall.gaps_s, syscall.extra_ns) if g < first]
    points = below + reseed
    return {**value, "reseed": GapCurve(tuple(g for g, _ in points),
                                        tuple(e for _, e in points))}, by_process


def build_costs(values: dict, sources: dict, by_threads: dict, what_if: bool) -> Costs:
    after_gap, by_process = after_gap_curves(values["after_gap"], values["reseed_ns"])
    return Costs(
        vdso=values["vdso"], syscall=values["syscall"], reseed_ns=values["reseed_ns"],
        fault_ns=_per_mapping(values, "fault_ns"),
        state_fault_ns=_per_mapping(values, "state_fault_ns"),
        mlock_ns_per_page=values["mlock_ns_per_page"],
        scan_ns_per_page=values["scan_ns_per_page"],
        walk_ns_per_page=values["walk_ns_per_page"],
        kswapd_pages_per_s=values["kswapd_pages_per_s"],
        lru_add_wait_s=tuple(np.atleast_1d(values["lru_add_wait_s"]).astype(float)),
        after_gap=after_gap, process_after_gap=by_process,
        call_by_threads=by_threads, sources=sources, what_if=what_if)


def _hand_set(chosen: dict) -> dict:
    """Parameters a what-if sets: a vDSO or syscall line is one parameter."""
    out = {}
    for mode in ("vdso", "syscall"):
        keys = [k for k in chosen if k.startswith(mode + ".")]
        if keys:
            line = Linear(chosen.get(f"{mode}.base_ns", 0.0),
                          chosen.get(f"{mode}.ns_per_byte", 0.0))
            out[mode] = (line, f"what-if: {line.base_ns:g} ns + {line.ns_per_byte:g} ns/B "
                               f"set by hand, not measured")
    for name, value in chosen.items():
        if name in PARAMETERS:
            out[name] = (value, f"what-if: set to {value:g} by hand, not measured")
    return out


_CACHE: dict = {}


def _stamp(data_dir: Path) -> tuple:
    """What a cached Costs depends on: each file's size and mtime."""
    out = []
    for name in COLUMNS:
        try:
            st = os.stat(data_dir / "host" / name)
            out.append((name, st.st_size, st.st_mtime_ns))
        except FileNotFoundError:
            out.append((name, None, None))
    return tuple(out)


def load_costs(what_if: dict | None = None, data_dir: Path | str | None = None) -> Costs:
    """The measured parameter set; refuses if any parameter has no measurement.

    `what_if` ({"fault_ns.droppable": 300}, or parse_what_if(["facts"]))
    sets parameters by hand: they need no data, and the Costs is flagged.
    """
    data_dir = DATA_DIR if data_dir is None else Path(data_dir)
    chosen = _check_what_if(dict(what_if or {}))
    key = (str(data_dir), _stamp(data_dir), tuple(sorted(chosen.items())))
    if key in _CACHE:
        return _CACHE[key]
    by_hand = _hand_set(chosen)
    found, by_threads = measured(data_dir, skip=by_hand)
    values, sources = {}, {}
    for name in PARAMETERS:
        if name in by_hand:
            values[name], sources[name] = by_hand[name]
            continue
        estimate = found[name]
        if not isinstance(estimate, Estimate):
            raise CalibrationError(f"no measurement for '{name}': {estimate}; "
                                   f"give it as a what-if (--what-if {name + '.base_ns' if name in ('vdso', 'syscall') else name}=VALUE) to run anyway")
        values[name], sources[name] = estimate.value, estimate.source
    costs = build_costs(values, sources, by_threads, what_if=bool(chosen))
    _CACHE[key] = costs
    return costs


def _curves_text(curves: dict) -> str:
    """{kind: GapCurve} -> "vdso 0.001 s +50 ns, ...; syscall ..."."""
    return "; ".join(
        f"{kind} " + ", ".join(f"{g:g} s {e:+.0f} ns" for g, e in zip(c.gaps_s, c.extra_ns)
                               if g > 0 or len(c.gaps_s) == 1)
        for kind, c in curves.items())


def provenance_table(costs: Costs) -> list[tuple[str, str, str]]:
    """(parameter, value as text, source) rows, for reports and `validate`."""
    def call(curve):
        if isinstance(curve, Linear):
            return f"{curve.base_ns:.4g} ns + {curve.ns_per_byte:.4g} ns/B"
        return ", ".join(f"{s} B: {v:.4g} ns" for s, v in zip(curve.sizes, curve.ns))

    values = {
        "vdso": call(costs.vdso), "syscall": call(costs.syscall),
        "reseed_ns": costs.reseed_ns,
        **{f"fault_ns.{mapping}": ns for mapping, ns in costs.fault_ns.items()},
        **{f"state_fault_ns.{mapping}": ns for mapping, ns in costs.state_fault_ns.items()},
        "mlock_ns_per_page": costs.mlock_ns_per_page,
        "scan_ns_per_page": costs.scan_ns_per_page,
        "walk_ns_per_page": costs.walk_ns_per_page,
        "kswapd_pages_per_s": costs.kswapd_pages_per_s,
        "lru_add_wait_s": (f"{len(costs.lru_add_wait_s)} waits, median "
                           f"{np.median(costs.lru_add_wait_s):.3g} s"
                           if costs.lru_add_wait_s else "none"),
        "after_gap": "; ".join(
            [_curves_text(costs.after_gap)]
            + [f"a process of {calls_per_s:g} calls/s or more: " + _curves_text(there)
               for calls_per_s, there in costs.process_after_gap])
        if costs.after_gap else "none: every call back to back",
    }
    return [(name, v if isinstance(v, str) else f"{v:.4g}", costs.sources.get(name, ""))
            for name, v in values.items()]
