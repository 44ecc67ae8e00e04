"""How fast memcg reclaim walks its lists, from the kernel's own tracepoints.

The model's reclaim reads a folio's young bit at `now + scanned * s_per_page`:
whether a page read every T ms survives a reclaim that looks at it twice
depends on how long reclaim takes to come back to it.  The one reclaim number
fitted on pressure.csv (scan_ns_per_page) is the hog's whole stall per page
scanned, which holds more than the walk (charging, retries, the page
allocator).  This traces the walk itself: while a harness run goes on, the
vmscan tracepoints of include/trace/events/vmscan.h are on, and every memcg
reclaim call (mm_vmscan_memcg_reclaim_begin .. _end, one task) becomes a row:
its duration, the pages its shrink_inactive_list() batches scanned, what they
did with them (kept with PG_referenced, activated, reclaimed), its lowest
priority, and the time its batches spent between isolating their folios
(mm_vmscan_lru_isolate) and finishing them (mm_vmscan_lru_shrink_inactive).

Tracing is done through tracefs, mounted here if it is not, and everything
touched (the events' enable files, tracing_on, buffer_size_kb, a mount) is put
back on every exit path.  A trace that lost events says so (trace_lost).
"""
from __future__ import annotations

import contextlib
import os
import re
import subprocess
from pathlib import Path

TRACEFS = Path("/sys/kernel/tracing")
EVENTS = ("mm_vmscan_memcg_reclaim_begin", "mm_vmscan_memcg_reclaim_end",
          "mm_vmscan_lru_isolate", "mm_vmscan_lru_shrink_inactive",
          "mm_vmscan_lru_shrink_active")
BUFFER_KB = 32768       # per CPU: a reclaim of 8,192 pages writes ~150 KiB
LINE = re.compile(r"\s*\S.*?-(\d+)\s+\[\d+\]\s+\S+\s+([\d.]+): (\w+): (.*)")
HEADER = re.compile(r"entries-in-buffer/entries-written: (\d+)/(\d+)")


class TraceError(RuntimeError):
    pass


def unavailable(tracefs: Path = TRACEFS) -> str | None:
    """Why this machine cannot trace reclaim, or None."""
    if os.geteuid() != 0:
        return "tracing reclaim needs root"
    if not tracefs.is_dir():
        return f"no {tracefs} (a kernel without tracefs)"
    return None


def _write(path: Path, value: str) -> None:
    path.write_text(value + "\n")


@contextlib.contextmanager
def vmscan_trace(enabled: bool = True, tracefs: Path = TRACEFS):
    """Trace the vmscan events while the block runs.  Yields a dict filled at
    the end with `calls` (rows of reclaim_calls()) and `trace_lost`."""
    result = {"calls": [], "trace_lost": 0}
    if not enabled:
        yield result
        return
    with mounted(tracefs, tracefs / "events" / "vmscan"):
        enables = {e: tracefs / "events" / "vmscan" / e / "enable" for e in EVENTS}
        saved = {p: p.read_text().strip() for p in enables.values()}
        saved_on = (tracefs / "tracing_on").read_text().strip()
        saved_kb = (tracefs / "buffer_size_kb").read_text().split()[0]
        try:
            _write(tracefs / "tracing_on", "0")
            _write(tracefs / "buffer_size_kb", str(BUFFER_KB))
            _write(tracefs / "trace", "")
            for path in enables.values():
                _write(path, "1")
            _write(tracefs / "tracing_on", "1")
            yield result
            _write(tracefs / "tracing_on", "0")
            text = (tracefs / "trace").read_text()
            result["calls"] = reclaim_calls(text)
            result["trace_lost"] = lost_events(text)
        finally:
            _write(tracefs / "tracing_on", "0")
            for path, value in saved.items():
                _write(path, value)
            _write(tracefs / "trace", "")
            _write(tracefs / "buffer_size_kb", saved_kb)
            _write(tracefs / "tracing_on", saved_on)


@contextlib.contextmanager
def mounted(tracefs: Path, needed: Path):
    """tracefs at `tracefs` while the block runs, with `needed` under it:
    mounted for the block if it is not, unmounted after on every way out."""
    if needed.is_dir():
        yield
        return
    done = subprocess.run(["mount", "-t", "tracefs", "nodev", str(tracefs)],
                          capture_output=True, text=True)
    if done.returncode or not needed.is_dir():
        if not done.returncode:
            subprocess.run(["umount", str(tracefs)], capture_output=True)
        raise TraceError(f"no {needed.relative_to(tracefs)} under {tracefs} (tracefs: "
                         f"{done.stderr.strip() or 'mounted, but not there'})")
    try:
        yield
    finally:
        subprocess.run(["umount", str(tracefs)], capture_output=True)


def lost_events(text: str) -> int:
    """Events the ring buffer overwrote (written minus kept), from the header."""
    match = HEADER.search(text)
    return int(match.group(2)) - int(match.group(1)) if match else 0


def _fields(rest: str) -> dict:
    return dict(kv.split("=", 1) for kv in rest.split() if "=" in kv)


def reclaim_calls(text: str) -> list[dict]:
    """One row per complete memcg reclaim call in a trace's text: events of
    a task between its reclaim_begin and reclaim_end.  Times in ns from the
    first event of the trace."""
    open_calls: dict[int, dict] = {}
    isolated: dict[int, float] = {}
    calls, origin = [], None
    for line in text.splitlines():
        match = LINE.match(line)
        if not match:
            continue
        pid, ts, event, rest = int(match.group(1)), float(match.group(2)), *match.group(3, 4)
        origin = ts if origin is None else origin
        if event == "mm_vmscan_memcg_reclaim_begin":
            open_calls[pid] = {"start_ns": round((ts - origin) * 1e9), "t0": ts,
                               "nr_scanned": 0, "nr_ref_keep": 0, "nr_activate_file": 0,
                               "nr_reclaimed": 0, "nr_immediate": 0, "batches": 0,
                               "batch_ns": 0, "nr_deactivated": 0, "min_priority": 12}
            continue
        call = open_calls.get(pid)
        if call is None:
            continue            # kswapd's, or another memcg's reclaim begun before tracing
        f = _fields(rest)
        if event == "mm_vmscan_lru_isolate":
            isolated[pid] = ts
        elif event == "mm_vmscan_lru_shrink_inactive":
            for key in ("nr_scanned", "nr_ref_keep", "nr_activate_file", "nr_reclaimed",
                        "nr_immediate"):
                call[key] += int(f[key])
            call["batches"] += 1
            call["min_priority"] = min(call["min_priority"], int(f["priority"]))
            if pid in isolated:
                call["batch_ns"] += round((ts - isolated.pop(pid)) * 1e9)
        elif event == "mm_vmscan_lru_shrink_active":
            call["nr_deactivated"] += int(f["nr_deactivated"])
        elif event == "mm_vmscan_memcg_reclaim_end":
            call["duration_ns"] = round((ts - call.pop("t0")) * 1e9)
            calls.append(open_calls.pop(pid))
    return calls
