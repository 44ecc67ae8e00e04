"""The plain-text report: Q1-Q6 in the layout of mmtests' compare-kernels.

    python -m model report [--effort quick|study|full] [--out results/report.txt]

Prose is wrapped at 72 columns, tables fit in 80.  A comparison table has a
baseline column and, per other design, the value and its difference from
the baseline in percent, positive meaning better; a star marks a mean that
differs significantly from the baseline, by the test named above the table.
Measured (data/) and simulated (model) numbers are in separate tables, each
labelled.  The footer names the git commit, the sha256 of every data file
used and the command that made the report.
"""
from __future__ import annotations

import math
import shlex
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import atomic, bugreport, hostcosts, questions, replicated, reply, sensitivity
from .datafiles import model_commit
from .questions import KEY_LIFE_CLAIM, Answer
from .sim.designs import BASELINE, DESIGNS, groups

REPORT = Path("results") / "report.txt"
PROSE_COLUMNS = 72
TABLE_COLUMNS = 80
LABEL_WIDTH = 22          # "Amean  " + metric name
VALUE_WIDTH = 9
COLUMN_WIDTH = VALUE_WIDTH + 10     # value, " (", gain, ")"
GRID_WIDTH = 8            # a column per grid point (threads, pressure level)
SIGNIFICANCE = 0.05

# Compared metrics: (metric, short name, scale, lower_is_better).
COMPARED = (
    ("states_dropped_per_hour", "drops/h", 1.0, True),
    ("reseed_syscalls", "reseed-syscalls", 1.0, True),
    ("cpu_getrandom_s", "cpu-getrandom-s", 1.0, True),
    ("p_state_dropped_in_key_life", "p-drop-keylife", 1.0, True),
    ("state_bytes_unevictable_max", "unevictable-KiB", 2**-10, True),
    ("reclaim_stalls", "reclaim-stalls", 1.0, True),
    ("reclaim_stall_total_s", "stall-total-s", 1.0, True),
    ("reclaim_stall_p99_ms", "stall-p99-ms", 1.0, True),
    ("oom_kills", "oom-kills", 1.0, True),
    ("oom_kills_of_state_holders", "oom-holders", 1.0, True),
    ("threads_syscall_fallback", "fallbacks", 1.0, True),
    ("droppable_fault_retries", "fault-retries", 1.0, True),
)
OPS = (("pgscan_kswapd", "pgscan-kswapd"), ("pgscan_direct", "pgscan-direct"),
       ("pgsteal_kswapd", "pgsteal-kswapd"), ("pgsteal_direct", "pgsteal-direct"))
FORK_COMPARED = (
    ("key_bytes_swappable_max", "key-B-swappable", 1.0, True),
    ("key_bytes_swapped", "key-B-swapped", 1.0, True),
    ("key_bytes_dumpable", "key-B-dumpable", 1.0, True),
    ("states_shared_over_fork", "states-shared", 1.0, True),
    ("reseeds_fork", "reseeds-fork", 1.0, True),
    ("memlock_charged_bytes_max", "memlock-KiB", 2**-10, True),
    ("state_bytes_unevictable_max", "unevictable-KiB", 2**-10, True),
)


@dataclass
class Block:
    kind: str      # "prose", "table", "heading" or "footer"
    text: str


@dataclass
class Report:
    blocks: list = field(default_factory=list)

    def heading(self, text: str, underline: str = "-") -> None:
        self.blocks.append(Block("heading", f"{text}\n{underline * len(text)}"))

    def prose(self, *paragraphs: str) -> None:
        for p in paragraphs:
            self.blocks.append(Block("prose", textwrap.fill(p, PROSE_COLUMNS)))

    def table(self, lines: list) -> None:
        for line in lines:
            if len(line) > TABLE_COLUMNS:
                raise ValueError(f"table line of {len(line)} columns: {line!r}")
        self.blocks.append(Block("table", "\n".join(lines)))

    def render(self) -> str:
        return "\n\n".join(b.text for b in self.blocks) + "\n"


def num(value: float, width: int = VALUE_WIDTH) -> str:
    """A number right-aligned in `width` columns, leaving at least one blank:
    whole numbers from 1000 up as integers, else 4 significant digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{'n/a':>{width}}"
    room = width - 1
    text = f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    if len(text) > room:
        text = f"{value:.2e}"
    if len(text) > room:
        text = f"{value:.0e}"
    return f"{text:>{width}}"


def gain(base: float, value: float, lower_is_better: bool) -> str:
    """Relative difference in percent, positive meaning better (mmtests), 7 columns."""
    if base == value:
        return f"{0.0:6.2f}%"
    if base == 0 or math.isnan(base) or math.isnan(value):
        return f"{'n/a':>7}"
    pct = (value - base) / abs(base) * 100
    pct = -pct if lower_is_better else pct
    for text in (f"{pct:6.2f}%", f"{pct:6.1f}%", f"{pct:6.0f}%", f"{pct:6.0e}%"):
        if len(text) <= 7:
            return text
    return f"{pct:.0e}%"[:7]


def compare_table(runs, designs: tuple, metrics: tuple, test: str, ops: tuple = ()) -> list:
    """Amean and CI95 rows per metric: baseline first, then the others."""
    base = designs[0]
    head = " " * LABEL_WIDTH + f"{base:>{COLUMN_WIDTH}}" + "".join(
        f"{d:>{COLUMN_WIDTH}}" for d in designs[1:])
    lines = [*test.split("\n"), "", head]
    p_values = replicated.p_values(runs, base)
    zero = []
    for metric, short, scale, lower in metrics:
        assert len(short) <= LABEL_WIDTH - 7, short
        values = replicated.by_design(runs, metric)
        if base not in values:
            continue
        if all(not np.any(values[d]) for d in designs):
            zero.append(short)
            continue
        b = replicated.summarize(values[base] * scale)
        amean = f"{'Amean':<7}{short:<{LABEL_WIDTH - 7}}{num(b.mean)} ({gain(0, 0, lower)})"
        ci = f"{'CI95':<7}{short:<{LABEL_WIDTH - 7}}{num(b.ci_half)}{'':10}"
        for d in designs[1:]:
            s = replicated.summarize(values[d] * scale)
            p = p_values.get((d, metric), math.nan)
            star = "*" if p < SIGNIFICANCE else " "
            amean += f"{num(s.mean)} {star}{gain(b.mean, s.mean, lower)}{star}"
            ci += f"{num(s.ci_half)}{'':10}"
        lines += [amean.rstrip(), ci.rstrip()]
    if zero:
        lines += textwrap.wrap("Zero in every run of these designs: " + ", ".join(zero),
                               TABLE_COLUMNS, break_on_hyphens=False)
    if ops:
        lines += ["", f"{'Ops (Amean)':<{LABEL_WIDTH}}" + "".join(
            f"{d:>{COLUMN_WIDTH}}" for d in designs)]
        for metric, short in ops:
            values = replicated.by_design(runs, metric)
            if base not in values:
                continue
            lines.append(f"{'Ops':<7}{short:<{LABEL_WIDTH - 7}}" + "".join(
                f"{num(replicated.summarize(values[d]).mean)}{'':10}" for d in designs).rstrip())
    return lines


def design_groups() -> list:
    """(group, designs) per comparison table: the baseline and two others of
    one group (three columns fit in 80), groups in the order of DESIGNS."""
    return [(group, (BASELINE, *members[i:i + 2]))
            for group, members in groups().items() for i in range(0, len(members), 2)]


def name_width() -> int:
    """Columns for a design's name in a row label, one blank included."""
    return max(map(len, DESIGNS)) + 1


def design_grid(title: list, key_name: str, values: dict, key_text=str) -> list:
    """Tables of a row per design and a column per grid point, from
    {(design, point): value}; as many tables as it takes to keep every line
    within TABLE_COLUMNS.  A design without values has no row."""
    width = name_width()
    points = sorted({point for _, point in values})
    designs = [d for d in DESIGNS if any((d, p) in values for p in points)]
    per_table = max(1, (TABLE_COLUMNS - width) // GRID_WIDTH)
    tables = []
    for start in range(0, len(points), per_table):
        chunk = points[start:start + per_table]
        lines = [*title, "", f"{key_name:<{width}}"
                 + "".join(f"{key_text(p):>{GRID_WIDTH}}" for p in chunk)]
        lines += [f"{d:<{width}}" + "".join(num(values.get((d, p), math.nan), GRID_WIDTH)
                                            for p in chunk) for d in designs]
        tables.append(lines)
    return tables


def paired_test_line(n: int) -> str:
    return (f"Paired t-test (model.replicate.paired) against {BASELINE}, {n} replications\n"
            f"on common random numbers; '*' marks p < {SIGNIFICANCE}; % is the gain, "
            "positive = better.")


def notes(r: Report, a: Answer) -> None:
    for note in a.notes:
        r.prose("Note: " + note)


# -- sections ----------------------------------------------------------------

def section_q1(r: Report, a: Answer) -> None:
    r.heading("Q1 Cost per call")
    v = a.values
    if "speedup_4b" in v:
        r.prose(f"Measured ({v.get('measured_on', 'data/host/callcost.csv')}), one "
                f"thread, 4-byte requests: the vDSO takes "
                f"{v['vdso_4b_ns']:.1f} ns per call and the syscall {v['syscall_4b_ns']:.1f} "
                f"ns, {v['speedup_4b']:.1f} times as long.")
        ranges = [(m, v[f"{m}_4b_run_range_ns"]) for m in ("vdso", "syscall")
                  if f"{m}_4b_run_range_ns" in v]
        if ranges:
            r.prose("Between whole harness runs on the same machine the means moved: "
                    + ", ".join(f"{m} {lo:.1f} to {hi:.1f} ns" for m, (lo, hi) in ranges)
                    + " (the spread to expect from measuring again).")
    samples = a.measured.get("callcost")
    if samples is not None:
        lines = ["Measured: data/host/callcost.csv, ns per call (lower is better)",
                 "Welch's t-test on per-sample means, vdso against syscall; '*' marks "
                 f"p < {SIGNIFICANCE}.", "",
                 " " * LABEL_WIDTH + f"{'syscall':>{COLUMN_WIDTH}}"
                 f"{'vdso':>{COLUMN_WIDTH}}"]
        per_sample = a.measured["callcost_samples"]
        for (threads, size), g in samples.groupby(["threads", "size_bytes"]):
            modes = g.set_index("mode")
            if not {"vdso", "syscall"} <= set(modes.index):
                continue
            sys_, vd = modes.loc["syscall"], modes.loc["vdso"]
            x = per_sample[(per_sample["threads"] == threads)
                           & (per_sample["size_bytes"] == size)]
            p = welch_p(x[x["mode"] == "vdso"]["ns_per_call"],
                        x[x["mode"] == "syscall"]["ns_per_call"])
            star = "*" if p < SIGNIFICANCE else " "
            name = f"{threads}t-{size}B"
            lines.append(f"{'Amean':<7}{name:<{LABEL_WIDTH - 7}}{num(sys_['mean'])} "
                         f"({gain(0, 0, True)}){num(vd['mean'])} {star}"
                         f"{gain(sys_['mean'], vd['mean'], True)}{star}")
            lines.append(f"{'CI95':<7}{name:<{LABEL_WIDTH - 7}}{num(sys_['ci_half'])}"
                         f"{'':10}{num(vd['ci_half'])}")
        r.table(lines)
    openssl_section(r, a)
    agree = a.measured.get("selftest_agreement")
    if agree is not None:
        lines = ["Measured: data/host/selftest_agreement.csv: the kernel's selftest",
                 "vdso_test_getrandom bench-single against the harness (4 B, 1 thread,",
                 "medians); they agree when within 15%", "",
                 f"{'mode':<10}{'selftest ns':>14}{'harness ns':>14}"
                 f"{'difference':>12}{'agree':>7}"]
        for _, row in agree.iterrows():
            lines.append(f"{row['mode']:<10}"
                         f"{num(row.get('selftest_ns_per_call', math.nan), 14)}"
                         f"{num(row.get('harness_ns_per_call', math.nan), 14)}"
                         f"{row['relative_difference'] * 100:11.1f}%{int(row['agree']):>7}")
        r.table(lines)
    lines = ["Model input: every cost the simulation uses, and where it comes from", ""]
    for _, row in a.simulated["costs"].iterrows():
        lines += textwrap.wrap(f"{row['parameter']:<21}{row['value']}", TABLE_COLUMNS,
                               subsequent_indent=" " * 21)
        lines += textwrap.wrap(str(row["source"]), TABLE_COLUMNS,
                               initial_indent=" " * 4, subsequent_indent=" " * 4)
    r.table(lines)
    model = a.simulated["service_time"]
    lines = ["Model input: service time per call (ns)" + (" - includes WHAT-IF costs"
                                                      if v.get("what_if_costs") else ""),
             "", f"{'size B':>8}{'vdso ns':>12}{'syscall ns':>12}{'reseed ns':>12}"]
    for _, row in model.iterrows():
        lines.append(f"{int(row['size_bytes']):>8}{num(row['vdso_ns'], 12)}"
                     f"{num(row['syscall_ns'], 12)}{num(row['reseed_ns'], 12)}")
    r.table(lines)
    notes(r, a)


def openssl_section(r: Report, a: Answer) -> None:
    """The vDSO's and the syscall's bytes/s against openssl's ChaCha20."""
    ref = a.measured.get("vs_openssl")
    if ref is None or not len(ref):
        return
    big = ref.iloc[-1]
    r.prose(f"Against the CPU's best: at {int(big['size_bytes']):,} B one thread gets "
            f"{big['vdso_fraction']:.2f} of openssl's ChaCha20 rate "
            f"({a.values['openssl']}, `openssl speed -evp chacha20`) through the vDSO and "
            f"{big['syscall_fraction']:.2f} through the syscall. At "
            f"{int(ref.iloc[0]['size_bytes'])} B the vDSO gets "
            f"{ref.iloc[0]['vdso_fraction']:.2f} of it and the syscall "
            f"{ref.iloc[0]['syscall_fraction']:.3f}"
            + (f" (above 1: one EVP call of openssl takes {_ns(ref.iloc[0], 'openssl'):.1f} "
               f"ns there, one vDSO call {_ns(ref.iloc[0], 'vdso'):.1f} ns)."
               if ref.iloc[0]["vdso_fraction"] > 1 else "."))
    lines = ["Measured: data/host/chacha20.csv against data/host/callcost.csv (1 thread),",
             "MB/s (10^6 bytes); openssl: mean [min, max] over its runs; fraction: of",
             "openssl's mean", "",
             f"{'size B':>8}{'openssl':>10}{'[min':>9}{'max]':>9}{'vdso':>10}{'syscall':>10}"
             f"{'vdso/ossl':>11}{'sys/ossl':>10}"]
    for _, row in ref.iterrows():
        lines.append(f"{int(row['size_bytes']):>8}{num(row['openssl_bytes_per_s'] / 1e6, 10)}"
                     f"{num(row['openssl_min'] / 1e6, 9)}{num(row['openssl_max'] / 1e6, 9)}"
                     f"{num(row['vdso_bytes_per_s'] / 1e6, 10)}"
                     f"{num(row['syscall_bytes_per_s'] / 1e6, 10)}"
                     f"{num(row['vdso_fraction'], 11)}{num(row['syscall_fraction'], 10)}")
    r.table(lines)


def _ns(row, who: str) -> float:
    """ns per call from a vs_openssl row's bytes/s."""
    return row["size_bytes"] / row[f"{who}_bytes_per_s"] * 1e9


def welch_p(a, b) -> float:
    from scipy import stats
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or len(b) < 2:
        return math.nan
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def section_q2(r: Report, a: Answer) -> None:
    r.heading("Q2 Memory per design")
    mem = a.simulated["memory"]
    fb = a.values.get("mlock_fallback_from_threads")
    r.prose("Simulated state memory of one process against its thread count. "
            + (f"Under the default 8 MiB RLIMIT_MEMLOCK the mlock designs fall back "
               f"to the syscall from {fb:,} threads on." if fb else
               "No mlock design reached the 8 MiB RLIMIT_MEMLOCK in this range."))
    per_point = mem.set_index(["design", "threads"])
    for metric, label in (("state_bytes_resident_max", "state memory resident, KiB"),
                          ("state_bytes_unevictable_max", "unevictable, KiB"),
                          ("memlock_charged_bytes_max", "charged to RLIMIT_MEMLOCK, KiB"),
                          ("threads_syscall_fallback", "threads fallen back to syscall")):
        scale = 1 / 1024 if "_bytes" in metric else 1.0
        for table in design_grid([f"Simulated (1 run per point): {label}"], "threads",
                                 (per_point[metric] * scale).to_dict(), lambda t: f"{t:,}"):
            r.table(table)
    memlock = a.measured.get("memlock")
    if memlock is not None:
        columns = (("limit_bytes", "limit B"), ("states_locked", "states locked"),
                   ("vmlck_kib", "VmLck KiB"), ("mlock_errno_past_limit", "mlock past it"),
                   ("droppable_half_vmlck_kib", "droppable VmLck"))
        columns = [(c, h) for c, h in columns if c in memlock.columns]
        lines = ["Measured: data/host/memlock.csv (host kernel, no CAP_IPC_LOCK)", "",
                 "".join(f"{h:>16}" for _, h in columns)]
        for _, row in memlock.iterrows():
            lines.append("".join(f"{str(row[c]):>16}" if isinstance(row[c], str)
                                 else num(row[c], 16) for c, _ in columns))
        r.table(lines)
    for name, table in a.measured.items():
        if not name.startswith("statemem:"):
            continue
        variant = name.split(":", 1)[1]
        limit = table["limit_bytes"].iloc[0] if "limit_bytes" in table else "?"
        lines = [f"Measured: data/guests/{variant}.csv, statemem (TCG guest)",
                 f"1024 pages of each kind; RLIMIT_MEMLOCK {limit} B for the last two "
                 "columns", "",
                 f"{'kind':<14}{'VmLck':>7}{'unevict':>8}{'child':>7}{'child':>7}"
                 f"{'pages under':>12}{'past':>19}",
                 f"{'':<14}{'KiB':>7}{'KiB':>8}{'VmLck':>7}{'kept':>7}{'limit':>12}"
                 f"{'the limit':>19}"]
        for _, row in table.iterrows():
            lines.append(f"{str(row.get('kind', '?')):<14}"
                         + "".join(f"{str(row.get(c, '-')):>{w}}" for c, w in
                                   (("vmlck_kib", 7), ("unevictable_kib", 8),
                                    ("child_vmlck_kib", 7), ("child_kept_pages", 7),
                                    ("pages_under_limit", 12), ("errno_past_limit", 19))))
        r.table(lines)
    notes(r, a)


def section_q3(r: Report, a: Answer) -> None:
    r.heading("Q3 Memory pressure")
    claim_section(r, a)
    sensitivity_section(r, a)
    sweep = a.simulated["pressure_runs"]
    if sweep["design"].nunique() > 1:
        for metric, label in questions.Q3_HEADLINES:
            m = sweep[sweep["metric"] == metric]
            means = m.groupby(["design", "pressure"])["value"].mean().to_dict()
            title = [f"Simulated: Q3 sweep, {label} (mean of "
                     f"{m.groupby(['pressure', 'design']).size().min()}+ replications)"]
            for table in design_grid(title, "peak MiB", means, lambda x: f"{x:g}"):
                r.table(table)
    runs = a.simulated["scenarios"]
    for scenario in dict.fromkeys(runs["scenario"]):
        mine = runs[runs["scenario"] == scenario]
        n = int(mine["replication"].nunique())
        for group, designs in design_groups():
            r.table([f"Simulated: scenario '{scenario}', {group}"]
                    + compare_table(mine, designs, COMPARED, paired_test_line(n), OPS))
    drops = a.measured.get("drops")
    if drops is not None:
        keys = [c for c in ("kind", "touch", "limit_mib", "droppable_mib") if c in drops.columns]
        wide = drops.pivot_table(index=keys, columns="total_over_limit", values="mean")
        n = sorted({int(drops["n"].min()), int(drops["n"].max())})
        levels = list(wide.columns)[:6]
        lines = ["Measured: data/host/pressure.csv, fraction of droppable pages read back",
                 f"as zero, mean of {'-'.join(map(str, n))} runs (host kernel, memcg v1); "
                 "columns: "
                 "(D+H)/L,", "region plus hog over the limit; '-': not run", "",
                 f"{'kind':>9}{'touch':>6}{'L MiB':>6}{'D MiB':>6}"
                 + "".join(f"{x:>8.2f}" for x in levels)]
        for key, row in wide.iterrows():
            lines.append(f"{key[0]:>9}{key[1]:>6}{key[2]:>6}{key[3]:>6}" + "".join(
                f"{'-':>8}" if math.isnan(row[x]) else num(row[x], 8) for x in levels))
        r.table(lines)
    notes(r, a)


def claim_section(r: Report, a: Answer) -> None:
    """Ingo's 1e-5 against the Q3 sweep: per level P with intervals over
    replications (the independent units), and what bounding it would take."""
    v, claim = a.values, a.simulated["claim"]
    grid = list(claim["pressure"])
    lo, hi = v["pressure_range"]
    if v["claim_crossed_at"] is None:
        verdict = (f"The mean P(drop) stays below {KEY_LIFE_CLAIM:g} at every spike peak "
                   f"studied ({lo:g} to {hi:g} MiB).")
    else:
        above = v["claim_levels_above"]
        verdict = (f"The mean P(drop) first exceeds {KEY_LIFE_CLAIM:g} at a spike peak of "
                   f"{v['claim_crossed_at']:g} MiB; " + (
                       f"the whole 95% interval is above it at "
                       f"{questions.stretches(above, grid)}." if above else
                       "its 95% interval reaches below it at every level."))
    if v["claim_levels_oom_first"]:
        verdict += (f" At {questions.stretches(v['claim_levels_oom_first'], grid)} no "
                    "state is dropped: every run ends in an OOM kill, and the OOM killer "
                    "frees memory before reclaim reaches the states.")
    if v["claim_levels_bounded"]:
        verdict += (f" At {questions.stretches(v['claim_levels_bounded'], grid)} the runs "
                    f"bound P below {KEY_LIFE_CLAIM:g}.")
    short = claim[claim["pressure"].isin(v["claim_levels_too_short"])]
    if len(short):
        lo_n, hi_n = int(short["n"].min()), int(short["n"].max())
        verdict += (f" At {questions.stretches(short['pressure'], grid)} no drop was seen "
                    f"in {lo_n if lo_n == hi_n else f'{lo_n}-{hi_n}'} replications "
                    f"({short['key_lives'].min():,.0f} key lives or more), "
                    f"which bounds P only below {num(short['p_upper95'].max(), 12).strip()}: "
                    f"bounding it below {KEY_LIFE_CLAIM:g} takes "
                    f"{v['claim_units_needed']:,} replications per level, none with a drop "
                    f"(about {short['key_lives_needed'].max():,.0f} key lives simulated).")
    deff = claim[claim["units_dropped"] > 1]["design_effect"].dropna()
    r.prose("Ingo's claim, \"99.999% of cases won't ever be dropped\", tested as the "
            "probability that a state is dropped within its 60 s key life, per pressure "
            "level of the Q3 sweep. " + verdict)
    r.prose("The unit of evidence is the replication: each draws its own thread rates, "
            "arrivals and lifetimes, and its own spike phase and gaps (model.params, "
            "Pressure), from its seed. Key lives within one replication are not "
            "independent, as they share its spikes and reclaim passes"
            + (f" (where states were dropped, the replications' fractions vary "
               f"{deff.min():.3g} to {deff.max():.3g} times as much as independent key "
               "lives would)" if len(deff) else "")
            + "; so they are never pooled as trials. Where no replication dropped a "
              "state, the bound is Clopper-Pearson over replications: a replication "
              "without a drop has P = 0 and one with a drop at most 1.")
    lines = [f"Simulated: P(state dropped in its key life), {BASELINE} design",
             "n: replications; drop: those with a drop; CI95: bootstrap over",
             "replications, or [0, Clopper-Pearson] where none dropped; bound95: one-sided",
             "Clopper-Pearson over replications; deff: design effect; needed: replications",
             f"without a drop that bound P below {KEY_LIFE_CLAIM:g}.", "",
             f"{'peak MiB':>8}{'n':>4}{'drop':>5}{'P mean':>10}{'CI95 low':>10}"
             f"{'CI95 high':>10}{'bound95':>10}{'deff':>7}{'needed':>9}{'OOM':>7}"]
    for _, row in claim.iterrows():
        needed = row["units_needed"]
        lines.append(f"{row['pressure']:>8g}{int(row['n']):>4}{int(row['units_dropped']):>5}"
                     f"{num(row['p_mean'], 10)}{num(row['p_low'], 10)}"
                     f"{num(row['p_high'], 10)}{num(row['p_upper95'], 10)}"
                     f"{num(row['design_effect'], 7)}"
                     f"{'-' if math.isnan(needed) else f'{needed:,.0f}':>9}"
                     f"{num(row['oom_kills_mean'], 7)}")
    r.table(lines)


def sensitivity_section(r: Report, a: Answer) -> None:
    """model.sensitivity's one-at-a-time table, in 80 columns."""
    s = a.simulated.get("sensitivity")
    if s is None:
        return
    oat = s.oat
    lines = [f"Simulated: sensitivity at a {a.values['sensitivity_peak']} spike peak, the "
             "sweep's lowest with", f"a drop; {BASELINE} design, mean of {s.replications} "
             "replications per end, the same seeds", "at every end; assumptions by how far "
             "their plausible range", "(model.sensitivity.RANGES) moves P", ""]
    for metric, name in sensitivity.METRICS:
        base = oat[(oat["end"] == "base") & (oat["metric"] == metric)]["mean"].iloc[0]
        lines += [f"{name}: {num(base, 9).strip()} at the scenario's values",
                  f"  {'assumption':<30}{'low end':>10}{'mean':>10}{'high end':>12}"
                  f"{'mean':>10}"]
        for assumption in s.ranking:
            g = oat[(oat["assumption"] == assumption)
                    & (oat["metric"] == metric)].set_index("end")
            lines.append(f"  {assumption:<30}{g.loc['low', 'value']:>10}"
                         f"{num(g.loc['low', 'mean'], 10)}{g.loc['high', 'value']:>12}"
                         f"{num(g.loc['high', 'mean'], 10)}")
        lines.append("")
    lines += textwrap.wrap("not varied: " + "; ".join(
        f"{row.assumption} ({row.why})" for row in s.skipped.itertuples()), TABLE_COLUMNS) \
        if len(s.skipped) else []
    r.table(lines)
    if len(s.factorial):
        keys = list(s.factorial.columns[:s.factorial.columns.get_loc("metric")])
        wide = s.factorial.pivot_table(index=keys, columns="metric", values="mean")
        p = wide["p_state_dropped_in_key_life"]
        base = oat[(oat["end"] == "base")
                   & (oat["metric"] == "p_state_dropped_in_key_life")]["mean"].iloc[0]
        r.prose(f"Crossed in a 2^{len(keys)} factorial ({', '.join(keys)}), their ends "
                f"give P from {p.min():.3g} ({', '.join(p.idxmin())}) to {p.max():.3g} "
                f"({', '.join(p.idxmax())}), against {num(base, 9).strip()} at the "
                "scenario's values (ends in that order).")


def section_q4(r: Report, a: Answer) -> None:
    r.heading("Q4 Fork and secrecy")
    runs = a.simulated["fork"]
    n = int(runs["replication"].nunique())
    r.prose("The fork-server scenario: a pre-forking server on a machine with swap. "
            "Key material that can reach swap or a core dump, and states a parent and "
            "child could share (two processes emitting the same stream).")
    for group, designs in design_groups():
        r.table([f"Simulated: scenario 'fork-server', {group}"]
                + compare_table(runs, designs, FORK_COMPARED, paired_test_line(n)))
    fork = a.measured.get("fork")
    if fork is not None:
        lines = ["Measured: data/host/fork.csv", ""]
        for _, row in fork.iterrows():
            cells = [f"{k}={row[k]:g}" if isinstance(row[k], (int, float, np.number))
                     else f"{k}={row[k]}" for k in fork.columns
                     if k not in ("where", "variant") and not _blank(row[k])]
            lines += textwrap.wrap(" ".join(cells), TABLE_COLUMNS - 2,
                                   subsequent_indent="  ")
        r.table(lines)
    notes(r, a)


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


# Q5's complexity tables: (metric, header line 1, header line 2, width).
Q5_CODE = (("files_changed", "", "files", 6), ("lines_added_total", "+lines", "all", 7),
           ("lines_removed_total", "-lines", "all", 7),
           ("lines_added_kernel", "+lines", "kernel", 7),
           ("lines_removed_kernel", "-lines", "kernel", 7),
           ("selftest_lines", "+lines", "tests", 7), ("arches_touched", "", "arches", 7),
           ("new_vm_flags", "VM", "flags", 6), ("new_uapi_flags", "uapi", "flags", 6))
Q5_CASES = (("special_cases_fault_reclaim", "special", "flt/rcl", 8),
            ("special_cases_other", "special", "other", 8),
            ("fix_pre_merge", "fixes", "pre", 6), ("fix_post_merge", "fixes", "post", 6),
            ("bug_found_by_study", "bugs", "study", 6),
            ("libc_calls_per_block", "libc", "calls", 6),
            ("libc_calls_per_block_after_fork", "libc", "fork", 6))


def complexity_lines(comp, columns: tuple) -> list:
    """A row per design of `comp` (questions.complexity_table) in `columns`."""
    width = name_width()
    lines = [" " * width + "".join(f"{h1:>{w}}" for _, h1, _, w in columns),
             f"{'design':<{width}}" + "".join(f"{h2:>{w}}" for _, _, h2, w in columns)]
    for _, row in comp.iterrows():
        lines.append(f"{row['design']:<{width}}"
                     + "".join(num(row[m], w) for m, _, _, w in columns))
    return lines


def section_q5(r: Report, a: Answer) -> None:
    r.heading("Q5 Complexity against benefit")
    comp = a.measured.get("complexity")
    if comp is not None:
        r.prose("Every patch counted by the same rules (measure.complexity): the study's "
                "from kernel-patches/patches/, upstream's MAP_DROPPABLE from the v23 patch "
                "as merged (9651fcedf7b9); droppable-fixed is the fix alone, on top of "
                "droppable.  Tests are counted on both sides: 'kernel' lines exclude "
                "tools/testing/, 'tests' are the selftest lines.")
        lines = ["Measured: data/complexity.csv, the code each design adds", "",
                 *complexity_lines(comp, Q5_CODE)]
        r.table(lines)
        lines = ["Measured: data/complexity.csv, special cases, fixes and libc", "",
                 *complexity_lines(comp, Q5_CASES)]
        lines += textwrap.wrap(
            "special: '+' lines that branch on the design's flags, in fault and reclaim "
            "files (flt/rcl) or elsewhere (other). fixes: found after posting, before "
            "mainline (pre), or after (post); n/a: never merged. bugs: found by this study "
            "(0004 fixes it). libc: calls per block of states (glibc maps states a block "
            "at a time), and again in each child after fork.", TABLE_COLUMNS)
        lines += ["", "Review status:"]
        for _, row in comp.iterrows():
            lines += textwrap.wrap(f"{row['design']}: {row['review_status']}", TABLE_COLUMNS,
                                   initial_indent="  ", subsequent_indent="    ")
        lines += ["", "What libc does per block of states:"]
        for _, row in comp.iterrows():
            lines += textwrap.wrap(f"{row['design']}: {row['libc_change']}", TABLE_COLUMNS,
                                   initial_indent="  ", subsequent_indent="    ")
        rows = a.measured["complexity_rows"]
        fixes = rows[rows["metric"].isin(questions.COMPLEXITY_EVENTS)
                     & (pd.to_numeric(rows["value"], errors="coerce") > 0)]
        if len(fixes):
            lines += ["", "Each fix and bug, with its source:"]
            for _, row in fixes.iterrows():
                lines += textwrap.wrap(f"{row['design']} ({row['metric']}): {row['detail']} "
                                       f"[{row['source']}]", TABLE_COLUMNS, break_on_hyphens=False,
                                       initial_indent="  ", subsequent_indent="    ")
        context = rows[rows["item"].astype(str).str.startswith(questions.COMPLEXITY_CONTEXT)]
        if len(context):
            lines += ["", "Context, not counted above (data/complexity.csv, with sources):"]
            for item, g in context.groupby("item", sort=False):
                v = g.set_index("metric")["value"]
                text = f"  {item}: " + ", ".join(
                    f"{m.replace('_total', '').replace('_', ' ')} {v[m]}" for m in
                    ("files_changed", "lines_added_total", "lines_removed_total",
                     "arches_touched", "special_cases_fault_reclaim", "special_cases_other")
                    if m in v) + f" [{g['source'].iloc[0]}]"
                lines += textwrap.wrap(text, TABLE_COLUMNS, subsequent_indent="    ")
        r.table(lines)
    benefit = a.simulated["benefit"]
    width = name_width()
    lines = ["Simulated: benefit per design (means over the Q3 scenarios)", "",
             f"{'design':<{width}}{'CPU saved':>10}{'b2b':>7}{'saved s/h':>10}"
             f"{'pin KiB':>9}{'drops/h':>8}{'OOMs':>8}{'fallbacks':>10}"]
    for _, row in benefit.iterrows():
        lines.append(f"{row['design']:<{width}}{row['cpu_saved_fraction'] * 100:9.1f}%"
                     f"{row['cpu_saved_fraction_b2b'] * 100:6.1f}%"
                     f"{num(row['cpu_saved_s_per_h'], 10)}"
                     f"{num(row['pinned_bytes_max'] / 1024, 9)}"
                     f"{num(row['states_dropped_per_hour'], 8)}{num(row['oom_kills'], 8)}"
                     f"{num(row['syscall_fallback_threads'], 10)}")
    r.table(lines)
    loop = a.measured.get("states_loop")
    if loop is not None:
        r.table(["Measured: the vDSO against the syscall in the states loop, no pressure",
                 f"(data/{questions.STATES_LOOP}; a class's mean a call, median over runs)", "",
                 *hostcosts.twins_table(loop)])
    pressure = a.measured.get("states_pressure")
    if pressure is not None:
        r.table(["Measured: the vDSO against the syscall in the states loop, churn and none",
                 f"(data/{questions.STATES_PRESSURE}; a class's mean a call in ns, median",
                 "over runs; every: over every call, drops and reseeds included; saved below 0:",
                 "what the vDSO costs more)",
                 "", *hostcosts.pressure_lines(pressure, TABLE_COLUMNS)])
    notes(r, a)


def section_q6(r: Report, a: Answer) -> None:
    r.heading("Q6 Scale")
    fleet = a.simulated["fleet"]
    r.prose(f"A fleet, every assumption stated. Saving per call, calls back to back: "
            f"{a.values['saved_ns_per_call']:.1f} ns; a thread calling alone once a "
            "period: as measured at that period (n/a: not measured there).")
    vdso = fleet[fleet["design"] == BASELINE]
    lines = ["Arithmetic: CPU saved fleet-wide by any vDSO design (core-days per day)",
             "", f"{'calls/s/thread':>15}{'back to back':>15}{'alone':>12}{'ns/call alone':>15}"]
    for _, row in vdso.iterrows():
        lines.append(f"{row['calls_per_s_per_thread']:>15g}"
                     f"{num(row['cpu_core_days_saved_per_day'], 15)}"
                     f"{num(row['cpu_core_days_saved_per_day_alone'], 12)}"
                     f"{num(row['saved_ns_alone'], 15)}")
    r.table(lines)
    per = fleet.drop_duplicates("design").set_index("design")
    width = name_width()
    lines = ["Simulated: state memory fleet-wide (GiB)", "",
             f"{'design':<{width}}{'resident':>12}{'pinned':>12}"]
    for d in DESIGNS:
        lines.append(f"{d:<{width}}{num(per.loc[d, 'resident_gib'], 12)}"
                     f"{num(per.loc[d, 'pinned_gib'], 12)}")
    r.table(lines)
    notes(r, a)


def footer(r: Report, study, command: str) -> None:
    lines = ["--", f"Command:    {command}"[:TABLE_COLUMNS],
             f"Git commit: {model_commit()}"]
    lines += textwrap.wrap("Effort:     " + study.effort.describe(), TABLE_COLUMNS,
                           subsequent_indent=" " * 12)
    lines.append("Costs:      " + ("WHAT-IF: some set by hand, not measured (see Q1)"
                                   if study.what_if_costs else "fitted to data/host (see Q1)"))
    lines.append("Data files used (sha256):")
    for path, digest in sorted(study.sources.used.items()):
        lines += [f"  {path}", f"    {digest}"]
    if not study.sources.used:
        lines.append("  none")
    for path in study.sources.missing:
        lines.append(f"  {path}: ABSENT")
    r.blocks.append(Block("footer", "\n".join(lines)))


def build(study, command: str) -> Report:
    r = Report()
    title = f"VM_DROPPABLE study: vDSO getrandom() state memory, {len(DESIGNS)} designs"
    r.heading(title, "=")
    r.prose("Designs: " + "; ".join(f"{d.name}: {d.summary}" for d in DESIGNS.values())
            + f". Baseline: {BASELINE}. " + study.effort.describe() + ".")
    if study.what_if_costs:
        r.prose("WARNING: some of the model's costs are what-ifs set by hand, not fits "
                "to data/host (listed under Q1): simulated CPU times are indicative only.")
    if study.sources.missing:
        r.prose("Absent data files (their tables are left out, never filled in): "
                + ", ".join(study.sources.missing) + ".")
    a = study.answers
    section_q1(r, a["Q1"])
    section_q2(r, a["Q2"])
    section_q3(r, a["Q3"])
    section_q4(r, a["Q4"])
    section_q5(r, a["Q5"])
    section_q6(r, a["Q6"])
    footer(r, study, command)
    return r


def write(study, out: Path = REPORT, command: str = "python -m model report") -> Path:
    atomic.write_text(out, build(study, command).render())
    return out


def main(argv: list[str]) -> int:
    def report(study, args):
        print(write(study, args.out, "python -m model report " + shlex.join(argv)))
        # The reply to Ingo and the bug report, beside the report, from the same study.
        print(reply.write(study, args.out.parent / reply.REPLY.name))
        print(bugreport.write(study, args.out.parent / bugreport.BUG_REPORT.name))
    return questions.study_cli(argv, "python -m model report", __doc__, REPORT, report,
                               out_is_file=True)
