"""The linux-mm bug report on droppable accounting, filled in from data/.

    python -m model report      (writes results/bug-report-droppable-accounting.txt)

The prose is kernel-patches/bug-report-droppable-accounting.template; every
number is taken here from the guests' pressure runs and 0005's selftest
(data/guests/*.csv: before on the `instrumentation` kernel, with the
droppable_discard counter, checked against `baseline`; after on `fix`) and
from the host's pressure runs (data/host/pressure.csv), and the last
section names each run.  Without those files the report says what is
missing instead of numbers.
"""
from __future__ import annotations

import errno
import textwrap
from pathlib import Path

import pandas as pd

from . import atomic
from .datafiles import REPO, Sources
from .guestdata import (PAGE_BYTES, global_runs, guest_frames, guest_wide, partly_over,
                        pressure, release, sweep)

BUG_REPORT = Path("results") / "bug-report-droppable-accounting.txt"
TEMPLATE = REPO / "kernel-patches" / "bug-report-droppable-accounting.template"
BEFORE, AFTER, CHECK = "instrumentation", "fix", "baseline"
LRUS = (("classic", "two-list LRU"), ("mglru", "MGLRU"))


def span(values) -> str:
    """One value, or 'lo-hi' where the samples of a run differ."""
    lo, hi = int(min(values)), int(max(values))
    return f"{lo}" if lo == hi else f"{lo}-{hi}"


def runs_of(rows: pd.DataFrame) -> str:
    return ", ".join(str(r) for r in sorted(set(rows["run"])))


def table(before: pd.DataFrame, after: pd.DataFrame) -> str:
    hogs = sorted(set(before["hog_mib"]) & set(after["hog_mib"]))
    lrus = [(k, name) for k, name in LRUS if (before["lru"] == k).any()]
    head1 = "  " + " " * 6 + "".join(f"{name:^30}" for _, name in lrus)
    head2 = f"  {'H MiB':<6}" + "".join(f"{'before':>14}{'after':>16}" for _ in lrus)
    lines = [head1.rstrip(), head2]
    for hog in hogs:
        cells = ""
        for lru, _ in lrus:
            for frame, width in ((before, 14), (after, 16)):
                g = frame[(frame["hog_mib"] == hog) & (frame["lru"] == lru)]
                cells += (f"{span(g['dropped_pages'])}/{span(g['pgsteal_file'])}"
                          if len(g) else "-").rjust(width)
        lines.append(f"  {hog:<6g}{cells}")
    return "\n".join(lines)


def build(sources: Sources) -> str:
    guests = guest_frames(sources)
    missing = [v for v in (BEFORE, AFTER) if v not in guests]
    if missing:
        return textwrap.fill("The droppable accounting bug report needs "
                             + ", ".join(f"data/guests/{v}.csv" for v in missing)
                             + " (make calibrate-guests); absent, so no numbers are "
                             "shown.", 72) + "\n"
    before_all, after_all = pressure(guests, BEFORE), pressure(guests, AFTER)
    before, after = sweep(before_all), sweep(after_all)
    # Over the limit: region plus hog at least the limit (the harness's own
    # pages take it over).  The reproducer: the two-list run over it by the
    # least whole MiB, the first over-limit row a reader compares.
    over_b, over_a = partly_over(before), partly_over(after)
    repro = over_b[(over_b["lru"] == "classic") & (over_b["over_pages"] > 0)]
    pick = repro[repro["over_pages"] == repro["over_pages"].min()]
    first = pick.iloc[0]
    args_col = guests[BEFORE]
    args = args_col[args_col["run"] == first["run"]]["args"].iloc[0]
    values = {
        "droppable_mib": f"{first['droppable_mib']:g}", "limit_mib": f"{first['limit_mib']:g}",
        "hog_mib": f"{first['hog_mib']:g}",
        "repro_args": " \\\n      ".join(textwrap.wrap(args, 50, break_on_hyphens=False)),
        "symptom_pages": f"{int(first['pages'])}",
        "symptom_dropped": span(pick["dropped_pages"]),
        "symptom_events": span(pick["failcnt"]), "symptom_scan": span(pick["pgscan_file"]),
        "symptom_steal": span(pick["pgsteal_file"]),
        "guest_kernel": release(first["kernel_release"]),
        "table": table(before, after),
    }
    scan = {name: span(over_b[over_b["lru"] == k]["pgscan_file"]) for k, name in LRUS
            if (over_b["lru"] == k).any()}
    extra = over_a["dropped_pages"] - over_a["over_pages"]     # what the harness adds
    values["scan_note"] = (
        "Before, pgscan_file is " + " or ".join(f"{v} ({k})" for k, v in scan.items())
        + f" in every row over the limit by less than the region, and memory.events "
        f"max rose by "
        f"{span(over_b['failcnt'])}; after, reclaim stops near the overshoot "
        f"(dropped minus overshoot: {span(extra)} pages) and memory.events max rises "
        f"{span(over_a['failcnt'])} times as the hog grows.  droppable_discard equals "
        "the pages read back as zero in every row: "
        + ("yes" if (over_b["droppable_discard"] == over_b["dropped_pages"]).all()
           else "NO, see the data") + ".")
    glob_b, glob_a = global_runs(before_all, before), global_runs(after_all, after)
    lines = []
    for k, name in LRUS:
        b, a = glob_b[glob_b["lru"] == k], glob_a[glob_a["lru"] == k]
        if len(b) and len(a):
            lines.append(f"{name}: before {', '.join(str(int(x)) for x in b['dropped_pages'])}"
                         f" of {int(b['pages'].iloc[0])} dropped; after "
                         f"{', '.join(str(int(x)) for x in a['dropped_pages'])}")
    values["global_note"] = (
        f"Without a reachable cgroup limit ({glob_b['droppable_mib'].iloc[0]:g} MiB "
        f"droppable and a {glob_b['hog_mib'].iloc[0]:g} MiB hog, limit "
        f"{glob_b['limit_mib'].iloc[0]:g} MiB, so global reclaim), one line per sample: "
        + "; ".join(lines) + "." if lines else "Global reclaim: not measured.")
    selftest = []
    for variant, when in ((BEFORE, "before"), (AFTER, "after")):
        diag = guest_wide(guests[variant], "memory_reclaim", "diag")
        for _, row in diag.iterrows():
            err = int(row["errno"])
            selftest.append(f"{when}, {dict(LRUS)[row['lru']]}: {int(row['dropped_pages'])} "
                            f"of {int(row['pages'])} dropped, write "
                            + (f"failed with {errno.errorcode.get(err, err)}" if err
                               else "succeeded"))
            if when == "before":
                values.update(reclaim_asked_mib=f"{row['asked_pages'] * PAGE_BYTES / 2**20:g}",
                              reclaim_dropped=f"{int(row['dropped_pages'])}",
                              reclaim_pages=f"{int(row['pages'])}",
                              reclaim_errno=errno.errorcode.get(err, str(err)),
                              selftest_mib=f"{row['pages'] * PAGE_BYTES / 2**20:g}")
    values["selftest_note"] = "The selftest: " + "; ".join(selftest) + "."
    host = sources.read("host/pressure.csv", ("kind", "touch", "limit_mib", "droppable_mib",
                                              "hog_mib", "pages", "dropped_pages"))
    host_where = ""
    if host is not None:
        h = host[(host["kind"] == "droppable") & (host["touch"] == "cold")].copy()
        h["line"] = h.index + 2
        h["total"] = h["droppable_mib"] + h["hog_mib"]
        # The largest region measured on both sides of its limit.
        both = [k for k, g in h.groupby(["limit_mib", "droppable_mib"])
                if (g["total"] < k[0]).any() and (g["total"] > k[0]).any()]
        key = max(both, key=lambda k: k[1])
        h = h[(h["limit_mib"] == key[0]) & (h["droppable_mib"] == key[1])]
        # The last hog under the limit and the first over it, every sample.
        u = h[h["hog_mib"] == h[h["total"] < h["limit_mib"]]["hog_mib"].max()]
        o = h[h["hog_mib"] == h[h["total"] > h["limit_mib"]]["hog_mib"].min()]
        values["host_kernel"] = release(h["kernel_release"].iloc[0])
        values["host_note"] = (
            f"A {values['host_kernel']} host (memcg v1, limit {key[0]:g} MiB, "
            f"{key[1]:g} MiB droppable): with a {u['hog_mib'].iloc[0]:g} MiB hog, "
            f"{span(u['dropped_pages'])} of {int(u['pages'].iloc[0])} pages dropped; with a "
            f"{o['hog_mib'].iloc[0]:g} MiB hog, {span(o['dropped_pages'])}, pgscan_file "
            f"{span(o['pgscan_file'])}, pgsteal_file {span(o['pgsteal_file'])}, "
            f"memory.failcnt {span(o['failcnt'])}.")
        host_where = (f"host: data/host/pressure.csv lines {span(u['line'])} and "
                      f"{span(o['line'])}")
    else:
        values["host_kernel"] = "(no host data)"
        values["host_note"] = "Host: data/host/pressure.csv absent, not shown."
    check = pressure(guests, CHECK) if CHECK in guests else None
    where = [
        f"guest, before: data/guests/{BEFORE}.csv, sweep runs {runs_of(before)}, "
        f"global runs {runs_of(glob_b)}",
        f"guest, after: data/guests/{AFTER}.csv, sweep runs {runs_of(after)}, "
        f"global runs {runs_of(glob_a)}",
        f"selftest: record diag, exp memory_reclaim of {BEFORE}.csv and {AFTER}.csv",
    ]
    if check is not None:
        c = partly_over(sweep(check))
        where.append(f"cross-check without the counter patch: data/guests/{CHECK}.csv "
                     f"runs {runs_of(c)}: {span(c['dropped_pages'])} of "
                     f"{int(c['pages'].iloc[0])} dropped, pgsteal_file "
                     f"{span(c['pgsteal_file'])}")
    if host_where:
        where.append(host_where)
    values["where"] = "\n".join(textwrap.fill(w, 72, initial_indent="  ",
                                             subsequent_indent="    ") for w in where)
    return rewrap(TEMPLATE.read_text().format(**values))


def rewrap(text: str) -> str:
    """Fill the prose paragraphs to 72 columns; headers, headings, commands,
    tables and the diff stay as they are."""
    blocks = text.split("\n\n")
    out = [blocks[0]]
    for block in blocks[1:]:
        lines = block.split("\n")
        prose = all(line[:1].isalnum() or line[:1] in "(\"" for line in lines)
        out.append(textwrap.fill(" ".join(lines), 72, break_on_hyphens=False,
                                 break_long_words=False) if prose else block)
    return "\n\n".join(out)


def write(study, out: Path = BUG_REPORT) -> Path:
    atomic.write_text(out, build(Sources(study.sources.data_dir)))
    return out
