"""Every figure of the study, from model.questions' Answers.

    python -m model figures [--effort quick|study|full] [--out figures/]

The notebooks call the same draw_*() functions, so a figure regenerated here
is the one a notebook shows.  Each figure is written as PNG and SVG with one
line of provenance on it (effort, model commit, a digest of the data files,
measured or what-if costs) and NAME.txt beside it with the whole of it: every
data file with its sha256, the effort in full, the notes.
"""
from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import atomic, questions, replicate, replicated, sensitivity  # noqa: E402
from .calibration import load_costs, parse_what_if  # noqa: E402
from .sim.costs import Costs  # noqa: E402
from .datafiles import REPO, model_commit  # noqa: E402
from .questions import KEY_LIFE_CLAIM, Answer, Effort  # noqa: E402
from .sim.designs import BASELINE, DESIGNS  # noqa: E402

FIGURES = REPO / "figures"
# SVGs that do not change when nothing changed: no date, fixed hash salt.
plt.rcParams.update({"svg.hashsalt": "vm-droppable-study", "svg.fonttype": "none", "figure.dpi": 100,
                     "savefig.dpi": 120, "font.size": 9})
METADATA = {"svg": {"Date": None}, "png": {}}


def colours() -> list:
    """Each design's colour, in the order of DESIGNS."""
    return [d.colour for d in DESIGNS.values()]


def out_dir(quick: bool, override=None) -> Path:
    """Where a notebook writes: quick runs never overwrite the committed figures/."""
    if override:
        return Path(override)
    return REPO / "results" / "figures-quick" if quick else FIGURES


def notebook_setup(quick: bool, figures_dir=None, what_if=()) -> tuple[Effort, Path, Costs]:
    """The effort, output directory and costs a notebook's parameters cell asks for.

    Each notebook keeps its own parameters cell (papermill injects into it);
    what those parameters mean is decided once, here.
    """
    effort = questions.EFFORTS["quick" if quick else "full"]
    costs = load_costs(what_if=parse_what_if(list(what_if)))
    print(effort.describe())
    return effort, out_dir(quick, figures_dir), costs


def costs_note(answer: Answer) -> str:
    return ("WHAT-IF COSTS: some set by hand, not measured (see the report)"
            if answer.values["what_if_costs"] else "costs fitted to data/host")


def data_digest(answer: Answer) -> str:
    """One sha256 over the data files a figure used: sha256 of the lines
    `<sha256>  <path>` (sha256sum's format, sorted by path) of NAME.txt."""
    lines = "".join(f"{digest}  {path}\n" for path, digest in sorted(answer.sources.used.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def provenance_line(name: str, answer: Answer, effort: Effort) -> str:
    """What goes on the figure: short enough for one line of small print."""
    used, missing = answer.sources.used, answer.sources.missing
    data = (f"data: {len(used)} file{'s' if len(used) != 1 else ''} sha256 "
            f"{data_digest(answer)[:12]}" if used else "no data/ file")
    if missing:
        data += f", ABSENT: {', '.join(missing)}"
    return (f"effort '{effort.name}', model {model_commit()}, {data}, {costs_note(answer)}; "
            f"details in {name}.txt")


def provenance_text(name: str, answer: Answer, effort: Effort, note: str = "") -> str:
    """NAME.txt: everything the figure came from, for a reader who has only it."""
    lines = [f"{name}: provenance", "",
             f"model commit: {model_commit()}",
             f"{effort.describe()}",
             f"costs: {costs_note(answer)} (model.calibration)",
             "", f"data files (sha256  path; the figure shows the first 12 hex digits of the "
                 f"sha256 of these lines: {data_digest(answer)[:12]}):"]
    lines += [f"{digest}  {path}" for path, digest in sorted(answer.sources.used.items())]
    lines += [f"ABSENT  {path} (not measured yet: not shown)" for path in answer.sources.missing]
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def save(fig, name: str, answer: Answer, effort: Effort, out: Path, note: str = "") -> list:
    """Write name.png and name.svg atomically with one line of provenance on
    them (and `note`, an assumption the reader must see, above it), and
    name.txt with all of it.  Returns the PNG and SVG paths."""
    text = provenance_line(name, answer, effort)
    if note:
        text = textwrap.fill(note, 190) + "\n" + text
    lines = text.count("\n") + 1
    fig.text(0.01, 0.008, text, fontsize=6, va="bottom", ha="left", color="#444",
             linespacing=1.3)
    # Room for those lines below whatever the drawing left at the bottom.
    height_in = fig.get_figheight()
    fig.subplots_adjust(bottom=max(fig.subplotpars.bottom,
                                   (0.55 + 0.12 * lines) / height_in))
    out.mkdir(parents=True, exist_ok=True)
    atomic.write_text(out / f"{name}.txt", provenance_text(name, answer, effort, note))
    paths = []
    for ext in ("png", "svg"):
        path = out / f"{name}.{ext}"
        with atomic.replacing(path, "wb") as f:
            fig.savefig(f, format=ext, metadata=METADATA[ext])
        paths.append(path)
    plt.close(fig)
    return paths


def absent(ax, what: str) -> None:
    ax.text(0.5, 0.5, f"{what}\nABSENT: not measured yet", ha="center", va="center",
            transform=ax.transAxes, fontsize=10, color="#a00")
    ax.set_xticks([])
    ax.set_yticks([])


def draw_q1(a: Answer, effort: Effort, out: Path = FIGURES) -> list:
    fig, (*axes, ref_ax) = plt.subplots(1, 3, figsize=(14, 5))
    axes[1].sharey(axes[0])
    calls = a.measured.get("callcost")
    model = a.simulated["service_time"]
    threads = sorted(set(calls["threads"])) if calls is not None else [1]
    for ax, t in zip(axes, (threads[0], threads[-1])):
        if calls is None:
            absent(ax, "data/host/callcost.csv")
            continue
        for mode, style in (("vdso", "o-"), ("syscall", "s-")):
            g = calls[(calls["mode"] == mode) & (calls["threads"] == t)]
            ax.errorbar(g["size_bytes"], g["mean"], yerr=g["ci_half"], fmt=style,
                        capsize=3, label=f"{mode}, measured (mean, 95% CI)")
        ax.set_title(f"{t} thread{'s' if t > 1 else ''} calling at once")
    for ax in axes:
        if calls is not None:
            ax.plot(model["size_bytes"], model["vdso_ns"], "k--", lw=0.8,
                    label="model: vDSO (1-thread fit, used at every thread count)")
            ax.plot(model["size_bytes"], model["syscall_ns"], "k:", lw=0.8,
                    label="model: syscall (1-thread fit)")
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("request size (bytes)")
            ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("time per call (ns)")
    draw_q1_openssl(ref_ax, a)
    if calls is not None:
        # Below the panels: inside, the curves leave no corner free at every size.
        fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=2,
                   fontsize=7, bbox_to_anchor=(0.36, 0.06), frameon=False)
        fig.subplots_adjust(bottom=0.27, wspace=0.3)
    fig.suptitle("Q1: getrandom() cost per call, vDSO against the syscall, and both "
                 "against openssl's ChaCha20")
    return save(fig, "q1_cost_per_call", a, effort, out)


def draw_q1_openssl(ax, a: Answer) -> None:
    """One thread's bytes/s as a fraction of openssl's ChaCha20 at each size."""
    ref = a.measured.get("vs_openssl")
    if ref is None:
        absent(ax, "data/host/chacha20.csv")
        return
    for mode, style in (("vdso", "o-"), ("syscall", "s-")):
        ax.plot(ref["size_bytes"], ref[f"{mode}_fraction"], style,
                label=f"{mode} (callcost, 1 thread)")
        for x, y in zip(ref["size_bytes"], ref[f"{mode}_fraction"]):
            ax.annotate(f"{y:.2g}", (x, y), xytext=(0, 5), textcoords="offset points",
                        ha="center", fontsize=6)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.text(ref["size_bytes"].iloc[-1], 1.05, "openssl's rate", ha="right", va="bottom",
            fontsize=7)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("request size (bytes)")
    ax.set_ylabel("bytes/s as a fraction of openssl's\n(openssl speed -evp chacha20, "
                  "1 thread)")
    ax.set_title(f"against {a.values.get('openssl', 'openssl')}", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")


# Q2's designs lie on top of each other where they hold the same memory:
# each gets its own marker and a small sideways offset so that all are seen.
MARKERS = "osD^vPX"


def draw_q2(a: Answer, effort: Effort, out: Path = FIGURES) -> list:
    mem = a.simulated["memory"]
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.8))
    panels = (("state_bytes_resident_max", "state memory resident (KiB)"),
              ("state_bytes_unevictable_max", "state memory unevictable (KiB)"),
              ("memlock_charged_bytes_max", "charged to RLIMIT_MEMLOCK (KiB)"))
    n = len(DESIGNS)
    for ax, (metric, label) in zip(axes, panels):
        zero = []
        for i, design in enumerate(DESIGNS.values()):
            g = mem[mem["design"] == design.name].sort_values("threads")
            y = g[metric] / 1024
            if not (y > 0).any():
                zero.append(design.name)
            # 15% apart in x per design on a log axis: apart, yet at their thread count.
            dodge = 1.15 ** (i - (n - 1) / 2)
            ax.plot(g["threads"] * dodge, np.where(y > 0, y, np.nan), ls="-", lw=1,
                    marker=MARKERS[i % len(MARKERS)], ms=5, mfc="none", mew=1.2,
                    color=design.colour, label=design.label)
        if zero:
            ax.text(0.97, 0.04, "0 at every thread count\n(not drawn on log axes):\n"
                    + ", ".join(zero), transform=ax.transAxes, ha="right", va="bottom",
                    fontsize=7, color="#333")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("threads (one process)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    limit_kib = 8 * 1024
    axes[2].axhline(limit_kib, color="k", ls="--", lw=0.8)
    axes[2].set_ylim(top=limit_kib * 8)
    axes[2].text(0.03, limit_kib * 1.25, "RLIMIT_MEMLOCK 8 MiB",
                 transform=axes[2].get_yaxis_transform(), fontsize=7, va="bottom")
    fb = a.values.get("mlock_fallback_from_threads")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=n, fontsize=8,
               bbox_to_anchor=(0.5, 0.06), frameon=False)
    fig.subplots_adjust(bottom=0.25, wspace=0.3)
    fig.suptitle("Q2: getrandom() state memory per design (simulated)"
                 + (f"; mlock falls back to the syscall from {fb:,} threads" if fb else
                    "; mlock hits no RLIMIT_MEMLOCK fallback in this range"))
    return save(fig, "q2_memory", a, effort, out)


def draw_q3_claim(a: Answer, effort: Effort, out: Path = FIGURES) -> list:
    claim = a.simulated["claim"]
    fig, ax = plt.subplots(figsize=(8, 5.5))
    seen = claim[claim["units_dropped"] > 0]
    none = claim[claim["units_dropped"] == 0]
    # A log axis has no 0: an interval reaching 0 is drawn to 1e-3 of its mean.
    low = np.maximum(seen["p_low"], seen["p_mean"] * 1e-3)
    colour = DESIGNS[BASELINE].colour
    ax.errorbar(seen["pressure"], seen["p_mean"],
                yerr=[seen["p_mean"] - low, seen["p_high"] - seen["p_mean"]], fmt="o",
                color=colour, capsize=3,
                label=f"{BASELINE}: mean over replications, 95% bootstrap interval over them")
    ax.plot(none["pressure"], none["p_upper95"], "v", color=colour, mfc="none",
            label="no drop in any replication: P below this (one-sided 95%, "
                  "Clopper-Pearson over replications)")
    # One label per stretch of neighbouring levels with the same kills: a
    # label per level overlaps its neighbours where levels are dense.
    rows = list(claim.sort_values("pressure").itertuples())
    start = 0
    for i, row in enumerate(rows):
        if i + 1 < len(rows) and rows[i + 1].oom_kills_mean == row.oom_kills_mean:
            continue
        first, start = rows[start], i + 1
        if row.oom_kills_mean > 0:
            y = first.p_mean if first.units_dropped > 0 else first.p_upper95
            where = (f"{first.pressure:g} MiB" if first is row
                     else f"{first.pressure:g}-{row.pressure:g} MiB")
            ax.annotate(f"{row.oom_kills_mean:.2g} OOM kills/run ({where})",
                        (first.pressure, y), textcoords="offset points", xytext=(-4, 8),
                        ha="left", fontsize=6)
    ax.axhline(KEY_LIFE_CLAIM, color="k", ls="--", lw=1)
    ax.text(claim["pressure"].min(), KEY_LIFE_CLAIM * 1.3,
            "Ingo: 99.999% never dropped (P = 1e-5)", fontsize=8)
    needed = a.values.get("claim_units_needed")
    if needed:
        ax.text(claim["pressure"].min(), KEY_LIFE_CLAIM / 2.2,
                f"bounding it below 1e-5 where nothing dropped takes {needed:,} "
                "replications\nwithout a drop per level (key lives within one share "
                "its spikes)", fontsize=7, va="top")
    ax.set_yscale("log")
    ax.set_ylim(min(1e-7, KEY_LIFE_CLAIM / 10), 1.5)
    ax.set_xlabel("pressure: spike peak of the other work's anon memory (MiB), "
                  f"sweep {questions.CLAIM_SWEEP}")
    ax.set_ylabel("P(state dropped within its 60 s key life)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("Q3: Ingo's claim tested - " + crossing_text(a.values, claim), fontsize=10)
    return save(fig, "q3_claim", a, effort, out)


def crossing_text(values: dict, claim) -> str:
    """Where P(drop in key life) passes 1e-5, where its interval is above it,
    where the data bound it below, and whether higher peaks drop nothing
    because the OOM killer comes first (so that the crossing is not read as
    "from there on")."""
    lo, hi = values["pressure_range"]
    grid = list(claim["pressure"])
    at = values["claim_crossed_at"]
    if at is None:
        text = f"mean P below 1e-5 at every peak ({lo:g}-{hi:g} MiB)"
    else:
        above = values["claim_levels_above"]
        text = f"1e-5 crossed at a {at:g} MiB peak" + (
            f", CI above it at {questions.stretches(above, grid)}" if above
            else ", CI not above it")
    if values["claim_levels_bounded"]:
        text += f"; bounded below it at {questions.stretches(values['claim_levels_bounded'], grid)}"
    if values["claim_levels_oom_first"]:
        text += (f";\nat {questions.stretches(values['claim_levels_oom_first'], grid)} no "
                 "state is dropped: the OOM killer acts first")
    return text


def draw_q3_scenarios(a: Answer, effort: Effort, out: Path = FIGURES) -> list:
    runs = a.simulated["scenarios"]
    panels = questions.Q3_HEADLINES
    scenarios = list(dict.fromkeys(runs["scenario"]))
    fig, axes = plt.subplots(1, len(panels), figsize=(14, 4.8))
    width = 0.8 / len(DESIGNS)
    x = np.arange(len(scenarios))
    for ax, (metric, label) in zip(axes, panels):
        m = runs[runs["metric"] == metric]
        for i, design in enumerate(DESIGNS.values()):
            # Counts and times are >= 0 and skewed (a few runs drop many
            # states, most none): a bootstrap interval of the mean stays
            # within what the runs saw, where a t-interval goes below zero.
            cis = [replicate.bootstrap_interval(
                m[(m["scenario"] == s) & (m["design"] == design.name)]["value"]) for s in scenarios]
            mean, low, high = (np.array(c, dtype=float) for c in zip(*cis))
            ax.bar(x + i * width, mean, width, color=design.colour, label=design.label,
                   yerr=[np.nan_to_num(mean - low), np.nan_to_num(high - mean)], capsize=2)
        ax.set_xticks(x + width * (len(DESIGNS) - 1) / 2, scenarios, fontsize=8)
        ax.set_ylabel(label)
        ax.set_xlabel("scenario")
        ax.set_ylim(bottom=0)
        if not m["value"].any():
            ax.set_ylim(0, 1)
            ax.text(0.5, 0.5, "0 in every run\nof every design", ha="center", va="center",
                    transform=ax.transAxes, fontsize=9)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center",
               ncol=len(DESIGNS), fontsize=8, bbox_to_anchor=(0.5, 0.05), frameon=False)
    fig.subplots_adjust(bottom=0.25, wspace=0.35, left=0.05, right=0.98)
    fig.suptitle("Q3: memory pressure per design (simulated, mean and 95% bootstrap CI "
                 f"over {effort.replications} replications)")
    return save(fig, "q3_scenarios", a, effort, out)


def draw_q3_measured(a: Answer, effort: Effort, out: Path = FIGURES) -> list:
    drops = a.measured.get("drops")
    fig, ax = plt.subplots(figsize=(8, 5))
    if drops is None:
        absent(ax, "data/host/pressure.csv")
    else:
        keys = [c for c in ("kind", "touch", "limit_mib", "droppable_mib") if c in drops.columns]
        for key, g in drops.groupby(keys):
            label = ", ".join(f"{k}={v}" for k, v in zip(keys, key))
            ax.errorbar(g["total_over_limit"], g["mean"],
                        yerr=[g["mean"] - g["low"], g["high"] - g["mean"]], fmt="o-",
                        ms=3, capsize=2, label=label, lw=0.8)
        ax.set_xlabel("(droppable region + hog) / memcg limit")
        ax.set_ylabel("fraction of droppable pages read back as zero\n"
                      "(mean, 95% t-interval over runs cut to [0, 1])")
        ax.set_ylim(-0.03, 1.03)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=6, ncol=2)
    ax.set_title("Q3 measured: droppable pages lost under memcg pressure (this kernel)")
    return save(fig, "q3_measured_drops", a, effort, out)


def draw_q3_tornado(a: Answer, effort: Effort, out: Path = FIGURES) -> list:
    """model.sensitivity's one-at-a-time ends as a tornado, one panel per
    number; nothing where the effort did not run it."""
    result = a.simulated.get("sensitivity")
    if result is None:
        return []
    oat, ranking = result.oat, result.ranking
    fig, axes = plt.subplots(1, len(sensitivity.METRICS), figsize=(12, 1.6 + 0.45 * len(ranking)),
                             sharey=True)
    y = np.arange(len(ranking))[::-1]
    # Colour, legend and where the end's value is written (below, above).
    ends = {"low": ("#9ecae1", "low end", -10), "high": ("#e6550d", "high end", 5)}
    for ax, (metric, name) in zip(axes, sensitivity.METRICS):
        mine = oat[oat["metric"] == metric]
        base = float(mine[mine["end"] == "base"]["mean"].iloc[0])
        for yi, assumption in zip(y, ranking):
            rows = mine[mine["assumption"] == assumption].set_index("end")
            for end, (colour, label, dy) in ends.items():
                r = rows.loc[end]
                ax.barh(yi, r["mean"] - base, left=base, height=0.6, color=colour,
                        label=label if yi == y[0] else None)
                ax.errorbar(r["mean"], yi, xerr=[[r["mean"] - r["low"]], [r["high"] - r["mean"]]],
                            fmt="none", ecolor="k", elinewidth=0.7, capsize=2)
                ax.annotate(r["value"], (r["mean"], yi), xytext=(0, dy),
                            textcoords="offset points", ha="center", fontsize=6)
        ax.axvline(base, color="k", lw=0.8)
        ax.set_xlim(0, max(mine["high"].max() * 1.15, 1e-9))
        ax.set_xlabel(f"{name}\n(line: the scenario's values, {base:.3g})")
        ax.grid(True, axis="x", alpha=0.3)
        ax.set_ylim(-0.7, len(ranking) - 0.3)
    axes[0].set_yticks(y, ranking, fontsize=8)
    axes[0].legend(fontsize=7, loc="lower right")
    skipped = "; ".join(f"{r.assumption} ({r.why})" for r in result.skipped.itertuples())
    fig.suptitle(f"Q3 sensitivity: '{result.scenario.name}' at a "
                 f"{a.values['sensitivity_peak']} spike peak (the sweep's lowest with a "
                 f"drop), {BASELINE}; mean and 95% bootstrap CI over "
                 f"{result.replications} replications per end", fontsize=10)
    fig.subplots_adjust(left=0.2, wspace=0.08)
    return save(fig, "q3_tornado", a, effort, out,
                note=f"not varied: {skipped}" if skipped else "")


def draw_q4(a: Answer, effort: Effort, out: Path = FIGURES) -> list:
    runs = a.simulated["fork"]
    panels = (("key_bytes_swappable_max", "key bytes in swappable memory, max"),
              ("key_bytes_swapped", "key bytes written to swap"),
              ("key_bytes_dumpable", "key bytes in a core dump"),
              ("states_shared_over_fork", "states shared by parent and child"))
    fig, axes = plt.subplots(1, len(panels), figsize=(13, 4.5))
    for ax, (metric, label) in zip(axes, panels):
        m = runs[runs["metric"] == metric]
        stats = [replicated.summarize(m[m["design"] == d]["value"]) for d in DESIGNS]
        ax.bar(range(len(DESIGNS)), [s.mean for s in stats],
               yerr=[s.ci_half for s in stats], capsize=2, color=colours())
        ax.set_xticks(range(len(DESIGNS)), list(DESIGNS), rotation=30, fontsize=8)
        ax.set_ylabel(label)
        if not any(s.mean for s in stats):
            ax.text(0.5, 0.5, "0 in every run\nof every design", ha="center", va="center",
                    transform=ax.transAxes, fontsize=9)
    fig.suptitle("Q4: fork-server scenario, secrets exposed per design (simulated)")
    return save(fig, "q4_fork", a, effort, out)


def fmt_count(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{value:.0f}"


def draw_q5(a: Answer, effort: Effort, out: Path = FIGURES) -> list:
    """Complexity and benefit side by side, one row per design."""
    names = list(DESIGNS)
    benefit = a.simulated["benefit"].set_index("design").reindex(names)
    comp = a.measured.get("complexity")
    fig, axes = plt.subplots(1, 4, figsize=(16, 4.8), sharey=True,
                             gridspec_kw={"width_ratios": (2.2, 1, 1, 1)})
    y = np.arange(len(names))[::-1]
    colors = colours()
    if comp is None:
        absent(axes[0], "data/complexity.csv")
    else:
        comp = comp.set_index("design").reindex(names)
        kernel = comp["lines_added_kernel"].fillna(0)
        tests = comp["selftest_lines"].fillna(0)
        axes[0].barh(y, kernel, color=colors, label="kernel (excl. tests)")
        axes[0].barh(y, tests, left=kernel, color=colors, alpha=0.35, hatch="//",
                     label="selftests")
        for yi, d in zip(y, names):
            c = comp.loc[d]
            text = (f" special cases {fmt_count(c['special_cases_fault_reclaim'])} "
                    f"fault/reclaim + {fmt_count(c['special_cases_other'])} other;"
                    f" {fmt_count(c['arches_touched'])} arches;\n"
                    f" flags {fmt_count(c['new_vm_flags'])} VM + "
                    f"{fmt_count(c['new_uapi_flags'])} uapi; fixes "
                    f"{fmt_count(c['fix_pre_merge'])} pre / "
                    f"{fmt_count(c['fix_post_merge'])} post merge;\n"
                    f" libc calls per block {fmt_count(c['libc_calls_per_block'])}"
                    f" (+{fmt_count(c['libc_calls_per_block_after_fork'])} per child)"
                    if c["present"] else " not counted: no rows in data/complexity.csv")
            axes[0].text(kernel[d] + tests[d], yi, text, va="center", fontsize=5.5)
        axes[0].set_xlim(0, max((kernel + tests).max(), 1) * 2.6)
        axes[0].legend(fontsize=6, loc="upper right")
        axes[0].set_xlabel("lines added (data/complexity.csv)\nn/a: never merged")
    panels = ((benefit["cpu_saved_fraction"] * 100,
               "CPU for random bytes saved vs the syscall (%):\n"
               "priced after each gap, busy process or alone; |: back to back"),
              (benefit["pinned_bytes_max"] / 1024, "state memory pinned, max (KiB)"),
              (benefit["states_dropped_per_hour"], "in-use states dropped per hour"))
    b2b = benefit["cpu_saved_fraction_b2b"] * 100
    axes[1].plot(b2b, y, "k|", ms=12)
    for ax, (values, label) in zip(axes[1:], panels):
        ax.barh(y, values, color=colors)
        ax.set_xlabel(label)
        # Right of the bar, or of the back-to-back tick where it lies further.
        at = np.fmax(values, b2b) if ax is axes[1] else values
        for yi, v, x in zip(y, values, at):
            ax.text(x, yi, f" {v:,.3g}", va="center", fontsize=7)
        ax.set_xlim(0, max(values.max(), 1.0) * 1.3)
    for yi, d in zip(y, names):
        kills = benefit.loc[d, "oom_kills_of_state_holders"]
        if kills:
            axes[3].text(0, yi - 0.3, f" {kills:.2g} OOM kills of state holders", fontsize=6)
    axes[0].set_yticks(y, names)
    fig.subplots_adjust(bottom=0.2)     # two-line x labels
    fig.suptitle("Q5: what each design costs the kernel against what it buys "
                 f"(benefit: simulated, mean over {', '.join(effort.scenarios)})")
    return save(fig, "q5_tradeoff", a, effort, out)


def draw_q6(a: Answer, effort: Effort, out: Path = FIGURES) -> list:
    fleet = a.simulated["fleet"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
    vdso = fleet[fleet["design"] == BASELINE]
    axes[0].plot(vdso["calls_per_s_per_thread"], vdso["cpu_core_days_saved_per_day"], "o-",
                 color="k", label="every vDSO design, calls back to back")
    alone = vdso[vdso["cpu_core_days_saved_per_day_alone"].notna()]
    if len(alone):
        # Markers only: between the periods measured nothing is.
        axes[0].plot(alone["calls_per_s_per_thread"], alone["cpu_core_days_saved_per_day_alone"],
                     "s", color="k", mfc="none",
                     label="a thread calling alone once a period (measured periods; note)")
    axes[0].legend(fontsize=7)
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("getrandom() calls per second per thread")
    axes[0].set_ylabel("CPU cores saved, fleet-wide (core-days per day)")
    axes[0].grid(True, which="both", alpha=0.3)
    per_design = fleet.drop_duplicates("design").set_index("design").reindex(list(DESIGNS))
    x = np.arange(len(DESIGNS))
    axes[1].bar(x - 0.2, per_design["resident_gib"], 0.4, label="resident",
                color=colours(), alpha=0.5)
    axes[1].bar(x + 0.2, per_design["pinned_gib"], 0.4, label="pinned (unevictable)",
                color=colours())
    axes[1].set_xticks(x, list(DESIGNS), rotation=30, fontsize=8)
    axes[1].set_ylabel("state memory, fleet-wide (GiB)")
    axes[1].legend(fontsize=7)
    f = a.values["fleet"]
    fig.suptitle(f"Q6: a fleet of {f.machines:,} machines x {f.threads_per_machine:,} threads")
    return save(fig, "q6_scale", a, effort, out, note=a.notes[-1])


DRAW = {"Q1": (draw_q1,), "Q2": (draw_q2,),
        "Q3": (draw_q3_claim, draw_q3_scenarios, draw_q3_measured, draw_q3_tornado),
        "Q4": (draw_q4,), "Q5": (draw_q5,), "Q6": (draw_q6,)}


def draw_all(study, out: Path = FIGURES) -> list:
    paths = []
    for name, answer in study.answers.items():
        for draw in DRAW[name]:
            paths += draw(answer, study.effort, out)
    return paths


def main(argv: list[str]) -> int:
    def draw(study, args):
        for path in draw_all(study, args.out):
            print(path)
    return questions.study_cli(argv, "python -m model figures", __doc__, FIGURES, draw)
