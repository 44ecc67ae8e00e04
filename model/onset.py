"""The onset check: how often page-cache churn takes an idle state page at
all, from two numbers each run measured and no model.

A droppable folio is never swap-backed, so it lives on the file LRU
(folio_add_new_anon_rmap(), mm/rmap.c).  Under churn at a memcg's limit
that LRU is one long inactive list (the runs' inactive_file_mean_kib is
0.90-0.98 of the limit, the active list 12 MiB at most), eaten from its tail at
the churn rate.  When reclaim first reaches a state page it finds it young
(its fault, or any call since, set the accessed bit) and keeps it with
PG_referenced; the page comes round to the tail again T later, T the
inactive list over the churn rate, and is activated if a call fell in
between, else dropped (folio_check_references(), mm/vmscan.c).  Once
active it stayed in these runs: the active list never outgrew the
inactive (inactive_is_low()), and a run that lost the page found it
zeroed first within 10 s of the window's start, its loss in the settle
as the pressure began, in all but one (data/host/README.md,
states_tlbflush.csv).  Under the Poisson pattern, with callers of
summed rate R, a run loses the page at all with probability

    exp(-R T)

once per onset (a dropped page comes back and goes round again, but what
a run finds zeroed is mostly the first loss).

The onset falls in the settle, before the counted window: the harness
starts the reader S before the window (--settle-s), the memcg fills from
the caller's usage to its limit in F = (limit - caller usage) / churn
rate, and the page goes T later.  A run shows the loss only if one of
the page's n threads, calling at r each, makes no call in the gap
G = S - F - T left before the window (the first call after the loss
faults the page back, and each thread reseeds at its next):

    seen = 1 - (1 - exp(-r G))^n

About 1 for a 0.05 Hz page (G is about 9 s), under 0.005 for a 1 Hz
one: its 28 threads reseed before the window opens, so the onset loss
of a 1 Hz page is out of sight of the harness and of the model alike
(both count calls in the window alone).  The model plays this out
folio by folio; the formula is its skeleton, checked here against the
kernel's runs directly: per test and arm, runs that lost the page against
the sum of their seen exp(-R T), and the factor on R that fits them best (1:
reclaim sees every call; less: some calls leave no accessed bit).

Scope: the runs' own (6.18, classic LRU, memcg v1, no swap, a 2-vCPU VM).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .calibration import ARM_DEFAULTS, DATA_DIR, arm_of, read_table, vdso_runs

ONSET_COLUMNS = ("where", "regime", "run", "pattern", "classes", "layout", "per_page",
                 "states_per_page", "class_pages", "rate_hz", "threads", "calls_zeroed",
                 "hog_mib", "spike_mib", "churn_bytes_per_s", "inactive_file_mean_kib",
                 "settle_s", "limit_bytes", "caller_usage_bytes")
# Pages whose onset loss the formula puts below this, seen, are left out:
# a page the formula says is never lost, or never seen lost, says nothing
# about the factor.
MIN_P = 1e-3
FACTORS = np.linspace(0.05, 2.0, 391)


def onset_pages(frame: pd.DataFrame) -> pd.DataFrame:
    """A class's page per run, where the formula applies: Poisson callers
    of one full page of their own, page-cache churn alone (no hog, no
    spikes), the scheduler placing everyone and no burner or hopping
    reader (a flushed TLB is what the formula assumes: either arm); with
    R, T, p = exp(-R T), the chance `seen` that the window shows an onset
    loss, and whether the run lost it (a zeroed call in the window)."""
    keep = ((frame["pattern"] == "poisson") & (frame["layout"] == "grouped")
            & (frame["per_page"] == frame["states_per_page"]) & (frame["class_pages"] == 1)
            & (frame["hog_mib"] == 0) & (frame["spike_mib"] == 0)
            & (frame["churn_bytes_per_s"] > 0) & (frame["inactive_file_mean_kib"] > 0))
    for column, default in ARM_DEFAULTS.items():
        if column != "tlb_flush_ms":
            keep &= arm_of(frame, column) == default
    pages = frame.loc[keep, list(ONSET_COLUMNS)]
    rate = pages["rate_hz"] * pages["threads"]
    t = pages["inactive_file_mean_kib"] * 1024 / pages["churn_bytes_per_s"]
    fill = (pages["limit_bytes"] - pages["caller_usage_bytes"]) / pages["churn_bytes_per_s"]
    gap = (pages["settle_s"] - fill - t).clip(lower=0.0)
    seen = 1.0 - (-np.expm1(-pages["rate_hz"] * gap)) ** pages["threads"]
    p = np.exp(-rate * t)
    pages = pages.assign(tlb_flush_ms=arm_of(frame, "tlb_flush_ms")[keep], r_hz=rate, t_s=t,
                         gap_s=gap, seen=seen, p=p * seen,
                         lost=(pages["calls_zeroed"] > 0).astype(int))
    return pages[pages["p"] >= MIN_P]


def read_onset_pages(files, data_dir: Path = DATA_DIR) -> pd.DataFrame:
    """onset_pages() of each of `files` (under data_dir/host) there is,
    with a `file` column."""
    frames = []
    for name in files:
        path = data_dir / "host" / name
        if path.exists():
            frames.append(onset_pages(vdso_runs(read_table(path, ONSET_COLUMNS)))
                          .assign(file=name))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def tail_at_least(p: np.ndarray, k: int) -> float:
    """P(at least k of independent Bernoulli(p) events): the Poisson-binomial tail."""
    pmf = np.array([1.0])
    for q in p:
        pmf = np.convolve(pmf, [1.0 - q, q])
    return float(pmf[k:].sum())


def factor_fit(pages: pd.DataFrame) -> tuple[float, float, float]:
    """The factor f on R that best explains which pages were lost, P(lost)
    = seen exp(-f R T), by maximum likelihood; (f, low, high), the 95%
    interval from the likelihood ratio (chi-square, one degree of freedom)."""
    x = (pages["r_hz"] * pages["t_s"]).to_numpy()
    seen = pages["seen"].to_numpy() if "seen" in pages else np.ones(len(x))
    lost = pages["lost"].to_numpy().astype(bool)
    p = seen * np.exp(-np.outer(FACTORS, x))
    ll = np.where(lost, np.log(p), np.log1p(-p)).sum(axis=1)
    best = int(ll.argmax())
    inside = FACTORS[ll >= ll[best] - 1.92]
    return float(FACTORS[best]), float(inside.min()), float(inside.max())


def summary(pages: pd.DataFrame) -> dict:
    """Pages lost against the formula's expectation, its upper tail, the factor."""
    lost = int(pages["lost"].sum())
    f, low, high = factor_fit(pages)
    return {"pages": len(pages), "lost": lost, "expected": float(pages["p"].sum()),
            "p_at_least": tail_at_least(pages["p"].to_numpy(), lost),
            "factor": f, "factor_low": low, "factor_high": high}


def _line(what: str, s: dict) -> str:
    return (f"  {what}: lost {s['lost']} of {s['pages']} ({s['lost'] / s['pages']:.2f}), "
            f"seen exp(-R T) {s['expected']:.1f} ({s['expected'] / s['pages']:.2f}), "
            f"P(>= {s['lost']}) {s['p_at_least']:.3f}; factor on R {s['factor']:.2f} "
            f"({s['factor_low']:.2f}-{s['factor_high']:.2f})")


def onset_note(files, data_dir: Path = DATA_DIR) -> list[str]:
    """validate's lines: each test's arms, pooled, then whether a flushed
    TLB changed the share of a run's pages lost (the unit: the run)."""
    pages = read_onset_pages(files, data_dir)
    if pages.empty:
        return []
    lines = ["Onset check, no model: an idle Poisson page is lost at all with P = exp(-R T), "
             "R its callers' rate, T the inactive file list over the churn rate (each run's own), "
             "and the loss is seen in the counted window with P = seen (its threads' first "
             "calls after it fall past the settle):"]
    for (name, regime, ms, rate), g in pages.groupby(["file", "regime", "tlb_flush_ms",
                                                      "rate_hz"]):
        flushed = f" TLB flushed every {ms:g} ms" if ms else ""
        lines.append(_line(f"{name} {regime}{flushed} {rate:g} Hz ({g['run'].nunique()} runs, "
                           f"T {g['t_s'].median():.2f} s)", summary(g)))
    lines.append(_line("pooled", summary(pages)))
    flushed = pages["tlb_flush_ms"] > 0
    if flushed.any() and not flushed.all():
        # Across tests and sittings, so not the controlled comparison the
        # TLB-flush test's own arms (below) are: a hint of which way.
        lines.append(_line("pooled, TLB never flushed", summary(pages[~flushed])))
        lines.append(_line("pooled, TLB flushed", summary(pages[flushed])))
    for name, g in pages.groupby("file"):
        arms = [a.groupby("run")["lost"].mean() for _, a in g.groupby("tlb_flush_ms")]
        if len(arms) == 2:
            p = stats.mannwhitneyu(*arms).pvalue
            lines.append(f"  {name}: a run's share of its pages lost, {arms[0].mean():.2f} "
                         f"without the TLB flush, {arms[1].mean():.2f} with it "
                         f"(Mann-Whitney p {p:.3f}, {len(arms[0])} and {len(arms[1])} runs)")
    return lines


if __name__ == "__main__":
    # `python -m model.onset`: the check alone, in seconds, from the
    # committed runs (a full `validate` prints the same lines at its end).
    from .validate import STATES_FILES
    print("\n".join(onset_note(STATES_FILES)))
