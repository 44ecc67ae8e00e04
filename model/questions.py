"""The analyses behind the study's questions Q1-Q6 (README.md): frames, not pictures.

Each qN() returns an Answer: named frames, the data files it read (with
their sha256), and notes that the figure and the report print verbatim,
including what is missing.  model.figures draws Answers and model.report
tabulates them; the notebooks call the same functions, so all three
always show the same numbers.

Measured numbers (data/) and simulated ones (the model) are kept in
separate frames, and every simulated frame says whether its costs were
measured or a what-if.
"""
from __future__ import annotations

import hashlib
import re
import math
import pickle
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from . import atomic, codehash, hostcosts, replicate, replicated, sensitivity
from .calibration import COLUMNS, load_costs, provenance_table
from .datafiles import DATA, REPO, Sources, rel_path
from .scenario import load
from .sim.designs import BASELINE, DESIGNS
from .sweep import load_spec

KEY_LIFE_CLAIM = 1e-5           # Ingo: "99.999% of cases won't ever be 'dropped'"
SWEEPS = REPO / "results" / "sweeps"


@dataclass(frozen=True)
class Effort:
    """How much simulation an answer gets.  The numbers go into every footer."""
    name: str
    replications: int            # per scenario and design (Q3 tables, Q4)
    threads_grid: tuple          # Q2
    scenarios: tuple             # Q3 comparison tables
    scenario_duration_s: float | None = None    # None: each scenario's own
    workers: int = 1                            # model.sweep's local processes
    # The claim sweep (model/sweeps/q3-pressure.toml); None: as the file says.
    claim_replications: int | None = None
    claim_points: tuple | None = None           # spike peaks, as in the file
    claim_designs: tuple | None = None
    # model.sensitivity at the claim sweep's lowest peak with a drop: its
    # replications per point (None: not run) and the factorial's size.
    sensitivity_replications: int | None = None
    sensitivity_factorial: int = 3

    def scenario_overrides(self) -> dict:
        return {"run.duration_s": self.scenario_duration_s} if self.scenario_duration_s \
            else {}

    def describe(self) -> str:
        length = (f"{self.scenario_duration_s:g} s" if self.scenario_duration_s
                  else "their own length")
        claim = (f"{self.claim_replications} replications" if self.claim_replications
                 else "replications as the file says")
        points = f"{len(self.claim_points)} peaks" if self.claim_points else "every peak"
        return (f"effort '{self.name}': scenarios {', '.join(self.scenarios)} ({length}), "
                f"{self.replications} replications per scenario and design; sweep "
                f"{CLAIM_SWEEP}: {points}, {claim}"
                + (f", designs {', '.join(self.claim_designs)}" if self.claim_designs else "")
                + (f"; sensitivity {self.sensitivity_replications} replications per point, "
                   f"factorial of {self.sensitivity_factorial}"
                   if self.sensitivity_replications else "")
                + f"; Q2 threads {', '.join(f'{t:,}' for t in self.threads_grid)}")


CLAIM_SWEEP = "q3-pressure"
EFFORTS = {
    # Seconds: the test suite executes every notebook with this.
    "quick": Effort("quick", 2, (1, 100, 1_000), ("container",), scenario_duration_s=180.0,
                    claim_replications=2, claim_points=("2944 MiB", "3056 MiB"),
                    claim_designs=(BASELINE,)),
    # `make study`: a few minutes on two cores.
    "study": Effort("study", 5, (1, 10, 100, 1_000, 10_000, 100_000),
                    ("server", "spikes", "leak", "container"),
                    workers=replicated.default_workers(), claim_replications=5,
                    claim_designs=(BASELINE,), sensitivity_replications=5),
    # `python -m model study --full` / the notebooks with QUICK=False: the
    # claim sweep exactly as model/sweeps/q3-pressure.toml says.
    "full": Effort("full", 30, (1, 10, 100, 1_000, 10_000, 100_000),
                   ("server", "spikes", "leak", "container"),
                   workers=replicated.default_workers(), sensitivity_replications=10),
}


@dataclass
class Answer:
    question: str
    title: str
    measured: dict = field(default_factory=dict)    # name -> DataFrame (data/)
    simulated: dict = field(default_factory=dict)   # name -> DataFrame (model)
    sources: Sources = field(default_factory=Sources)
    notes: list = field(default_factory=list)
    values: dict = field(default_factory=dict)      # headline numbers for prose


def _costs_note(costs) -> str:
    if costs.what_if:
        hand = [k for k, v in costs.sources.items() if str(v).startswith("what-if")]
        return (f"WHAT-IF costs set by hand, not measured: {', '.join(hand)}; "
                "the rest fitted to data/host")
    return "costs fitted to data/host (model.calibration; sources in the Q1 table)"


def _mean_ci(frame: pd.DataFrame, keys: list, value: str,
             support: tuple = (-math.inf, math.inf)) -> pd.DataFrame:
    """Per group of `keys`: the mean of `value` and its 95% t-interval over
    rows (low, high), cut to `support`: the true mean lies within the
    support, so the cut interval covers it whenever the whole one does."""
    rows = []
    for key, g in frame.groupby(keys, sort=True):
        s = replicated.summarize(g[value])
        rows.append({**dict(zip(keys, key if isinstance(key, tuple) else (key,))),
                     "n": s.n, "mean": s.mean, "ci_half": s.ci_half,
                     "low": max(s.mean - s.ci_half, support[0]),
                     "high": min(s.mean + s.ci_half, support[1]), "stddev": s.stddev,
                     "min": s.minimum, "max": s.maximum})
    return pd.DataFrame(rows)


# -- Q1 ---------------------------------------------------------------------

def q1(effort: Effort, sources: Sources | None = None, costs=None) -> Answer:
    """Cost per call by request size and threads: measured, and the model's fit."""
    a = Answer("Q1", "Cost per call: vDSO getrandom() against the syscall",
               sources=sources or Sources())
    costs = costs or load_costs()
    a.values["what_if_costs"] = costs.what_if
    calls = a.sources.read("host/callcost.csv",
                           ("mode", "size_bytes", "threads", "sample", "ns_per_call"))
    if calls is None:
        a.notes.append("data/host/callcost.csv is absent: no measured per-call cost.")
    else:
        first = calls.iloc[0]
        a.values["measured_on"] = ", ".join(
            str(first[c]) for c in ("where", "kernel_release", "cpu_model") if c in calls)
        # One number per sample: the mean over the threads that ran at once.
        # Samples of different harness runs (files from measure.host carry
        # `run`) are different samples even where their numbers match.
        runs = ["run"] if "run" in calls else []
        per_sample = (calls.groupby(["mode", "threads", "size_bytes", *runs, "sample"])
                      ["ns_per_call"].mean().reset_index())
        table = _mean_ci(per_sample, ["mode", "threads", "size_bytes"], "ns_per_call")
        a.measured["callcost"] = table
        a.measured["callcost_samples"] = per_sample
        if runs:
            # The spread a reader gets by measuring again, not within one run.
            a.measured["callcost_runs"] = (
                per_sample.groupby(["mode", "threads", "size_bytes", "run"])["ns_per_call"]
                .mean().groupby(["mode", "threads", "size_bytes"])
                .agg(runs="count", run_min="min", run_max="max").reset_index())
        wide = table.pivot_table(index=["threads", "size_bytes"], columns="mode",
                                 values="mean").reset_index()
        if {"vdso", "syscall"} <= set(wide.columns):
            wide["speedup"] = wide["syscall"] / wide["vdso"]
            a.measured["speedup"] = wide
            one = wide[(wide["threads"] == wide["threads"].min()) & (wide["size_bytes"] == 4)]
            if len(one):
                a.values.update(vdso_4b_ns=float(one["vdso"].iloc[0]),
                                syscall_4b_ns=float(one["syscall"].iloc[0]),
                                speedup_4b=float(one["speedup"].iloc[0]))
        spread = a.measured.get("callcost_runs")
        if spread is not None:
            for mode in ("vdso", "syscall"):
                row = spread[(spread["mode"] == mode) & (spread["size_bytes"] == 4)
                             & (spread["threads"] == spread["threads"].min())]
                if len(row) and row["runs"].iloc[0] > 1:
                    a.values[f"{mode}_4b_run_range_ns"] = (float(row["run_min"].iloc[0]),
                                                          float(row["run_max"].iloc[0]))
    agree = a.sources.read("host/selftest_agreement.csv",
                           ("mode", "relative_difference", "agree"))
    if agree is None:
        a.notes.append("data/host/selftest_agreement.csv is absent: no peer check shown.")
    else:
        a.measured["selftest_agreement"] = agree
    openssl = a.sources.read("host/chacha20.csv", ("openssl", "size_bytes", "bytes_per_s"))
    if openssl is None:
        a.notes.append("data/host/chacha20.csv is absent: no openssl reference.")
    elif "callcost" in a.measured:
        a.measured["vs_openssl"] = _vs_openssl(a.measured["callcost"], openssl)
        a.values["openssl"] = str(openssl["openssl"].iloc[0])
    reseed = a.sources.read("host/reseed.csv", ("state", "ns_per_call"))
    if reseed is not None:
        a.measured["reseed"] = _mean_ci(reseed, ["state"], "ns_per_call")
    sizes = sorted(set(a.measured["callcost"]["size_bytes"])) if "callcost" in a.measured \
        else [4, 16, 32, 64, 256, 1024, 4096]
    a.simulated["service_time"] = pd.DataFrame(
        [{"size_bytes": s, "vdso_ns": costs.vdso(s), "syscall_ns": costs.syscall(s),
          "reseed_ns": costs.reseed_ns} for s in sizes])
    a.simulated["costs"] = pd.DataFrame(provenance_table(costs),
                                        columns=["parameter", "value", "source"])
    a.notes.append("model service times: " + _costs_note(costs))
    return a


def _vs_openssl(callcost: pd.DataFrame, openssl: pd.DataFrame) -> pd.DataFrame:
    """Per request size: one thread's bytes/s through the vDSO and the
    syscall (size / mean ns per call) as a fraction of openssl's ChaCha20
    (`openssl speed -evp chacha20`, one EVP call per buffer of that size, one
    thread): how close each gets to what this CPU can do.  openssl's rate is
    the mean over its runs, with the runs' range."""
    one = callcost[callcost["threads"] == callcost["threads"].min()]
    ns = one.pivot_table(index="size_bytes", columns="mode", values="mean")
    ref = openssl.groupby("size_bytes")["bytes_per_s"].agg(["mean", "min", "max", "count"])
    rows = []
    for size in sorted(set(ns.index) & set(ref.index)):
        row = {"size_bytes": int(size), "openssl_bytes_per_s": ref.loc[size, "mean"],
               "openssl_min": ref.loc[size, "min"], "openssl_max": ref.loc[size, "max"],
               "openssl_runs": int(ref.loc[size, "count"])}
        for mode in ("vdso", "syscall"):
            rate = size / ns.loc[size, mode] * 1e9 if mode in ns else math.nan
            row[f"{mode}_bytes_per_s"] = rate
            row[f"{mode}_fraction"] = rate / ref.loc[size, "mean"]
        rows.append(row)
    return pd.DataFrame(rows)


# -- Q2 ---------------------------------------------------------------------

Q2_METRICS = ("state_bytes_resident_max", "state_bytes_unevictable_max",
              "memlock_charged_bytes_max", "threads_syscall_fallback")


def q2(effort: Effort, sources: Sources | None = None, costs=None) -> Answer:
    """State memory per design against threads, and where mlock falls back."""
    a = Answer("Q2", "Memory per design against threads", sources=sources or Sources())
    costs = costs or load_costs()
    a.values["what_if_costs"] = costs.what_if
    # One process, no pressure, threads that live for the run: memory is
    # then a function of the thread count and the glibc allocator alone.
    quiet = {"run.duration_s": 60.0, "workload.processes": 1,
             "workload.thread_lifetime_s": 0.0, "pressure.profile": "none",
             "pressure.anon_base_bytes": 0, "pressure.file_stream_bytes_per_s": 0.0,
             "machine.ram_bytes": "64 GiB"}
    sweep = replicated.spec("q2-memory", "server", replications=1, overrides=quiet,
                            grid={"workload.threads_per_process": effort.threads_grid})
    frame = replicated.runs(sweep, costs, effort.workers, SWEEPS)
    frame = frame[frame["metric"].isin(Q2_METRICS)].rename(
        columns={"workload.threads_per_process": "threads"})
    a.simulated["memory"] = frame.pivot_table(
        index=["threads", "design"], columns="metric", values="value").reset_index()
    a.notes.append("simulated: one process of N threads, each holding a state for the whole "
                   "60 s run, no memory pressure, RLIMIT_MEMLOCK 8 MiB (the default since "
                   "Linux 5.16, docs/sources.md).")
    mem = a.simulated["memory"]
    fb = mem[(mem["design"] == "mlock") & (mem["threads_syscall_fallback"] > 0)]
    a.values["mlock_fallback_from_threads"] = int(fb["threads"].min()) if len(fb) else None
    a.measured.update(guest_statemem(a.sources))
    memlock = a.sources.read("host/memlock.csv", ("limit_bytes", "states_locked"))
    if memlock is None:
        a.notes.append("data/host/memlock.csv is absent: no measured RLIMIT_MEMLOCK capacity.")
    else:
        cols = [c for c in ("limit_bytes", "pages_locked", "states_locked", "vmlck_kib",
                            "mlock_errno_past_limit", "droppable_half_vmlck_kib")
                if c in memlock.columns]
        a.measured["memlock"] = memlock[cols].drop_duplicates().reset_index(drop=True)
    return a


GUEST_VARIANTS = ("baseline", "instrumentation", "mlock-inherit", "exempt")
STATEMEM_METRICS = ("vmlck_kib", "unevictable_kib", "child_vmlck_kib", "child_kept_pages",
                    "pages_under_limit", "errno_past_limit")


def guest_statemem(sources: Sources) -> dict:
    """{"statemem:<variant>": one row per kind of state mapping} from the
    guests' statemem experiment: how each mapping is locked, charged and
    inherited on that kernel (behaviour only; TCG times are never used)."""
    out = {}
    for variant in GUEST_VARIANTS:
        frame = sources.read(f"guests/{variant}.csv", ("exp", "record", "line", "metric",
                                                       "value"))
        if frame is None:
            continue
        rows = frame[(frame["exp"] == "statemem") & (frame["record"] == "sample")]
        if rows.empty:
            continue
        wide = rows.pivot_table(index="line", columns="metric", values="value",
                                aggfunc="first")
        keep = [c for c in ("kind", "limit_bytes", *STATEMEM_METRICS) if c in wide.columns]
        out[f"statemem:{variant}"] = wide[keep].reset_index(drop=True)
    return out


# -- Q3 ---------------------------------------------------------------------

Q3_METRICS = ("states_dropped_per_hour", "reseed_syscalls", "cpu_getrandom_s",
              "p_state_dropped_in_key_life", "state_bytes_unevictable_max",
              "reclaim_stalls", "reclaim_stall_total_s", "reclaim_stall_p99_ms",
              "pgscan_kswapd", "pgscan_direct", "oom_kills", "oom_kills_of_state_holders",
              "threads_syscall_fallback", "droppable_fault_retries")

CLAIM_KEY = "pressure.anon_peak_bytes"
# What the Q3 figure and the report show per design: (metric, label).
Q3_HEADLINES = (("states_dropped_per_hour", "in-use states dropped per hour"),
                ("reseed_syscalls", "reseed syscalls"),
                ("reclaim_stall_total_s", "reclaim stall time (s)"), ("oom_kills", "OOM kills"))


def claim_spec(effort: Effort):
    """model/sweeps/q3-pressure.toml, cut down as the effort says."""
    spec = load_spec(CLAIM_SWEEP)
    keys = [k for k, _ in spec.grid]
    if keys != [CLAIM_KEY]:
        raise ValueError(f"model/sweeps/{CLAIM_SWEEP}.toml: expected one grid key "
                         f"'{CLAIM_KEY}', found {keys}")
    changes = {}
    if effort.claim_points:
        changes["grid"] = ((CLAIM_KEY, tuple(effort.claim_points)),)
    if effort.claim_designs:
        changes["designs"] = tuple(effort.claim_designs)
    if effort.claim_replications:
        n = effort.claim_replications
        changes.update(min_replications=n, max_replications=n, batch=n, metric=None)
    if changes:
        changes["name"] = f"{spec.name}-{effort.name}"
    return replace(spec, **changes)


def q3(effort: Effort, sources: Sources | None = None, costs=None) -> Answer:
    """Scenarios under pressure per design, and P(drop in key life) by pressure."""
    a = Answer("Q3", "Memory pressure: what each design loses and costs",
               sources=sources or Sources())
    costs = costs or load_costs()
    a.values["what_if_costs"] = costs.what_if
    a.simulated["scenarios"] = pd.concat(
        [replicated.runs(replicated.spec(f"q3-{s}", s, replications=effort.replications,
                                         overrides=effort.scenario_overrides()),
                         costs, effort.workers, SWEEPS) for s in effort.scenarios],
        ignore_index=True)
    # Ingo's claim: the Q3 pressure sweep, droppable's runs.
    sweep = replicated.runs(claim_spec(effort), costs, effort.workers, SWEEPS)
    sweep["pressure"] = sweep[CLAIM_KEY] / 2**20
    a.simulated["pressure_runs"] = sweep
    a.simulated["claim"] = claim_table(sweep[sweep["design"] == BASELINE])
    a.values.update(claim_crossing(a.simulated["claim"]))
    spec = claim_spec(effort)
    if effort.sensitivity_replications:
        _sensitivity(a, effort, spec, costs)
    a.notes.append(f"pressure level: model/sweeps/{CLAIM_SWEEP}.toml, the '{spec.scenario.name}'"
                   f" scenario ({spec.scenario.value('machine.ram_bytes') / 2**20:.0f} MiB RAM) "
                   f"with its other work's anon spike peak raised (MiB), runs of "
                   f"{spec.scenario.value('run.duration_s'):g} s; 'P(drop)' = key lives in "
                   "which the state was dropped / key lives (60 s each).")
    a.notes.append("model: " + _costs_note(costs))
    measured = a.sources.read("host/pressure.csv", ("limit_mib", "droppable_mib", "hog_mib",
                                                    "drop_fraction"))
    if measured is None:
        a.notes.append("data/host/pressure.csv is absent: no measured drops under pressure.")
    else:
        m = measured.copy()
        m["total_over_limit"] = (m["droppable_mib"] + m["hog_mib"]) / m["limit_mib"]
        keys = [c for c in ("kind", "touch", "limit_mib", "droppable_mib") if c in m.columns]
        m["total_over_limit"] = m["total_over_limit"].round(2)
        a.measured["drops"] = _mean_ci(m.dropna(subset=["drop_fraction"]),
                                       keys + ["total_over_limit"], "drop_fraction", (0, 1))
        if "holder" in m.columns:
            a.measured["holder_outcome"] = (m.groupby(keys + ["total_over_limit", "holder"])
                                            .size().rename("runs").reset_index())
    return a


def _sensitivity(a: Answer, effort: Effort, spec, costs) -> None:
    """model.sensitivity where drops begin: the claim sweep's scenario at its
    lowest peak where a replication dropped a state."""
    claim = a.simulated["claim"]
    dropping = claim[claim["units_dropped"] > 0]["pressure"]
    if not len(dropping):
        a.notes.append("sensitivity not run: no peak of the claim sweep dropped a state")
        return
    peak = f"{dropping.min():g} MiB"
    # Loaded as `python -m model sensitivity NAME --set ...` loads it, so
    # that both find each other's runs in the run cache.
    scenario = load(spec.scenario.name, {**dict(spec.scenario.overrides), CLAIM_KEY: peak})
    a.simulated["sensitivity"] = sensitivity.run(
        scenario, effort.sensitivity_replications, effort.sensitivity_factorial,
        effort.workers, costs, SWEEPS)
    a.values["sensitivity_peak"] = peak


def claim_table(sweep: pd.DataFrame) -> pd.DataFrame:
    """Per pressure level: P(drop in key life) with its intervals over
    replications, the independent units (model.replicate.rare_event), and
    what bounding it below 1e-5 would take."""
    rare = replicate.rare_events(sweep, ["pressure"], "p_state_dropped_in_key_life",
                                 "key_lives", KEY_LIFE_CLAIM)
    totals = (sweep[sweep["metric"].isin(["key_lives_dropped", "oom_kills"])]
              .pivot_table(index="pressure", columns="metric", values="value",
                           aggfunc=["sum", "mean"]))
    rare["key_lives_dropped"] = rare["pressure"].map(totals[("sum", "key_lives_dropped")])
    rare["oom_kills_mean"] = rare["pressure"].map(totals[("mean", "oom_kills")])
    return rare.rename(columns={"units": "n", "units_with_event": "units_dropped",
                                "upper95": "p_upper95"}).astype(
        {"units_needed": float, "key_lives_needed": float})


def claim_crossing(claim: pd.DataFrame) -> dict:
    """Where P(drop in key life) passes 1e-5 and where the data bound it:
    the lowest level whose mean is above it, the levels whose whole interval
    is above it, the levels bounded below it, and the levels where no drop
    was seen yet too few replications ran to bound it."""
    above = claim[claim["p_mean"] > KEY_LIFE_CLAIM]
    sure = claim[claim["verdict"] == "above"]
    bounded = claim[claim["verdict"] == "bounded"]
    untestable = claim[(claim["units_dropped"] == 0) & (claim["verdict"] == "open")]
    # Peaks above every drop where each run ends in an OOM kill: there the
    # OOM killer frees memory before reclaim reaches the states.
    dropping = claim[claim["units_dropped"] > 0]["pressure"]
    beyond = claim[claim["pressure"] > dropping.max()] if len(dropping) else claim.iloc[:0]
    oom_first = beyond if len(beyond) and (beyond["units_dropped"] == 0).all() \
        and (beyond["oom_kills_mean"] > 0).all() else beyond.iloc[:0]
    return {"claim_crossed_at": float(above["pressure"].min()) if len(above) else None,
            "claim_crossed_ci_at": float(sure["pressure"].min()) if len(sure) else None,
            "claim_levels_above": [float(x) for x in sure["pressure"]],
            "claim_levels_bounded": [float(x) for x in bounded["pressure"]],
            "claim_levels_too_short": [float(x) for x in untestable["pressure"]],
            "claim_units_needed": (int(untestable["units_needed"].max())
                                   if len(untestable) else None),
            "claim_key_lives_needed": (float(untestable["key_lives_needed"].max())
                                       if len(untestable) else None),
            "claim_levels_oom_first": [float(x) for x in oom_first["pressure"]],
            "pressure_range": (float(claim["pressure"].min()), float(claim["pressure"].max()))}


def stretches(levels, grid) -> str:
    """Levels as runs of neighbouring grid levels: '3040-3056, 3072 MiB'."""
    grid = sorted(grid)
    index = sorted(grid.index(level) for level in levels)
    if not index:
        return "no level"
    runs = [[index[0], index[0]]]
    for i in index[1:]:
        if i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ", ".join(f"{grid[a]:g}" if a == b else f"{grid[a]:g}-{grid[b]:g}"
                     for a, b in runs) + " MiB"


# -- Q4 ---------------------------------------------------------------------

Q4_METRICS = ("forks", "reseeds_fork", "states_shared_over_fork", "key_bytes_swappable_max",
              "key_bytes_swapped", "key_bytes_dumpable", "memlock_charged_bytes_max",
              "state_bytes_unevictable_max")


def q4(effort: Effort, sources: Sources | None = None, costs=None) -> Answer:
    a = Answer("Q4", "Fork and secrecy", sources=sources or Sources())
    costs = costs or load_costs()
    a.values["what_if_costs"] = costs.what_if
    a.simulated["fork"] = replicated.runs(
        replicated.spec("q4-fork-server", "fork-server", replications=effort.replications,
                        overrides=effort.scenario_overrides()), costs, effort.workers, SWEEPS)
    fork = a.sources.read("host/fork.csv", ("check",))
    if fork is None:
        a.notes.append("data/host/fork.csv is absent: no measured fork behaviour.")
    else:
        keep = [c for c in ("where", "variant", "check", "parent_nonzero_bytes",
                            "child_nonzero_bytes", "child_call_ok", "parent_vmlck_kib",
                            "child_vmlck_kib", "mlock_errno", "vmlck_kib") if c in fork.columns]
        a.measured["fork"] = fork[keep]
    return a


# -- Q5 ---------------------------------------------------------------------

# Rows of data/complexity.csv that are context, not the design's own change
# (item prefixes): the vDSO getrandom() pulls every vDSO design needs, the
# v14 diffstats its author gave in review, the never-merged x86 instruction
# skip, and the special cases counted in the whole 6.12 tree (after fixes).
# They are listed apart in the report.
X86_SKIP = "x86 skip of the faulting instruction"
COMPLEXITY_CONTEXT = ("random-6.11-rc1 pull", "random-6.12-rc1 pull", "VM_DROPPABLE, v14",
                      "VM_DROPPABLE arch work, v14", X86_SKIP,
                      "VM_DROPPABLE in linux-source-6.12")
# Every numeric column measure.complexity writes, shown for every design.
COMPLEXITY_METRICS = ("files_changed", "lines_added_total", "lines_removed_total",
                      "lines_added_kernel", "lines_removed_kernel", "selftest_lines",
                      "lines_added_mm", "lines_added_arch", "arches_touched", "new_vm_flags",
                      "new_uapi_flags", "special_cases_fault_reclaim", "special_cases_other",
                      "fix_pre_merge", "fix_post_merge", "bug_found_by_study",
                      "libc_calls_per_block", "libc_calls_per_block_after_fork")
# Counted per occurrence: no row means none, once a design has rows at all.
COMPLEXITY_EVENTS = ("fix_pre_merge", "fix_post_merge", "bug_found_by_study")
COMPLEXITY_TEXT = ("review_status", "libc_change")


def complexity_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per design: its own change, summed over its rows.  A metric no
    row gives is NaN (not counted), except for designs with no kernel change
    and for fixes (none listed: 0).  A value 'na' (a fix after merge of a
    patch never merged) stays NaN."""
    own = frame[~frame["item"].astype(str).str.startswith(COMPLEXITY_CONTEXT)]
    rows = []
    for design in DESIGNS:
        mine = own[own["design"] == design]
        untouched = (mine["item"] == "no kernel change").any()
        row = {"design": design, "present": len(mine) > 0}
        for metric in COMPLEXITY_METRICS:
            values = pd.to_numeric(mine[mine["metric"] == metric]["value"], errors="coerce")
            row[metric] = float(values.sum(min_count=1)) if len(values) else (
                0.0 if untouched or metric in COMPLEXITY_EVENTS and len(mine) else math.nan)
        for metric in COMPLEXITY_TEXT:
            text = mine[mine["metric"] == metric]["value"]
            row[metric] = "; ".join(map(str, text)) if len(text) else ""
        rows.append(row)
    return pd.DataFrame(rows)


def benefit_table(scenarios: pd.DataFrame, effort: Effort) -> pd.DataFrame:
    """Per design, means over the Q3 scenarios' replications: CPU saved against
    the syscall design (same seeds), memory pinned, states lost, OOM kills.

    The CPU a design spends on random bytes is its getrandom() calls, its
    states' faults and its mlock calls; charged after each call's gap, and
    back to back (less cpu_after_gap_s, the same runs).  CPU saved is per
    call made: a design whose threads stall or die makes fewer calls, which
    is not a saving.  saved s/h is what the design's own calls cost less
    than as many syscalls at the syscall design's cost per call."""
    wide = scenarios.pivot_table(index=["scenario", "replication", "design"],
                                 columns="metric", values="value").reset_index()
    calls = wide["calls_vdso"] + wide["calls_syscall"]
    cpu = wide["cpu_getrandom_s"] + wide["cpu_fault_s"] + wide["cpu_mlock_s"]
    wide["per_call_s"] = cpu / calls
    wide["per_call_b2b_s"] = (cpu - wide["cpu_after_gap_s"]) / calls
    wide["calls"] = calls
    syscall = wide[wide["design"] == "syscall"].set_index(["scenario", "replication"])
    rows = []
    for design, g in wide.groupby("design"):
        g = g.set_index(["scenario", "replication"])
        saved = (syscall["per_call_s"] - g["per_call_s"]) * g["calls"]
        duration_s = pd.Series([effort.scenario_duration_s or load(s).run.duration_s
                                for s, _ in saved.index],
                               index=saved.index)
        rows.append({
            "design": design,
            "cpu_saved_fraction": float((1 - g["per_call_s"] / syscall["per_call_s"]).mean()),
            "cpu_saved_fraction_b2b": float(
                (1 - g["per_call_b2b_s"] / syscall["per_call_b2b_s"]).mean()),
            "cpu_saved_s_per_h": float((saved * 3600 / duration_s).mean()),
            "pinned_bytes_max": float(g["state_bytes_unevictable_max"].max()),
            "states_dropped_per_hour": float(g["states_dropped_per_hour"].mean()),
            "oom_kills": float(g["oom_kills"].mean()),
            "oom_kills_of_state_holders": float(g["oom_kills_of_state_holders"].mean()),
            "syscall_fallback_threads": float(g["threads_syscall_fallback"].max()),
        })
    order = {d: i for i, d in enumerate(DESIGNS)}
    return pd.DataFrame(rows).sort_values("design", key=lambda s: s.map(order)) \
        .reset_index(drop=True)


STATES_LOOP = f"host/{hostcosts.STATES_QUIET}"
STATES_PRESSURE = f"host/{hostcosts.STATES_PRICES}"


def loop_both_ways(a: Answer, key: str, name: str, columns: tuple, tabulate, note: str) -> None:
    """The states loop timed both ways, data/<name>, where the machine has
    it (not a missing file otherwise: an optional measurement): tabulate()
    of its rows into a.measured[key], with its note, where it pairs any."""
    if (a.sources.data_dir / name).exists():
        if (twins := tabulate(a.sources.read(name, columns))) is not None:
            a.measured[key] = twins
            a.notes.append(note)


def q5(effort: Effort, q3_answer: Answer, sources: Sources | None = None) -> Answer:
    a = Answer("Q5", "Complexity against benefit", sources=sources or Sources())
    a.values["what_if_costs"] = q3_answer.values["what_if_costs"]
    frame = a.sources.read("complexity.csv", ("design", "item", "metric", "value"))
    if frame is None:
        a.notes.append("data/complexity.csv is absent: complexity not shown "
                       "(make complexity writes it).")
    else:
        a.measured["complexity"] = complexity_table(frame)
        a.measured["complexity_rows"] = frame
    loop_both_ways(a, "states_loop", STATES_LOOP, hostcosts.TWIN_COLUMNS, hostcosts.loop_twins,
                   "states loop: the harness's states threads with no pressure, each class "
                   "set calling the vDSO and, in its syscall twin, getrandom(2) (README, the "
                   "busy-process bullet); the model prices rare callers at idlecall's "
                   "prices, not these: idlecall_curves.csv's, each call timed in a function "
                   "of its own (README, the bullet on idlecall's prices).")
    calls = a.sources.read("host/callcost.csv", ("cpu_model",))
    cpu = hostcosts.costs_cpu(calls) if calls is not None else None
    loop_both_ways(a, "states_pressure", STATES_PRESSURE, hostcosts.PRICE_COLUMNS,
                   lambda rows: hostcosts.pressure_twins(hostcosts.machine_of_cpu(rows, cpu)),
                   "states loop under pressure: the same loop, the campaign's four classes "
                   "each way under the campaign's churn (its memcg at its limit) and with "
                   f"none, taking turns, the runs on the {cpu} (the machine of the model's "
                   "costs; python -m model costs tables the others); every call: the vDSO's "
                   "reseeds on key expiry and the calls that found their state dropped "
                   "included (README, Q5).")
    a.simulated["benefit"] = benefit_table(q3_answer.simulated["scenarios"], effort)
    a.notes.append("benefit: means over the Q3 scenarios (" + ", ".join(effort.scenarios)
                   + f"), {effort.replications} replications each; CPU saved: of the "
                   "CPU spent on random bytes (getrandom() calls, state faults, mlock), "
                   "per call made (a design whose threads stall or die makes fewer "
                   "calls), against the syscall design on the same seeds; each call "
                   "charged its back-to-back cost and what a thread paid more after its "
                   "gap (the after_gap cost: timed in a busy process for a process "
                   "calling as often, alone for the others), or back to back (b2b); "
                   "'pin KiB' is the largest unevictable state memory seen.")
    return a


# -- Q6 ---------------------------------------------------------------------

IDLE_CALLS = "host/idlecall.csv"


@dataclass(frozen=True)
class Fleet:
    """A fleet for Q6; every field is an assumption the report prints."""
    machines: int = 100_000
    threads_per_machine: int = 1_000
    request_bytes: int = 4
    # 0.05: the states runs' idle class, whose calls come 20 s apart.
    calls_per_s_grid: tuple = (0.05, 0.1, 1.0, 10.0, 100.0, 1_000.0, 10_000.0)


def q6(effort: Effort, q2_answer: Answer, fleet: Fleet = Fleet(), costs=None) -> Answer:
    """CPU time saved per day against memory pinned, fleet-wide."""
    a = Answer("Q6", "Scale: a fleet", sources=Sources(q2_answer.sources.data_dir))
    costs = costs or load_costs()
    a.values["what_if_costs"] = costs.what_if
    mem = q2_answer.simulated["memory"]
    # State memory per machine at this thread count: the Q2 run nearest it.
    nearest = min(effort.threads_grid, key=lambda t: abs(math.log(t / fleet.threads_per_machine)))
    at = mem[mem["threads"] == nearest].set_index("design")
    scale = fleet.threads_per_machine / nearest
    saved_ns = costs.syscall(fleet.request_bytes) - costs.vdso(fleet.request_bytes)
    # The other end: a thread calling alone once a period, on a machine
    # otherwise idle, its caches cold after the sleep (idlecall.csv, where
    # the model's machine has it; NaN at periods not measured).
    idle_path = a.sources.data_dir / IDLE_CALLS
    idle = a.sources.read(IDLE_CALLS, COLUMNS["idlecall.csv"]) if idle_path.exists() else None
    rows = []
    for rate in fleet.calls_per_s_grid:
        calls_per_day = fleet.machines * fleet.threads_per_machine * rate * 86_400
        alone_ns = hostcosts.alone_saved_ns(idle, 1000 / rate) if idle is not None else None
        alone_ns = math.nan if alone_ns is None else alone_ns
        for design in DESIGNS.values():
            uses = 1.0 if design.uses_vdso else 0.0
            rows.append({
                "design": design.name, "calls_per_s_per_thread": rate,
                "cpu_core_days_saved_per_day": uses * calls_per_day * saved_ns * 1e-9 / 86_400,
                "saved_ns_alone": uses * alone_ns,
                "cpu_core_days_saved_per_day_alone": uses * calls_per_day * alone_ns * 1e-9
                / 86_400,
                "resident_gib": fleet.machines * at.loc[design.name, "state_bytes_resident_max"]
                * scale / 2**30,
                "pinned_gib": fleet.machines * at.loc[design.name, "state_bytes_unevictable_max"]
                * scale / 2**30,
            })
    a.simulated["fleet"] = frame = pd.DataFrame(rows)
    a.values.update(saved_ns_per_call=saved_ns, nearest_threads=nearest, fleet=fleet)
    alone = frame[frame["saved_ns_alone"].notna() & (frame["design"] == BASELINE)]
    alone_text = ""
    if len(alone):
        said = lambda column: hostcosts.listed(idle[column])  # noqa: E731
        alone_text = (f" Alone (squares): a thread calling getrandom({said('size_bytes')} B) "
                      f"alone once a period, on a machine otherwise idle ({said('cpu_model')}, "
                      f"kernel {said('kernel_release')}; {rel_path(idle_path)}), saved "
                      + ", ".join(f"{r.saved_ns_alone:.0f} ns at {r.calls_per_s_per_thread:g}/s"
                                  for r in alone.itertuples())
                      + " a call (syscall - vDSO, means, its reseeds included); the other "
                      "rates were not measured so.")
    # One note, the last: the figure prints it.
    a.notes.append(f"assumptions: {fleet.machines:,} machines x {fleet.threads_per_machine:,} "
                   f"threads, every thread calling getrandom({fleet.request_bytes} B) at the "
                   "rate on the x axis all day; saving per call = syscall - vDSO cost of calls "
                   f"back to back = {saved_ns:.1f} ns "
                   f"({'what-if' if costs.what_if else 'measured'}); "
                   f"state memory per machine from the Q2 run with {nearest:,} threads"
                   + (f" scaled x{scale:g}" if scale != 1 else "") + "; reseeds and "
                   "faults ignored (Q3 shows they are small against the calls)." + alone_text)
    return a


@dataclass
class Study:
    effort: Effort
    answers: dict                # "Q1".. -> Answer
    sources: Sources
    what_if_costs: bool
    costs: object = None


def run(effort: Effort | str = "study", progress=print, data_dir: Path = DATA,
        what_if: dict | None = None) -> Study:
    """Every answer; each keeps its own Sources, the study's lists them all.
    `what_if` sets costs by hand (model.calibration.load_costs): flagged."""
    effort = EFFORTS[effort] if isinstance(effort, str) else effort
    costs = load_costs(what_if=what_if, data_dir=data_dir)
    src = lambda: Sources(data_dir)     # noqa: E731
    answers = {}
    for name, step in (("Q1", lambda: q1(effort, src(), costs)),
                       ("Q2", lambda: q2(effort, src(), costs)),
                       ("Q3", lambda: q3(effort, src(), costs)),
                       ("Q4", lambda: q4(effort, src(), costs)),
                       ("Q5", lambda: q5(effort, answers["Q3"], src())),
                       ("Q6", lambda: q6(effort, answers["Q2"], costs=costs))):
        if progress:
            progress(f"  {name} ({effort.name}) ...")
        answers[name] = step()
    # The files model.calibration fitted the costs to are inputs of every answer.
    fitted = sorted({name for text in costs.sources.values()
                     for name in re.findall(r"data/(host/[\w.-]+\.csv)", str(text))})
    sources = Sources(data_dir)
    for answer in answers.values():
        for name in fitted:
            if (data_dir / name).exists():
                answer.sources.read(name)
        sources.merge(answer.sources)
    return Study(effort, answers, sources, costs.what_if, costs)


CACHE = REPO / "results" / "analysis"


def _inputs_key(effort: Effort, what_if: dict | None) -> str:
    """What an analysis depends on: this module and all it imports, the
    scenario and sweep files, data/, the effort and the what-if costs.  How
    results are drawn and printed (figures, report) is not imported here, so
    it never throws an analysis away."""
    h = hashlib.sha256(repr((effort, sorted((what_if or {}).items()))).encode())
    h.update(codehash.imports_hash(__name__).encode())
    package = Path(__file__).parent
    files = sorted(package.rglob("*.toml"))
    if DATA.exists():
        files += sorted([*DATA.rglob("*.csv"), *DATA.rglob("*.csv.gz")])
    for path in files:
        h.update(str(path.relative_to(path.parents[1])).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def cached_run(effort: Effort | str = "study", progress=print,
               what_if: dict | None = None) -> Study:
    """run(), reused while neither the model nor data/ nor the effort changed:
    `make study` draws the figures and writes the report from one set of runs."""
    effort = EFFORTS[effort] if isinstance(effort, str) else effort
    key = _inputs_key(effort, what_if)
    path = CACHE / f"{effort.name}-{key[:16]}.pkl"
    if path.exists():
        with open(path, "rb") as f:
            return pickle.load(f)
    study = run(effort, progress, what_if=what_if)
    atomic.write_bytes(path, pickle.dumps(study))
    return study


def study_cli(argv: list[str], prog: str, doc: str, out_default: Path, act,
              out_is_file: bool = False) -> int:
    """The shared command line of `model figures` and `model report`.

    Parses --effort, --out and --what-if, runs (or loads) the study, and
    hands it to `act(study, args)`; errors are one line and exit 2.
    """
    import argparse

    from .calibration import parse_what_if
    from .cliexit import check_out, exit_status
    from .datafiles import DataError
    from .scenario import ScenarioError

    p = argparse.ArgumentParser(prog=prog, description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--effort", choices=EFFORTS, default="study",
                   help="how much simulation (default study)")
    p.add_argument("--out", type=Path, default=out_default, help=f"default {out_default}")
    p.add_argument("--what-if", action="append", dest="what_if", metavar="NAME=VALUE",
                   help="set a cost by hand instead of data/host (repeatable; 'facts' for "
                        "an earlier selftest run, docs/sources.md); flagged in every output")
    args = p.parse_args(argv)

    def study():
        check_out(args.out, out_is_file)
        return act(cached_run(args.effort, what_if=parse_what_if(args.what_if)), args)
    return exit_status(study, (DataError, ScenarioError, ValueError))
