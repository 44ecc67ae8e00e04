"""`python -m model costs`: the measured per-call costs of each machine, side by side.

The model's costs come from data/host/ (model.calibration).  The same
experiments run on another machine (`python -m measure.host --out
DIR/host --only callcost,chacha20,reseed,fault,selftest`) give the same
parameters there; this prints them beside the study's, with what they
decide between the vDSO and the syscall, as the model charges a call
(model/sim/workload.py):

  saved        the share of the syscall's CPU a warm vDSO call saves;
  dropped      what a call that finds its state's page dropped costs more
               than a warm one: the reseed (reseed_ns) and the refault's
               two faults (state_fault_ns.droppable), the cheapest case,
               with no reclaim at the refault's charge and no page-mate
               that faulted the page back first;
  break-even   the fraction of a thread's calls that may find their state
               dropped before its vDSO calls cost more, on average, than
               the syscalls they replace: (syscall - vdso) / dropped.

Those are the costs of calls made back to back (callcost.csv, reseed.csv,
fault.csv); the model charges each call that and what its thread's gap
adds, measured alone (model.calibration's after_gap).  Where a machine has
idlecall.csv (the harness's idlecall: one call after each gap asleep, each
mode in turn, on an otherwise idle machine), the same numbers are printed
for a call after the longest gap, the vDSO's calls that reseeded apart
(Idle): what a thread that calls rarely, the kind whose state is dropped,
pays each way.  Where each mode was also timed alone after a gap
(idlecall --modes vdso, syscall, dropped), their mean cost (Alone): what a
thread calling once a gap pays on average, its vDSO calls that reseeded
(its key expired since its last call) included.

Where a machine has states runs (states.csv), the vDSO's price after each
class's gaps as the model sets it is printed against what those runs'
threads paid; where it has the states loop with no pressure run both ways
(states_quiet.csv), each class's price calling the vDSO against its syscall
twin's, the same threads calling getrandom(2) in the same loop.  Where it
has idlecall's calls timed inline and in a function of their own, taking
turns (idlecall_code.csv), both prices; where it has idlecall's timed
thread run inside the states loop's process (states_probe.csv), each run's
prices side by side; where it has the model's curve settings timed in a
function (idlecall_curves.csv), each point over processes, as for
idlecall.csv.  Where it has the states loop under the campaign's churn and
with none, both ways, taking turns (states_prices.csv), each class's price
each way, drops included and not, beside the model's, and its calls by the
gap since their page's last call.

Only the per-call parameters: reclaim's (scan, walk, lru_add waits) are
not per-call costs and are measured only in data/host/.
"""
from __future__ import annotations

import argparse
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from scipy.stats import fisher_exact, wilcoxon

from .calibration import (ABS_SLEEP, BUSY, BUSY_MATES, CALL_CODES, CREATED, CURVES_FILE,
                          DEAR_NS, IDLE_MODES, IDLE_SETTINGS, IN_FUNCTION, LONE, MATES,
                          PARAMETERS, READ_FIRST, SYSCALL_CLASS, TAKING_TURNS, CalibrationError,
                          Estimate, between, dear_call, each_alone, gap_curve, idle_setting,
                          load_costs, lone_thread, measured, own_calls, process_means,
                          read_table, taking_turns)
from .fits import Median, median_ci
from .cliexit import exit_status
from .datafiles import DATA, rel_path
from .replicate import t_interval

# The parameters a call is charged from; the rest are reclaim's.
PER_CALL = ("vdso", "syscall", "reseed_ns", "state_fault_ns.droppable")
DEFAULT_BYTES = 4       # model/params.py request_bytes: the kernel selftest's 4 bytes


def saved_share(vdso: float, syscall: float) -> float:
    """The share of the syscall's cost a vDSO call saves."""
    return 1 - vdso / syscall


def break_even(vdso: float, syscall: float, dropped_more: float) -> float:
    """The fraction of calls that may find the state dropped before the
    vDSO's mean call costs what the syscall does (0: it costs more already)."""
    return max(0.0, (syscall - vdso) / dropped_more)


@dataclass(frozen=True)
class Mean:
    """A mean cost in ns with its 95% t-interval: what a thread pays over
    many calls is their sum, so the mean, however skewed the calls.  Of n
    calls in `processes` processes: over several, the mean of their means
    and the interval over them (over_processes())."""
    value: float
    low: float
    high: float
    n: int
    processes: int = 1


def mean_ci(values) -> Mean:
    mean, low, high = t_interval(values)
    return Mean(mean, low, high, len(values))


def over_processes(calls: pd.DataFrame) -> Mean:
    """idlecall calls' Mean over their own (own_calls()), the process the
    unit (process_means()): timed in one process, its calls' mean and
    interval; in several, the mean of
    their means with the t-interval over them, as the model's curves take
    them (calibration.gap_curve)."""
    calls = own_calls(calls)
    means = process_means(calls)
    if len(means) == 1:
        return mean_ci(calls["ns_per_call"].to_numpy())
    return across(means, len(calls))


def across(means: pd.Series, calls: int) -> Mean:
    """The mean of several processes' means (process_means()) with the
    t-interval over them, of `calls` calls in all."""
    return Mean(*t_interval(means.to_numpy()), n=calls, processes=len(means))


class ThreeWays:
    """What a vdso, a syscall and a dropped state's call (each an estimate
    with a value, in ns) decide."""

    @property
    def saved(self) -> float:
        return saved_share(self.vdso.value, self.syscall.value)

    @property
    def break_even(self) -> float:
        return break_even(self.vdso.value, self.syscall.value,
                          self.dropped.value - self.vdso.value)


@dataclass(frozen=True)
class Alone(ThreeWays):
    """A thread calling once every gap_ms, each mode timed alone (idlecall
    --modes vdso, syscall, dropped): the mean of their calls.  The vDSO's
    state was last used one gap before, so its calls that reseed
    (`reseeded` of vdso.n: the kernel's RNG moved on since) are the share
    such a thread meets, and their cost is in the mean; `dropped` is a
    call on a state dropped before each sleep."""
    gap_ms: int
    vdso: Mean
    syscall: Mean
    reseeded: int
    dropped: Mean


@dataclass(frozen=True)
class Idle(ThreeWays):
    """One call of each mode after gap_ms asleep (idlecall.csv, no
    spinners): its median, with the 95% order-statistic interval, in ns.

    The vDSO calls are split by whether the kernel's RNG had moved on since
    the state's last use (rng_moved): those reseed, a getrandom() syscall
    of their own, whatever the design.  How many do depends on how long
    ago the state was last used, which in idlecall is one or two gaps (the
    vdso and dropped calls share the state, the modes taking turns):
    `vdso`, the calls whose key was current, is the vDSO's cost after the
    gap; `vdso_reseed` is None if none reseeded.
    """
    gap_ms: int
    size_bytes: str     # as the rows give it: one size, or several
    vdso: Median
    dropped: Median
    syscall: Median
    vdso_reseed: Median | None = None
    kernels: str = ""   # kernel_release of the rows: idle calls may be another build's
    # A thread calling alone, at each gap where every mode was timed so, shortest first.
    alone_by_gap: tuple = ()
    # (gap_ms, vdso Mean, syscall Mean): each timed alone in a busy process
    # (idlecall --companion), the vDSO's reseeds included, shortest first;
    # in its main thread, and in a thread it created (--thread 1).
    busy_by_gap: tuple = ()
    busy_created_by_gap: tuple = ()

    @property
    def alone(self) -> Alone | None:
        """The thread calling alone once every gap_ms (None: not measured)."""
        last = self.alone_by_gap[-1] if self.alone_by_gap else None
        return last if last and last.gap_ms == self.gap_ms else None

    @property
    def calls(self) -> int:
        """The fewest calls any mode had (the vDSO's whose key was current)."""
        return min(m.n for m in (self.vdso, self.dropped, self.syscall))


@dataclass(frozen=True)
class Machine:
    """One data directory's per-call costs at one request size, in ns."""
    where: str          # its host/ directory, as the repository names it
    cpus: str           # cpu_model of its callcost.csv rows (costs_cpu)
    kernels: str        # kernel_release of those rows
    vdso: float
    syscall: float
    reseed: float
    state_fault: float
    idle: Idle | None = None    # None: no idlecall.csv there

    @property
    def saved(self) -> float:
        return saved_share(self.vdso, self.syscall)

    @property
    def dropped(self) -> float:
        return self.reseed + self.state_fault

    @property
    def break_even(self) -> float:
        return break_even(self.vdso, self.syscall, self.dropped)


def alone_at(rows: pd.DataFrame, gap: int) -> Alone | None:
    """Each mode's calls timed alone after `gap` (None unless all were)."""
    at = rows[rows["gap_ms"] == gap]
    alone = each_alone(at)
    if set(alone["mode"]) != set(IDLE_MODES):
        return None
    mode = {m: at for m, at in alone.groupby("mode")}
    return Alone(gap, *(over_processes(mode[m]) for m in ("vdso", "syscall")),
                 reseeded=int(mode["vdso"]["rng_moved"].sum()),
                 dropped=over_processes(mode["dropped"]))


def listed(values) -> str:
    """The distinct values of a column, sorted, as one line: "16" or "4, 16"."""
    return ", ".join(map(str, sorted(set(values))))


def alone_saved_ns(rows: pd.DataFrame, gap_ms: float) -> float | None:
    """What a thread calling alone once every gap_ms saves a call with the
    vDSO, in ns: the syscall's mean less the vDSO's, its reseeds included,
    without spinners; None where the three modes were not all timed alone
    at that gap (no interpolation: between gaps it is not measured)."""
    alone = alone_at(lone_thread(rows), gap_ms)
    return None if alone is None else alone.syscall.value - alone.vdso.value


def busy_by_gap(calls: pd.DataFrame) -> tuple:
    """Idle.busy_by_gap: of one busy setting's idlecall rows (idle_setting():
    BUSY, the process's main thread, or BUSY + CREATED), the gaps where
    the vDSO and the syscall were each timed alone, with their Means."""
    out = []
    for gap, at in each_alone(calls).groupby("gap_ms"):
        mode = {m: calls for m, calls in at.groupby("mode")}
        if {"vdso", "syscall"} <= set(mode):
            out.append((int(gap), *(over_processes(mode[m]) for m in ("vdso", "syscall"))))
    return tuple(out)


def busy_in_function(rows: pd.DataFrame, gap_ms: int) -> tuple | None:
    """(gap_ms, vdso Mean, syscall Mean) of the busy process's main thread
    timed in a function of its own (BUSY + IN_FUNCTION rows, as
    idlecall_code.csv and idlecall_curves.csv have them; busy_by_gap()) at
    gap_ms; None where not timed so."""
    found = [b for b in busy_by_gap(rows[idle_setting(rows) == BUSY + IN_FUNCTION])
             if b[0] == gap_ms]
    return found[0] if found else None


def longest_sleep(rows, name: str) -> Idle | None:
    """The calls after the longest gap of idlecall rows without spinners
    (None if there are none), the three modes taking turns, and each mode
    alone if all were timed so there; `name` is the file's, for the error."""
    setting = idle_setting(rows)
    busy, created = (busy_by_gap(rows[setting == s]) for s in (BUSY, BUSY + CREATED))
    rows = rows[setting == LONE]
    turns = rows[taking_turns(rows) == TAKING_TURNS]
    if turns.empty:
        return None
    gap = int(turns["gap_ms"].max())
    at = turns[turns["gap_ms"] == gap]
    moved = (at["mode"] == "vdso") & (at["rng_moved"] == 1)
    by_mode = at[~moved].groupby("mode")["ns_per_call"]
    if not set(IDLE_MODES) <= set(by_mode.groups):
        raise CalibrationError(f"{name}: gap_ms={gap} lacks a mode of {', '.join(IDLE_MODES)}"
                               " (vdso: with its key current)")
    return Idle(gap, listed(at["size_bytes"]),
                *(median_ci(by_mode.get_group(m)) for m in IDLE_MODES),
                vdso_reseed=median_ci(at.loc[moved, "ns_per_call"]) if moved.any() else None,
                kernels=listed(map(str, rows.get("kernel_release", []))),
                alone_by_gap=tuple(a for g in sorted(set(rows["gap_ms"]))
                                   if (a := alone_at(rows, int(g))) is not None),
                busy_by_gap=busy, busy_created_by_gap=created)


def idle_path(data_dir: Path) -> Path:
    """Where a machine laid out as data/ keeps its idle calls."""
    return data_dir / "host" / "idlecall.csv"


def idle_call(data_dir: Path) -> Idle | None:
    """data_dir/host/idlecall.csv's calls after its longest sleep; None without the file."""
    path = idle_path(data_dir)
    if not path.exists():
        return None
    return longest_sleep(read_table(path), rel_path(path))


def machine(data_dir: Path, nbytes: int, idle_rows: pd.DataFrame | None = None) -> Machine:
    """The per-call costs measured in data_dir/host/; CalibrationError if any
    is missing.  Its idle calls from idle_rows where given (idlecall.csv
    read), else from the file."""
    found, _ = measured(data_dir, skip=[p for p in PARAMETERS if p not in PER_CALL])
    for name in PER_CALL:
        if not isinstance(found[name], Estimate):
            raise CalibrationError(f"{rel_path(data_dir)}: no measurement for '{name}': "
                                   f"{found[name]}")
    rows = read_table(data_dir / "host" / "callcost.csv")

    def said(column: str) -> str:
        return listed(map(str, rows[column]))
    return Machine(where=rel_path(data_dir / "host"), cpus=costs_cpu(rows),
                   kernels=said("kernel_release"),
                   vdso=found["vdso"].value(nbytes), syscall=found["syscall"].value(nbytes),
                   reseed=found["reseed_ns"].value,
                   state_fault=found["state_fault_ns.droppable"].value,
                   idle=idle_call(data_dir) if idle_rows is None else longest_sleep(
                       idle_rows, rel_path(idle_path(data_dir))))


def measured_dirs(data_dir: Path = DATA) -> list[Path]:
    """data_dir and every directory under it laid out as it is, with host/callcost.csv."""
    return [data_dir] + sorted(p.parent.parent for p in data_dir.glob("*/host/callcost.csv"))


def ns(m: Median | Mean) -> str:
    """A median or mean, its 95% interval and how many calls (in how many
    processes, where several)."""
    processes = getattr(m, "processes", 1)
    return f"{m.value:.0f} ns [{m.low:.0f}, {m.high:.0f}], {m.n}" \
        + (f" in {processes} processes" if processes > 1 else "")


def gap_text(ms: int) -> str:
    return f"{ms:g} ms" if ms < 1000 else f"{ms / 1000:g} s"


def saved_or_more(share: float) -> str:
    return f"{share:.1%}" if share >= 0 else f"none: {-share:.1%} more"


def table(machines: list[Machine], nbytes: int) -> str:
    lines = [("", *(m.where for m in machines)),
             ("cpu", *(m.cpus for m in machines)),
             ("kernel", *(m.kernels for m in machines)),
             (f"vdso call, {nbytes} B", *(f"{m.vdso:.1f} ns" for m in machines)),
             (f"syscall, {nbytes} B", *(f"{m.syscall:.0f} ns" for m in machines)),
             ("reseed", *(f"{m.reseed:.0f} ns" for m in machines)),
             ("refault (read + write)", *(f"{m.state_fault:.0f} ns" for m in machines)),
             ("saved by a warm call", *(f"{m.saved:.1%}" for m in machines)),
             ("a dropped state costs", *(f"{m.dropped / 1000:.2f} us more" for m in machines)),
             ("break-even dropped calls", *(f"{m.break_even:.1%}" for m in machines))]
    if any(m.idle for m in machines):
        def idle(say) -> tuple:
            return tuple(say(m.idle) if m.idle else "not measured" for m in machines)
        lines += [("one call after the longest sleep",
                   *idle(lambda i: f"{i.gap_ms / 1000:g} s, {i.size_bytes} B: median "
                                   "[95%], calls")),
                  ("  kernel of the idle calls", *idle(lambda i: i.kernels or "not recorded")),
                  ("  vdso call, its key current", *idle(lambda i: ns(i.vdso))),
                  ("  vdso call that reseeded", *idle(lambda i: ns(i.vdso_reseed)
                                                      if i.vdso_reseed else "none")),
                  ("  syscall", *idle(lambda i: ns(i.syscall))),
                  ("  saved by the vdso call (key current)", *idle(lambda i: f"{i.saved:.1%}")),
                  ("  a dropped state's call", *idle(lambda i: ns(i.dropped))),
                  ("  break-even dropped calls", *idle(lambda i: f"{i.break_even:.1%}"))]
    if any(m.idle and m.idle.alone for m in machines):
        def alone(say) -> tuple:
            return tuple(say(m.idle.alone) if m.idle and m.idle.alone else "not measured"
                         for m in machines)
        lines += [("a thread calling once a sleep, alone",
                   *alone(lambda a: f"every {gap_text(a.gap_ms)}: mean [95%], calls")),
                  ("  vdso call, reseeds included", *alone(lambda a: ns(a.vdso))),
                  ("  vdso calls that reseeded", *alone(lambda a: f"{a.reseeded} of {a.vdso.n}")),
                  ("  syscall", *alone(lambda a: ns(a.syscall))),
                  ("  saved by the vdso", *alone(lambda a: saved_or_more(a.saved))),
                  ("  a dropped state's call", *alone(lambda a: ns(a.dropped))),
                  ("  break-even dropped calls", *alone(lambda a: f"{a.break_even:.1%}"))]
    if any(m.idle and len(m.idle.alone_by_gap) > 1 for m in machines):
        lines.append(("saved by the vdso alone, by gap", *(
            ", ".join(f"{gap_text(a.gap_ms)} {saved_or_more(a.saved)}"
                      for a in m.idle.alone_by_gap)
            if m.idle and m.idle.alone_by_gap else "not measured" for m in machines)))
    for field, name in (("busy_by_gap", "saved by the vdso in a busy process"),
                        ("busy_created_by_gap", "  in a thread it created (--thread 1)")):
        if any(m.idle and getattr(m.idle, field) for m in machines):
            lines.append((name, *(
                ", ".join(f"{gap_text(g)} {saved_or_more(1 - v.value / s.value)}"
                          for g, v, s in getattr(m.idle, field))
                if m.idle and getattr(m.idle, field) else "not measured" for m in machines)))
    widths = [max(len(row[i]) for row in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                     for row in lines)


def price_against_states(data_dir: Path, rows: pd.DataFrame | None = None
                         ) -> pd.DataFrame | None:
    """The vDSO's price after a thread's gap, in each setting idlecall
    timed, against what the states runs' threads paid (None without
    data_dir/host/states.csv or idlecall.csv): per call pattern and rate,
    each run's mean over its calls on an intact state (key current; in
    rows from before the harness counted reseeds, those too), the median over
    runs.  A price as the harness times a call: the vDSO's mean alone at
    0 ms plus the mean extra over the class's gaps (calibration.gap_curve),
    one column per idlecall setting timed at gap 0 and another
    (calibration.IDLE_SETTINGS; the model prices the states runs' process
    at busy where busy was timed, else at lone); how the other threads of
    each setting's process called in attrs["companions"].  The idle calls
    from `rows` where given (idlecall.csv read), else from the file, and
    the model's settings timed in a function of their own (CURVES_FILE)
    where the machine has them: the model's prices since they were."""
    states_path, idle = data_dir / "host" / "states.csv", idle_path(data_dir)
    if not states_path.exists() or not idle.exists():
        return None
    rows = read_table(idle) if rows is None else rows
    if (curves_path := data_dir / "host" / CURVES_FILE).exists():
        rows = pd.concat([rows, read_table(curves_path)], ignore_index=True)
    setting = idle_setting(rows)
    timed = set(setting)
    curves = {s: at for s in IDLE_SETTINGS
              if s in timed and (at := gap_curve(rows[setting == s], "vdso"))}
    if LONE not in curves:
        return None
    vdso = rows[rows["mode"] == "vdso"]
    companions = {s: listed(vdso.loc[setting == s, "companion"]) for s in curves
                  if not s.startswith(LONE)}
    states = read_table(states_path, ("where", "pattern", "rate_hz", "warm_call_ns_mean"))
    out = []
    for (pattern, rate), runs in states.groupby(["pattern", "rate_hz"]):
        measured_ns = pd.to_numeric(runs["warm_call_ns_mean"], errors="coerce").dropna()
        if len(measured_ns):
            out.append({"pattern": pattern, "rate_hz": rate, "runs": len(measured_ns),
                        "measured_ns": float(measured_ns.median()),
                        **{s: base + curve.mean_over(pattern, rate)
                           for s, (base, curve) in curves.items()}})
    frame = pd.DataFrame(out)
    frame.attrs["companions"] = companions
    return frame


def prices_text(where: Path, prices: pd.DataFrame) -> str:
    settings = [s for s in IDLE_SETTINGS if s in prices]
    companions = prices.attrs.get("companions", {})
    said = {LONE: "a thread alone, the model's (timed in a function where so timed) for a "
                  "process calling less often than any timed beside other callers",
            BUSY: "its process's other threads calling on states of their own pages, the "
                  "model's (timed in a function where so timed) for a process calling as "
                  "often or more, as the states runs' did",
            MATES: "its process's other threads calling on its own state's page",
            BUSY_MATES: "its process's busy threads calling on its own state's page"}
    lines = textwrap.wrap(
        f"the vDSO's price after a gap against the states runs "
        f"({rel_path(where / 'host' / 'states.csv')}: each run's mean over its calls "
        "on an intact state, reseeds too where not counted apart, median over runs); "
        "a price as the harness times a "
        "call: the vDSO alone at 0 ms plus the mean extra over the class's gaps, "
        "in each setting idlecall timed: " + "; ".join(
            f"{name}, {text}" + (f" (--companion {companions[name]})"
                                 if name in companions else "")
            for name, text in said.items() if name in settings)
        + ("; created thread, timed in a thread its process created (--thread 1), not the "
           "main one" if any(CREATED in s for s in settings) else "")
        + ("; read first, timed after the states threads' zeroed check (--read-first 1)"
           if any(READ_FIRST in s for s in settings) else "")
        + ("; abs sleep, waking as the states threads wake (--abs-sleep 1)"
           if any(ABS_SLEEP in s for s in settings) else "")
        + (f"; timed in a function, each call in a function of its own (--call-code own, "
           f"{CURVES_FILE}), the others inline (idlecall.csv)"
           if any(s.endswith(IN_FUNCTION) for s in settings) else "")
        + "; price / measured", 100)
    # As many settings a table as keep a line within 100 characters, after
    # the pattern, rate, runs and measured columns.
    fixed = 10 + 10 + 6 + 11

    def width(setting: str) -> int:
        return max(19, len(setting) + 1)
    parts = [[]]
    for setting in settings:
        if parts[-1] and fixed + sum(map(width, parts[-1] + [setting])) > 100:
            parts.append([])
        parts[-1].append(setting)
    for part in parts:
        lines.append(f"{'pattern':<10}{'rate':>10}{'runs':>6}{'measured':>11}"
                     + "".join(f"{s:>{width(s)}}" for s in part))
        for _, p in prices.iterrows():
            lines.append(f"{p['pattern']:<10}{p['rate_hz']:>7g} Hz{p['runs']:>6}"
                         f"{p['measured_ns']:>8.0f} ns"
                         + "".join(f"{p[s]:>{width(s) - 10}.0f} ns "
                                   f"{p[s] / p['measured_ns']:>5.2f}x" for s in part))
    return "\n".join(lines)


def call_mean_ns(rows: pd.DataFrame) -> pd.Series:
    """Each states row's mean over its calls that did not find the state
    zeroed: those with the key current (warm_call_ns_mean) and those that
    reseeded as the kernel's RNG moved on (reseed_call_ns_mean), weighted by
    their counts; a syscall class's, every call.  NaN for a row with reseeds
    but no reseed mean (rows from before the harness printed it)."""
    number = {c: pd.to_numeric(rows.get(c), errors="coerce")
              for c in ("calls", "calls_zeroed", "kernel_reseeds", "warm_call_ns_mean",
                        "reseed_call_ns_mean")}
    reseeds = number["kernel_reseeds"]
    counted = number["calls"] - number["calls_zeroed"]
    reseed_ns = (reseeds * number["reseed_call_ns_mean"]).where(reseeds > 0, 0.0)
    return (number["warm_call_ns_mean"] * (counted - reseeds) + reseed_ns) / counted


STATES_QUIET = "states_quiet.csv"     # the states loop with no pressure, both ways
TWIN_COLUMNS = ("pattern", "scope", "classes", "class", "rate_hz", "calls", "calls_zeroed",
                "kernel_reseeds", "warm_call_ns_mean")


def loop_twins(rows: pd.DataFrame) -> pd.DataFrame | None:
    """What the vDSO saves in the states loop (states_quiet.csv's rows, no
    pressure): per class of each class set, call pattern and scope (memcg,
    or global: none) run both ways, the vDSO's price a call (call_mean_ns,
    median over runs) against its syscall twin's (the same classes calling
    getrandom(2), "RATE:THREADS:syscall"), each over the runs that took
    turns with the other's (their seeds run both ways, where the rows say
    their seed: a later sitting of one way alone drifts apart with its
    day); None without a twin."""
    rows = rows.assign(call=rows.get("call", pd.Series(index=rows.index, dtype=object))
                       .fillna("vdso"),    # rows from before syscall classes were all vDSO
                       classes_vdso=rows["classes"].str.replace(SYSCALL_CLASS, "", regex=False),
                       ns=call_mean_ns(rows)).dropna(subset=["ns"])
    out = []
    for (pattern, scope, classes, cls), runs in rows.groupby(
            ["pattern", "scope", "classes_vdso", "class"], sort=False):
        ways = {call: r for call, r in runs.groupby("call")}
        if "seed" in runs and set(ways) == {"vdso", "syscall"}:
            turns = set(ways["vdso"]["seed"]) & set(ways["syscall"]["seed"])
            ways = {call: r[r["seed"].isin(turns)] for call, r in ways.items()}
        if all(len(ways.get(w, ())) for w in ("vdso", "syscall")):
            vdso, syscall = (float(ways[w]["ns"].median()) for w in ("vdso", "syscall"))
            out.append({"pattern": pattern, "scope": scope, "classes": classes,
                        "rate_hz": float(runs["rate_hz"].iloc[0]),
                        "runs_vdso": len(ways["vdso"]), "runs_syscall": len(ways["syscall"]),
                        "vdso_ns": vdso, "syscall_ns": syscall,
                        "saved": saved_share(vdso, syscall)})
    return pd.DataFrame(out) if out else None


def states_loop(data_dir: Path) -> pd.DataFrame | None:
    """loop_twins() of data_dir/host/STATES_QUIET; None without it."""
    path = data_dir / "host" / STATES_QUIET
    return loop_twins(read_table(path, ("where",) + TWIN_COLUMNS)) if path.exists() else None


def twins_table(twins: pd.DataFrame) -> list[str]:
    """loop_twins() as lines of 78 columns: a class set's call pattern named
    where it is not Poisson, "no memcg" where its threads ran in none."""
    lines = [f"{'classes':<27}{'rate':>9}{'runs':>6}{'vdso':>9}{'syscall':>10}{'saved':>17}"]
    for _, t in twins.iterrows():
        label = t["classes"] + ("" if t["pattern"] == "poisson" else f" {t['pattern']}") \
            + (", no memcg" if t["scope"] == "global" else "")
        lines.append(f"{label:<27}{t['rate_hz']:>6g} Hz{t['runs_vdso']:>3}+"
                     f"{t['runs_syscall']:<2}{t['vdso_ns']:>6.0f} ns{t['syscall_ns']:>7.0f} ns"
                     f"{saved_or_more(t['saved']):>17}")
    return lines


def twins_text(where: Path, twins: pd.DataFrame) -> str:
    return "\n".join(textwrap.wrap(
        f"the states loop with no pressure ({rel_path(where / 'host' / STATES_QUIET)}): "
        "each class's price a call, its reseeds included (each run's mean, median over "
        "runs), calling the vDSO and in its syscall twin (the same classes calling "
        "getrandom(2)), Poisson and in a memcg unless named; saved, or more where the vDSO "
        "costs more", 100)
        + twins_table(twins))


STATES_PRICES = "states_prices.csv"    # the loop under churn and with none, both ways, split
PRICE_COLUMNS = ("cpu_model", "kernel_release", "regime", "pattern", "seed", "class", "rate_hz",
                 "call", "threads", "calls", "calls_zeroed", "kernel_reseeds", "warm_call_ns_mean",
                 "zeroed_call_ns_mean", "reseed_call_ns_mean")
LOOP_BYTES = 16         # measure/host.py STATE_COMMON --size-bytes
# --split-prices' bins of the gap since a call's page's last call (the
# harness's mate_bin_names, upper edges), as the tables name them
PAGE_GAPS = {"50us": "<50 us", "500us": "50-500 us", "50ms": "0.5-50 ms", "500ms": "50-500 ms",
             "inf": ">=0.5 s"}
SPLIT_COLUMNS = tuple(f"warm_mate_{b}_{x}" for b in PAGE_GAPS for x in ("calls", "ns_mean")) \
    + ("warm_beside_reader_calls", "warm_beside_reader_ns_mean")


def every_call_ns(rows: pd.DataFrame) -> pd.Series:
    """Each states row's mean over every call it counted: those with the key
    current, those that reseeded as the kernel's RNG moved on, and those
    that found the state zeroed (a drop: the reseed and, for the first of
    the page's threads, the write fault; the read fault that maps the zero
    page is the harness's check's, before the clock starts, so a dropped
    call's price here is a floor by one fault).  A syscall class's, every
    call."""
    number = {c: pd.to_numeric(rows.get(c), errors="coerce")
              for c in ("calls", "calls_zeroed", "zeroed_call_ns_mean")}
    zeroed = number["calls_zeroed"].fillna(0)
    zeroed_ns = (zeroed * number["zeroed_call_ns_mean"]).where(zeroed > 0, 0.0)
    intact = call_mean_ns(rows) * (number["calls"] - zeroed)
    return (intact.where(number["calls"] > zeroed, 0.0) + zeroed_ns) / number["calls"]


def loop_calls_per_s(run: pd.DataFrame) -> float:
    """The calls a second the loop's process made in a run (its rows, a
    class each): each class's rate times its threads."""
    return float((run["rate_hz"] * run["threads"]).sum())


def model_price(costs, pattern: str, rate: float, calls_per_s: float,
                nbytes: int) -> tuple[float, float]:
    """The model's price of a call of nbytes with its key current, the
    vDSO's and the syscall's, for a thread calling at `rate` by `pattern`
    in a process making calls_per_s calls a second, as the simulation
    charges it: back to back plus the mean of its after_gap curve over the
    thread's gaps (reseeds and drops are charged apart)."""
    curves = costs.after_gap_for(calls_per_s)
    vdso, syscall = (getattr(costs, way)(nbytes) + curves[way].mean_over(pattern, rate)
                     for way in ("vdso", "syscall"))
    return vdso, syscall


def pressure_twins(rows: pd.DataFrame, costs=None) -> pd.DataFrame | None:
    """What the vDSO saves in the states loop under each regime (the
    split-prices test's rows, STATES_PRICES: the campaign's classes and their
    syscall twin, every arm taking turns in one sitting, a seed of its own a
    run, so runs are paired by turn, not by seed): per regime, call pattern
    and class, medians over runs of the vDSO's call with its key current
    (warm_call_ns_mean), of its every call (every_call_ns(): drops
    included), the share of its calls that found the state zeroed, and the
    syscall twin's call; the saved share each way; and in how many of its
    runs the vDSO class's every call cost more than the twin's median
    (dearer_runs: a page dropped in some runs and kept in others, as
    timer-locked pages are, can cost more in those runs where the median
    run saves).  With `costs` (a
    calibration Costs), the model's price of the same class's call with its
    key current each way, as the simulation charges a thread of a process
    making the loop's calls a second (back to back at LOOP_BYTES plus the
    after_gap curve over the class's gaps, by its pattern).  None without
    both ways of a class."""
    rows = rows[list(PRICE_COLUMNS)]      # its columns only: a harness row has 130-odd
    rows = rows.assign(every_ns=every_call_ns(rows),
                       warm_ns=pd.to_numeric(rows["warm_call_ns_mean"], errors="coerce"))
    out = []
    for (regime, pattern, cls), runs in rows.groupby(["regime", "pattern", "class"], sort=False):
        ways = dict(tuple(runs.groupby("call")))
        if set(ways) != {"vdso", "syscall"}:
            continue
        vdso, syscall = ways["vdso"], ways["syscall"]
        rate = float(vdso["rate_hz"].iloc[0])
        row = {"regime": regime, "pattern": pattern, "rate_hz": rate,
               "runs_vdso": len(vdso), "runs_syscall": len(syscall),
               "vdso_ns": float(vdso["warm_ns"].median()),
               "vdso_every_ns": float(vdso["every_ns"].median()),
               "zeroed": float(vdso["calls_zeroed"].sum() / vdso["calls"].sum()),
               "syscall_ns": float(syscall["every_ns"].median())}
        row["saved"] = saved_share(row["vdso_ns"], row["syscall_ns"])
        row["saved_every"] = saved_share(row["vdso_every_ns"], row["syscall_ns"])
        row["dearer_runs"] = int((vdso["every_ns"] > row["syscall_ns"]).sum())
        if costs is not None:
            run = rows[rows["seed"] == vdso["seed"].iloc[0]]     # every class of one run
            vdso_ns, syscall_ns = model_price(costs, pattern, rate, loop_calls_per_s(run),
                                              LOOP_BYTES)
            row |= {"model_vdso_ns": vdso_ns, "model_syscall_ns": syscall_ns,
                    "model_saved": saved_share(vdso_ns, syscall_ns)}
        out.append(row)
    return pd.DataFrame(out) if out else None


def costs_cpu(calls: pd.DataFrame) -> str:
    """The CPU of a data directory's per-call costs (its callcost.csv's
    rows' cpu_model): the machine the model's prices are of."""
    return listed(map(str, calls["cpu_model"]))


def by_machine(rows: pd.DataFrame) -> list[tuple[tuple[str, str], pd.DataFrame]]:
    """A states file's rows per machine they ran on, its CPU and kernel
    build ((cpu_model, kernel_release)), in the order first met: a price is
    one machine's, and a vDSO price is set against the syscall's of runs
    that took turns with it.  The CPU alone is not enough: two Intel Xeon
    VMs of two builds had states_prices.csv's churn Poisson 1000 Hz vDSO
    call at 107 and 184 ns (medians over 18 and 60 runs)."""
    return list(rows.groupby(["cpu_model", "kernel_release"], sort=False))


def priced_machine(machines: list, cpu: str | None) -> tuple[str, str] | None:
    """Of by_machine()'s machines, the first with CPU `cpu` (callcost.csv's),
    None if no run had it: the one whose runs the model's prices stand
    beside, as callcost.csv names its CPU but not a build the states runs
    share."""
    return next((key for key, _ in machines if key[0] == cpu), None)


def machine_of_cpu(rows: pd.DataFrame, cpu: str) -> pd.DataFrame:
    """The rows of priced_machine(), none if no run had its CPU."""
    machines = by_machine(rows)
    return dict(machines).get(priced_machine(machines, cpu), rows.iloc[:0])


def split_price_rows(data_dir: Path) -> pd.DataFrame | None:
    """data_dir/host/STATES_PRICES's rows, checked; None without it."""
    path = data_dir / "host" / STATES_PRICES
    if not path.exists():
        return None
    return read_table(path, ("where",) + PRICE_COLUMNS + SPLIT_COLUMNS)


def pressure_table(twins: pd.DataFrame) -> list[str]:
    """pressure_twins() as aligned lines, prices in ns, the model's columns
    where it has them; a saved share below 0 is what the vDSO costs more."""
    model = "model_vdso_ns" in twins
    cells = [("regime", "pattern", "rate", "runs", "vdso", "syscall", "saved")
             + (("model vdso", "syscall", "saved") if model else ())
             + ("zeroed", "every", "saved")]

    def ns(v):
        return "-" if pd.isna(v) else f"{v:.0f}"

    def share(v):
        return "-" if pd.isna(v) else f"{v:.1%}"
    for _, t in twins.iterrows():
        cells.append((t["regime"], t["pattern"], f"{t['rate_hz']:g} Hz",
                      f"{t['runs_vdso']}+{t['runs_syscall']}", ns(t["vdso_ns"]),
                      ns(t["syscall_ns"]), share(t["saved"]))
                     + ((ns(t["model_vdso_ns"]), ns(t["model_syscall_ns"]),
                         share(t["model_saved"])) if model else ())
                     + (f"{t['zeroed']:.3f}", ns(t["vdso_every_ns"]), share(t["saved_every"])))
    return aligned(cells, left=2)


def dearer_lines(twins: pd.DataFrame, width: int) -> list[str]:
    """pressure_twins()'s dearer_runs as a sentence in lines of `width`."""
    dearer = [f"{t.regime} {t.pattern} {t.rate_hz:g} Hz {t.dearer_runs} of {t.runs_vdso}"
              for t in twins.itertuples() if t.dearer_runs]
    return textwrap.wrap(
        "runs whose vDSO class cost more than its syscall twin over every call (the run's "
        "mean against the twin's median over runs): " + ("; ".join(dearer) or "none"),
        width, break_on_hyphens=False)


def pressure_lines(twins: pd.DataFrame, width: int) -> list[str]:
    """pressure_table(), then dearer_lines() in lines of `width`."""
    return pressure_table(twins) + [""] + dearer_lines(twins, width)


def pressure_text(where: Path, machine: str, twins: pd.DataFrame) -> str:
    lines = textwrap.wrap(
        f"the states loop under the campaign's churn and with none, both ways, taking turns "
        f"({rel_path(where / 'host' / STATES_PRICES)}, its runs on the {machine}): each class's "
        "call with its key current calling the vDSO (ns, each run's mean, median over runs) "
        "and its syscall twin's (the same classes calling getrandom(2) under the same "
        "pressure), and what the vDSO saves; the model's price of the same calls, where "
        f"given (a thread of a process making the loop's calls a second, {LOOP_BYTES} B); "
        "the vDSO's calls that found "
        "the state zeroed, and its mean over every call, those and the reseeds on key expiry "
        "included (a floor for a drop: the harness's check takes the zero-page fault of the "
        "first of a dropped page's threads before the clock starts), and what it saves then "
        "(below 0: what it costs more)", 100, break_on_hyphens=False)
    return "\n".join(lines + pressure_lines(twins, 100))


def page_gap_prices(rows: pd.DataFrame) -> pd.DataFrame:
    """The split-prices test's warm calls (key current, or a syscall
    class's) by the gap since their page's last call, and beside the
    reader or not: per regime, pattern, rate and way, the median over runs
    of each bin's mean (NaN where no run had a call there) and the calls
    in it over all runs; the rows of a class whose page saw no warm call
    in every run are left out."""
    # the split's columns only, as numbers: a harness row has 130-odd
    number = rows[["warm_call_ns_mean", *SPLIT_COLUMNS]].apply(pd.to_numeric, errors="coerce")
    out = []
    for (regime, pattern, rate, call), runs in rows.groupby(
            ["regime", "pattern", "rate_hz", "call"], sort=False):
        n = number.loc[runs.index]
        row = {"regime": regime, "pattern": pattern, "rate_hz": rate, "call": call,
               "runs": len(runs)}
        warm = sum(n[f"warm_mate_{b}_calls"] for b in PAGE_GAPS)
        for b in PAGE_GAPS:
            row[f"{b}_calls"] = int(n[f"warm_mate_{b}_calls"].sum())
            row[f"{b}_ns"] = float(n[f"warm_mate_{b}_ns_mean"].median())
        beside, beside_ns = n["warm_beside_reader_calls"], n["warm_beside_reader_ns_mean"]
        elsewhere = (n["warm_call_ns_mean"] * warm
                     - (beside * beside_ns).fillna(0)) / (warm - beside)
        row.update(beside_calls=beside.sum(), beside_ns=float(beside_ns.median()),
                   elsewhere_ns=float(elsewhere.median()))
        if warm.sum():
            out.append(row)
    return pd.DataFrame(out)


def page_gap_text(where: Path, machine: str, split: pd.DataFrame) -> str:
    lines = textwrap.wrap(
        f"the runs' calls on the {machine}, with the key current (or the syscall's) by how "
        "long before each its page's last call began, any thread's "
        f"({rel_path(where / 'host' / STATES_PRICES)}, "
        "--split-prices 1: each run's mean in a bin, median over runs, and the calls in it), "
        "and those made on the CPU the reader last read on against the rest (churn only)", 100,
        break_on_hyphens=False)
    cells = [("regime", "pattern", "rate", "call", *PAGE_GAPS.values(), "beside reader",
              "elsewhere")]

    def cell(ns, calls=None):
        return "-" if pd.isna(ns) else f"{ns:.0f}" + (f" ({calls})" if calls is not None else "")
    for _, t in split.iterrows():
        cells.append((t["regime"], t["pattern"], f"{t['rate_hz']:g} Hz", t["call"],
                      *(cell(t[f"{b}_ns"], t[f"{b}_calls"]) for b in PAGE_GAPS),
                      cell(t["beside_ns"]), cell(t["elsewhere_ns"])))
    return "\n".join(lines + aligned(cells, left=4))


def between_processes(rows: pd.DataFrame) -> pd.DataFrame | None:
    """Where idlecall timed one setting (idle_setting()), mode alone and gap
    in several processes: each process's mean over its own calls (reseeds
    included; own_calls(), process_means()), and over processes their mean with its 95%
    t-interval (the processes the independent units; the model's curves
    take this mean, less the vDSO's reseeds), their range, and the
    t-interval the same calls give taken as one process's (what a single
    run's interval claims).  None where no point has two processes."""
    alone = each_alone(rows)
    alone = alone.assign(setting=idle_setting(alone))
    out = []
    for (name, mode, gap), calls in alone.groupby(["setting", "mode", "gap_ms"], sort=False):
        calls = own_calls(calls)
        per_process = process_means(calls)
        if name == "spin" or len(per_process) < 2:
            continue
        processes = across(per_process, len(calls))
        pooled = mean_ci(calls["ns_per_call"].to_numpy())
        out.append({"setting": name, "mode": mode, "gap_ms": int(gap),
                    "processes": processes.processes, "calls": processes.n,
                    "mean_ns": processes.value, "low_ns": processes.low,
                    "high_ns": processes.high,
                    "min_ns": float(per_process.min()), "max_ns": float(per_process.max()),
                    "pooled_low_ns": pooled.low, "pooled_high_ns": pooled.high})
    out.sort(key=lambda r: (*setting_order(r["setting"]), IDLE_MODES.index(r["mode"]),
                            r["gap_ms"]))
    return pd.DataFrame(out) if out else None


def setting_order(name: str) -> tuple:
    """IDLE_SETTINGS in their order, then the processes between a lone
    thread and the busy one (calibration.between()), fewest calls first."""
    if name in IDLE_SETTINGS:
        return 0, IDLE_SETTINGS.index(name)
    return 1, float(name.split()[0])


def aligned(cells: list[tuple], left: int = 2) -> list[str]:
    """Rows of cells in columns, the first `left` (names: setting, mode) to
    the left, the numbers to the right."""
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return ["  ".join(c.ljust(w) if i < left else c.rjust(w)
                      for i, (c, w) in enumerate(zip(row, widths))).rstrip() for row in cells]


def between_text(path: Path, spread: pd.DataFrame) -> str:
    """between_processes() of the idlecall rows of `path` as lines."""
    lines = textwrap.wrap(
        f"each setting, mode and gap timed in several processes ({rel_path(path)}"
        ", each mode alone; ns, reseeds included): the mean of the processes' means, as the "
        "model's curves take it, with its 95% t-interval over processes, their range, and "
        "the t-interval of the same calls taken as one process's", 100)
    cells = [("setting", "mode", "gap", "procs", "calls", "mean", "[95%]", "range",
              "one run's")]
    for _, r in spread.iterrows():
        cells.append((r["setting"], r["mode"], gap_text(r["gap_ms"]), str(r["processes"]),
                      str(r["calls"]), f"{r['mean_ns']:.0f}",
                      f"[{r['low_ns']:.0f}, {r['high_ns']:.0f}]",
                      f"{r['min_ns']:.0f}-{r['max_ns']:.0f}",
                      f"[{r['pooled_low_ns']:.0f}, {r['pooled_high_ns']:.0f}]"))
    return "\n".join(lines + aligned(cells) + per_syscall(spread, {"": "mean_ns"}))


def per_syscall(frame: pd.DataFrame, columns: dict) -> list[str]:
    """Lines of the vDSO's price per the syscall's at each setting and gap
    of `frame` (rows by setting, mode and gap_ms) timed both ways, one
    ratio for each {label: column}; none where no point was."""
    ratios = []
    for (name, gap), ways in frame.set_index("mode").groupby(["setting", "gap_ms"], sort=False):
        if {"vdso", "syscall"} <= set(ways.index):
            each = [f"{label} {ways.loc['vdso', c] / ways.loc['syscall', c]:.2f}x".strip()
                    for label, c in columns.items()]
            ratios.append(f"{name} after {gap_text(gap)}"
                          + (f" {each[0]}" if list(columns) == [""] else ": " + ", ".join(each)))
    return ["the vDSO's price per the syscall's, over processes:"] + ["  " + r for r in ratios] \
        if ratios else []


IDLE_CODE = "idlecall_code.csv"     # idlecall's calls timed inline and in a function
STATES_PROBE = "states_probe.csv"   # idlecall's timed thread in the states loop's process


def inline_against_function(rows: pd.DataFrame) -> pd.DataFrame | None:
    """idlecall_code.csv: per setting (its call code set aside), mode and
    gap, the mean over processes of each process's mean over its own calls
    (process_means()) timed inline (idlecall's default) and in a function
    of its own (--call-code own; shared where timed), and the Wilcoxon
    signed-rank p over the processes paired by --repeat K, the arms having
    taken turns; None where no setting was timed both ways."""
    alone = each_alone(rows)
    setting = idle_setting(alone)
    for suffix in CALL_CODES.values():
        setting = setting.str.replace(suffix, "", regex=False)
    code = alone["call_code"].fillna("none") if "call_code" in alone else "none"
    alone = alone.assign(base=setting, code=code)
    out = []
    for (name, mode, gap), calls in alone.groupby(["base", "mode", "gap_ms"], sort=False):
        means = {c: process_means(arm, ["repeat"]).groupby(level="repeat").mean()
                 for c, arm in calls.groupby("code")}
        if not {"none", "own"} <= set(means):
            continue
        pairs = pd.concat([means["none"], means["own"]], axis=1, join="inner").dropna()
        out.append({"setting": name, "mode": mode, "gap_ms": int(gap), "processes": len(pairs),
                    "inline_ns": float(means["none"].mean()),
                    "function_ns": float(means["own"].mean()),
                    "shared_ns": float(means["shared"].mean()) if "shared" in means
                    else float("nan"),
                    "p": float(wilcoxon(pairs.iloc[:, 0], pairs.iloc[:, 1]).pvalue)
                    if len(pairs) >= 2 else float("nan")})
    return pd.DataFrame(out) if out else None


def inline_text(where: Path, code: pd.DataFrame) -> str:
    lines = textwrap.wrap(
        "the call timed inline and in a function of its own "
        f"({rel_path(where / 'host' / IDLE_CODE)}, --call-code own; shared: the companions "
        "calling through it too): inline, as idlecall.csv's calls, a vDSO call's arguments "
        "are loaded between the clock reads, the state's address from a heap line no other "
        "thread touches; a syscall takes no state.  The mean of the processes' means over "
        "their calls under 10 us (ns, reseeds included), the arms taking turns process by "
        "process; p: Wilcoxon signed-rank over the pairs", 100)
    cells = [("setting", "mode", "gap", "procs", "inline", "function", "shared", "p")]
    for _, r in code.iterrows():
        cells.append((r["setting"], r["mode"], gap_text(r["gap_ms"]), str(r["processes"]),
                      f"{r['inline_ns']:.0f}", f"{r['function_ns']:.0f}",
                      "" if pd.isna(r["shared_ns"]) else f"{r['shared_ns']:.0f}",
                      "" if pd.isna(r["p"]) else f"{r['p']:.3f}"))
    return "\n".join(lines + aligned(cells) + per_syscall(
        code, {"inline": "inline_ns", "in a function": "function_ns"}))


def probe_against_loop(rows: pd.DataFrame) -> pd.DataFrame | None:
    """states_probe.csv: per run (seed), the states loop's 1 Hz thread's
    price a call (call_mean_ns(): its mean, reseeds included) beside the
    two probes' means in the same process (idlecall's timed thread, the
    call inline and in a function of its own); None without such a row."""
    one_hz = rows[pd.to_numeric(rows["rate_hz"], errors="coerce") == 1]
    if one_hz.empty or "probe_inline_call_ns_mean" not in one_hz:
        return None
    number = {c: pd.to_numeric(one_hz[c], errors="coerce")
              for c in ("probe_inline_call_ns_mean", "probe_function_call_ns_mean")}
    return pd.DataFrame({"seed": one_hz["seed"], "loop_ns": call_mean_ns(one_hz),
                         "inline_ns": number["probe_inline_call_ns_mean"],
                         "function_ns": number["probe_function_call_ns_mean"]}).dropna()


def probe_text(where: Path, probe: pd.DataFrame) -> str:
    lines = textwrap.wrap(
        "idlecall's timed thread in the states loop's process "
        f"({rel_path(where / 'host' / STATES_PROBE)}, --probe 1: one 1 Hz thread beside the "
        "1,000 Hz class, no pressure, and two more threads timed as idlecall times its own, "
        "once a second each): each run's mean a call, reseeds included, ns", 100)
    cells = [("seed", "states thread", "probe inline", "probe in a function")]
    for _, r in probe.iterrows():
        cells.append((str(int(r["seed"])), f"{r['loop_ns']:.0f}", f"{r['inline_ns']:.0f}",
                      f"{r['function_ns']:.0f}"))
    cells.append(("median", *(f"{probe[c].median():.0f}"
                              for c in ("loop_ns", "inline_ns", "function_ns"))))
    lines += aligned(cells, left=1)
    dearer = int((probe["inline_ns"] > probe["loop_ns"]).sum())
    lines.append(f"the inline probe dearer than the states thread in {dearer} of {len(probe)} "
                 f"runs, the probe in a function in "
                 f"{int((probe['function_ns'] > probe['loop_ns']).sum())}")
    return "\n".join(lines)


def recorded(rows: pd.DataFrame, column: str) -> pd.DataFrame | None:
    """idlecall's rows of each mode alone whose run recorded `column` (an
    option's column, empty in rows of runs without it), `column` made
    numeric; None where none did."""
    if column not in rows:
        return None
    alone = each_alone(rows)
    alone = alone.assign(**{column: pd.to_numeric(alone[column], errors="coerce")})
    alone = alone[alone[column].notna()]
    return None if alone.empty else alone


def preempted_calls(rows: pd.DataFrame) -> pd.DataFrame | None:
    """Where idlecall counted the timed thread's involuntary context
    switches (--count-switches 1: nivcsw), by setting, mode alone and gap:
    the calls, how many the scheduler preempted (nivcsw > 0: between the
    thread's waking and its clock's stop), and the mean over processes of
    all of them, as the model's curves take it, and of those not
    preempted (the wall clock counts a preempted call's wait for its CPU,
    not only its own CPU time), with the preempted calls' own mean over
    calls.  None where no run counted them."""
    if (alone := recorded(rows, "nivcsw")) is None:
        return None
    alone = alone.assign(setting=idle_setting(alone), preempted=alone["nivcsw"] > 0)
    out = []
    for (name, mode, gap), calls in alone.groupby(["setting", "mode", "gap_ms"], sort=False):
        kept, per_process = calls[~calls["preempted"]], process_means(calls)
        out.append({"setting": name, "mode": mode, "gap_ms": int(gap),
                    "processes": per_process.size, "calls": len(calls),
                    "preempted": int(calls["preempted"].sum()),
                    "mean_ns": float(per_process.mean()),
                    "kept_ns": float(process_means(kept).mean()) if len(kept) else float("nan"),
                    "preempted_ns": float(calls.loc[calls["preempted"], "ns_per_call"].mean())})
    out.sort(key=lambda r: (*setting_order(r["setting"]), IDLE_MODES.index(r["mode"]),
                            r["gap_ms"]))
    return pd.DataFrame(out)


def preempted_text(where: Path, counted: pd.DataFrame) -> str:
    lines = textwrap.wrap(
        f"calls timed counting the thread's involuntary context switches "
        f"({rel_path(idle_path(where))}, idlecall --count-switches 1, each mode alone; ns): "
        "how many the scheduler preempted (nivcsw > 0, from the thread's waking to its "
        "clock's stop), the mean over processes of all of them and of those not "
        "preempted, and the preempted calls' mean", 100, break_on_hyphens=False)
    cells = [("setting", "mode", "gap", "procs", "calls", "preempted", "mean", "not preempted",
              "preempted's")]
    for _, r in counted.iterrows():
        cells.append((r["setting"], r["mode"], gap_text(r["gap_ms"]), str(r["processes"]),
                      str(r["calls"]), str(r["preempted"]), f"{r['mean_ns']:.0f}",
                      f"{r['kept_ns']:.0f}",
                      f"{r['preempted_ns']:.0f}" if r["preempted"] else "-"))
    lines += aligned(cells)
    return "\n".join(lines)


def dear_calls(rows: pd.DataFrame) -> pd.DataFrame | None:
    """The vDSO and syscall calls of DEAR_NS or more where idlecall read
    the thread's CPU clock (thread_cpu_ns, over a span holding the call:
    SPAN_FROM_SLEEP, SPAN_AROUND_CALL), each with what that clock bounds:
    the span holds the call, so a thread CPU time short of the call's wall
    time means at least that much of the call ran off the thread's CPU,
    the host's (steal) unless the thread was switched out (nivcsw); at or
    above it the clock cannot tell, the span's own syscalls taking their
    own time (attrs["span_ns"]: thread CPU less wall time over every call
    clocked, its minimum, median and maximum).  None where no run read
    the clock."""
    if (clocked := recorded(rows, "thread_cpu_ns")) is None:
        return None
    dear = clocked[dear_call(clocked)]
    out = dear.assign(setting=idle_setting(dear),
                      off_cpu_ns=(dear["ns_per_call"] - dear["thread_cpu_ns"]).clip(lower=0))
    out = out[["setting", "mode", "gap_ms", "ns_per_call", "thread_cpu_ns", "off_cpu_ns",
               "nivcsw"]].sort_values("ns_per_call", ascending=False)
    own = clocked["thread_cpu_ns"] - clocked["ns_per_call"]
    out.attrs.update(clocked=len(clocked), span_ns=(own.min(), own.median(), own.max()))
    return out


# Where idlecall read the thread's CPU clock: over a span from before the
# sleep (--thread-cpu 1, in idlecall.csv) or just around the call
# (--thread-cpu 2, a setting of its own, in idlecall_clock.csv).
SPAN_FROM_SLEEP = "--thread-cpu 1, from before the sleep to after the call"
SPAN_AROUND_CALL = "--thread-cpu 2, just before and after the call"


def dear_text(path: Path, span: str, dear: pd.DataFrame) -> str:
    lines = textwrap.wrap(
        f"vDSO and syscall calls of {DEAR_NS / 1000:g} us or more among the "
        f"{dear.attrs['clocked']} that read the "
        f"thread's CPU clock ({rel_path(path)}, idlecall {span}): the call's wall time, the "
        "thread's CPU time over the span, at least how much of the call ran off the thread's CPU (the host's, "
        "steal, unless the thread was switched out: nivcsw); the span's own CPU time "
        "(thread CPU less wall) ran from {:.0f} to {:.0f} ns over those calls, median {:.0f} "
        "(below 0 where a call lost time off its CPU), so a call the span's CPU time holds "
        "may still have run off it by up to that much".format(
            *(dear.attrs["span_ns"][i] for i in (0, 2, 1))), 100, break_on_hyphens=False)
    cells = [("setting", "mode", "gap", "wall", "thread CPU", "off its CPU", "nivcsw")]
    for _, r in dear.iterrows():
        cells.append((r["setting"], r["mode"], gap_text(r["gap_ms"]), f"{r['ns_per_call']:.0f}",
                      f"{r['thread_cpu_ns']:.0f}", f"{r['off_cpu_ns']:.0f}",
                      f"{r['nivcsw']:.0f}"))
    if len(cells) == 1:
        cells.append(("none", "", "", "", "", "", ""))
    lines += aligned(cells)
    return "\n".join(lines)


def dear_by_mode(rows: pd.DataFrame) -> pd.DataFrame | None:
    """Of idlecall's vDSO and syscall calls each mode alone, every setting
    and gap, per mode: the calls, those of DEAR_NS or more (left out of
    every mean: own_calls()), their mean, and what they would add a call
    if charged (their sum over all the mode's calls); attrs["fisher_p"],
    Fisher's exact test of the two modes' shares.  None without both."""
    alone = each_alone(rows)
    alone = alone[alone["mode"].isin(("vdso", "syscall")) & (idle_setting(alone) != "spin")]
    out = []
    for mode, calls in alone.groupby("mode"):
        dear = calls.loc[dear_call(calls), "ns_per_call"]
        out.append({"mode": mode, "calls": len(calls), "dear": len(dear),
                    "dear_mean_ns": float(dear.mean()) if len(dear) else float("nan"),
                    "ns_a_call": float(dear.sum() / len(calls))})
    if len(out) < 2:
        return None
    out = pd.DataFrame(out).set_index("mode").loc[["vdso", "syscall"]]
    counts = [[r.dear, r.calls - r.dear] for r in out.itertuples()]
    out.attrs["fisher_p"] = float(fisher_exact(counts).pvalue)
    return out


def dear_by_mode_text(where: Path, dear: pd.DataFrame) -> str:
    lines = textwrap.wrap(
        f"calls of {DEAR_NS / 1000:g} us or more, left out of every mean above and of the "
        f"model's prices as the machine's, not the call's (model.calibration.own_calls; "
        f"{rel_path(idle_path(where))}, each mode alone, every setting and gap): how many, "
        "their mean, and what they would add a call charged to it; the two modes' shares, "
        f"Fisher's exact p {dear.attrs['fisher_p']:.2f}", 100, break_on_hyphens=False)
    cells = [("mode", "calls", "10 us or more", "their mean", "a call")]
    for r in dear.itertuples():
        cells.append((r.Index, str(r.calls), f"{r.dear} ({r.dear / r.calls:.2%})",
                      f"{r.dear_mean_ns:.0f}" if r.dear else "-", f"{r.ns_a_call:.1f}"))
    lines += aligned(cells)
    return "\n".join(lines)


# The states campaign's classes (measure/host.py STATE_CLASSES), Poisson
# callers at these rates a second, as the Q3 scenarios' threads call.
CLASS_RATES = (1000.0, 10.0, 1.0, 0.05)


def model_prices(costs, nbytes: int) -> pd.DataFrame:
    """What the model charges a Poisson thread's call at each of CLASS_RATES
    (model.calibration.load_costs()'s Costs), its key current (reseeds and
    drops are charged apart): the back-to-back cost of nbytes plus the mean
    of the after_gap curve over its gaps, each way, alone and in each
    process timed beside other callers (Costs.process_after_gap, named by
    their calls a second), as the simulation charges a thread of a process
    making at least that many."""
    out = []
    processes = [(LONE, 0.0)] + [(between(r), r) for r, _ in costs.process_after_gap]
    for where, calls_per_s in processes:
        for rate in CLASS_RATES:
            vdso, syscall = model_price(costs, "poisson", rate, calls_per_s, nbytes)
            out.append({"process": where, "rate_hz": rate, "vdso_ns": vdso,
                        "syscall_ns": syscall, "saved": saved_share(vdso, syscall)})
    return pd.DataFrame(out)


def model_prices_text(prices: pd.DataFrame, nbytes: int) -> str:
    lines = textwrap.wrap(
        f"what the model charges a Poisson thread's call of {nbytes} B, its key current "
        "(reseeds and drops apart): the back-to-back cost plus the mean of its after_gap "
        "curve over the thread's gaps, alone and in a process beside other callers (by "
        "their calls a second; a process making as many or more, up to the next) "
        "(data/host/)", 100)
    cells = [("process", "rate", "vdso", "syscall", "saved")]
    for _, p in prices.iterrows():
        cells.append((p["process"], f"{p['rate_hz']:g} Hz", f"{p['vdso_ns']:.0f} ns",
                      f"{p['syscall_ns']:.0f} ns", saved_or_more(p["saved"])))
    return "\n".join(lines + aligned(cells, left=1))


def side_by_side(data_dirs=(), nbytes: int = DEFAULT_BYTES) -> str:
    """The table for data_dirs (default: measured_dirs()), calls of nbytes;
    then, for each that has states runs, the model's price against them."""
    if nbytes <= 0:
        raise ValueError(f"--bytes {nbytes}: must be > 0")
    dirs = [Path(d) for d in data_dirs or measured_dirs()]
    idle = {d: read_table(idle_path(d)) if idle_path(d).exists() else None for d in dirs}
    # the model's prices, for data/ (what the model reads) only
    costs = load_costs() if DATA.resolve() in {d.resolve() for d in dirs} else None
    machines = {d: machine(d, nbytes, idle[d]) for d in dirs}
    parts = [table(list(machines.values()), nbytes)]
    for d in dirs:
        prices = price_against_states(d, idle[d])
        if prices is not None and len(prices):
            parts.append(prices_text(d, prices))
        if (twins := states_loop(d)) is not None:
            parts.append(twins_text(d, twins))
        if (split := split_price_rows(d)) is not None:
            # the model's prices are of one machine: beside its runs alone
            ran_on = by_machine(split)
            priced = (priced_machine(ran_on, machines[d].cpus)
                      if d.resolve() == DATA.resolve() else None)
            for (cpu, kernel), rows in ran_on:
                model = costs if (cpu, kernel) == priced else None
                on = f"{cpu}, kernel {kernel}"
                if (twins := pressure_twins(rows, model)) is not None:
                    parts.append(pressure_text(d, on, twins))
                parts.append(page_gap_text(d, on, page_gap_prices(rows)))
        if idle[d] is not None and (spread := between_processes(idle[d])) is not None:
            parts.append(between_text(idle_path(d), spread))
        if (curves := d / "host" / CURVES_FILE).exists() \
                and (spread := between_processes(read_table(curves))) is not None:
            parts.append(between_text(curves, spread))
        if (coded := d / "host" / IDLE_CODE).exists() \
                and (code := inline_against_function(read_table(coded))) is not None:
            parts.append(inline_text(d, code))
        if (probed := d / "host" / STATES_PROBE).exists() \
                and (probe := probe_against_loop(read_table(probed))) is not None:
            parts.append(probe_text(d, probe))
        if idle[d] is not None and (dear := dear_by_mode(idle[d])) is not None:
            parts.append(dear_by_mode_text(d, dear))
        if idle[d] is not None and (counted := preempted_calls(idle[d])) is not None:
            parts.append(preempted_text(d, counted))
        clocked = [(idle_path(d), idle[d], SPAN_FROM_SLEEP)]
        if (around := d / "host" / "idlecall_clock.csv").exists():
            clocked.append((around, read_table(around), SPAN_AROUND_CALL))
        for path, rows, span in clocked:
            if rows is not None and (dear := dear_calls(rows)) is not None:
                parts.append(dear_text(path, span, dear))
    if costs is not None:
        parts.append(model_prices_text(model_prices(costs, nbytes), nbytes))
    return "\n\n".join(parts)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m model costs", description=__doc__.split("\n")[0])
    p.add_argument("data_dirs", nargs="*", type=Path, metavar="DATA_DIR",
                   help="directories laid out as data/ (DIR/host/callcost.csv, reseed.csv, "
                        "fault.csv); default: data/ and every such directory under it")
    p.add_argument("--bytes", type=int, default=DEFAULT_BYTES,
                   help=f"request size of a call (default {DEFAULT_BYTES})")
    args = p.parse_args(argv)

    return exit_status(lambda: print(side_by_side(args.data_dirs, args.bytes)),
                       (CalibrationError, ValueError))
