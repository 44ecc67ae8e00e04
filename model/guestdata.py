"""data/guests/*.csv as frames: one row per observation there, one row per
harness line here, the run's setup (kernel, LRU, cgroup, swap) beside.

Read by columns present, so that a campaign adding runs or columns needs no
change here (data/guests/README.md describes the files).
"""
from __future__ import annotations

import re

import pandas as pd

from .datafiles import Sources

PAGE_BYTES = 4096


def release(value) -> str:
    """'6.18.44-fc-v669' -> '6.18.44': the kernel, not the build."""
    return re.match(r"[\d.]+", str(value)).group(0).rstrip(".")


def guest_frames(sources: Sources) -> dict:
    """{variant: long frame} for every data/guests/*.csv present."""
    out = {}
    for path in sorted((sources.data_dir / "guests").glob("*.csv")):
        frame = sources.read(f"guests/{path.name}", ("run", "record", "exp", "line",
                                                       "metric", "value"))
        if frame is not None:
            out[path.stem] = frame
    return out


def guest_wide(frame: pd.DataFrame, exp: str, record: str = "sample") -> pd.DataFrame:
    """One row per (run, line) of `exp`, a column per metric, numbers as numbers,
    with the run's setup columns (those present) beside."""
    rows = frame[(frame["exp"] == exp) & (frame["record"] == record)]
    if rows.empty:
        return pd.DataFrame()
    wide = rows.pivot_table(index=["run", "line"], columns="metric", values="value",
                            aggfunc="first").reset_index()
    for c in wide.columns:
        numeric = pd.to_numeric(wide[c], errors="coerce")
        if numeric.notna().all():
            wide[c] = numeric
    setup = [c for c in ("run", "kernel_release", "lru", "cgroup", "swap_kib", "where")
             if c in frame.columns]
    return wide.merge(rows[setup].drop_duplicates("run"), on="run", how="left")


def pressure(guests: dict, variant: str) -> pd.DataFrame:
    """The cold droppable pressure samples of a guest kernel, with `over`:
    the pages by which region plus hog exceed the limit (negative: under it,
    where only global reclaim can reach the region)."""
    wide = guest_wide(guests[variant], "pressure")
    wide = wide[(wide["kind"] == "droppable") & (wide["touch"] == "cold")].copy()
    wide["over_pages"] = (wide["droppable_mib"] + wide["hog_mib"] - wide["limit_mib"]) \
        * (2**20 // PAGE_BYTES)
    return wide


def sweep(rows: pd.DataFrame) -> pd.DataFrame:
    """The memcg sweep: the (limit, region) of most runs, hog varied."""
    key = rows.groupby(["limit_mib", "droppable_mib"])["run"].nunique().idxmax()
    return rows[(rows["limit_mib"] == key[0]) & (rows["droppable_mib"] == key[1])]


def global_runs(rows: pd.DataFrame, memcg: pd.DataFrame) -> pd.DataFrame:
    """Runs whose cgroup limit, above the sweep's, region plus hog never reach:
    whatever reclaim they see is global."""
    return rows[(rows["limit_mib"] > memcg["limit_mib"].max())
                & (rows["over_pages"] < 0)]


def partly_over(rows: pd.DataFrame) -> pd.DataFrame:
    """Runs at or over the limit by less than the region: reclaim needs only
    part of it."""
    return rows[(rows["over_pages"] >= 0) & (rows["over_pages"] < rows["pages"])]
