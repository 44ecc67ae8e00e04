"""Where a number came from: the columns every CSV row in data/ carries,
and the CSV writer that puts them there (atomically, through model.atomic)."""
from __future__ import annotations

import csv
import datetime
import gzip
import io
import os
import platform
import re
import subprocess
from pathlib import Path

from model import atomic

REPO = Path(__file__).resolve().parent.parent

# Leading columns of every data/ CSV, in this order.
COLUMNS = ("where", "kernel_release", "variant", "cpu_model", "glibc", "date_utc",
           "git_commit", "command")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def glibc_version() -> str:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") or "unknown"
    except (ValueError, OSError):
        return "unknown"


def git_commit(repo: Path = REPO, outputs: tuple = ("data",), short: int = 40) -> str:
    """HEAD, with -dirty when tracked files outside `outputs` differ from it.

    What is being written must not count: a calibration rewrites data/ as
    it goes (selfcheck.csv first), and those are its outputs, not the code
    that made them.
    """
    excludes = [f":(exclude){o}" for o in outputs]
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", f"--short={short}", "HEAD"],
                              check=True, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain",
                                "--untracked-files=no", "--", ".", *excludes],
                               check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def provenance(where: str = "host", variant: str = "none", kernel_release: str | None = None,
               command: str = "") -> dict:
    """The provenance columns for rows measured now, on this machine or a guest."""
    return {
        "where": where,
        "kernel_release": kernel_release or platform.release(),
        "variant": variant,
        "cpu_model": cpu_model(),
        "glibc": glibc_version(),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": git_commit(),
        "command": command,
    }


def memory_setup(root: Path = Path("/")) -> dict:
    """What a memory measurement's scope hangs on and `uname -r` does not
    say, as the guests' init records it (kernel-patches/guest/init): the
    LRU kind (MGLRU only where /sys/kernel/mm/lru_gen/enabled is set, as
    CONFIG_LRU_GEN can be built in and off), the memory cgroup's version,
    and the machine's swap (the harness keeps its own memcg from swapping
    either way)."""
    def read(path: str) -> str:
        try:
            return (root / path).read_text()
        except OSError:
            return ""
    lru = read("sys/kernel/mm/lru_gen/enabled").strip()
    if "memory" in read("sys/fs/cgroup/cgroup.controllers").split():
        cgroup = "v2"
    elif (root / "sys/fs/cgroup/memory/memory.limit_in_bytes").exists():
        cgroup = "v1"
    else:
        cgroup = "none"
    swap = re.search(r"^SwapTotal:\s+(\d+)", read("proc/meminfo"), re.M)
    return {"lru": "classic" if lru in ("", "0x0000") else "mglru", "cgroup": cgroup,
            "swap_kib": int(swap.group(1)) if swap else ""}


def write_csv_atomic(path: Path, rows: list[dict], columns: list[str] | None = None) -> None:
    """Write rows to path through a temporary file in the same directory.

    Columns: the provenance columns, then every other key in order of
    first appearance (or `columns` when given).  A missing value is empty.
    """
    if not rows:
        raise ValueError(f"{path}: no rows to write")
    for row in rows:
        lacking = [c for c in COLUMNS if c not in row]
        if lacking:
            raise ValueError(f"{path}: row lacks provenance column {lacking[0]!r}")
    if columns is None:
        columns = list(COLUMNS)
        for row in rows:
            columns += [k for k in row if k not in columns]
    with atomic.replacing(path, "wb") as raw, _csv_text(raw, path) as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})


# A table's side rows (measure.host): a states run's reader moves are tens
# of thousands of rows a run, so they are kept gzip-compressed; GitHub
# refuses a file over 100 MB, and states_moves.csv reached 94 MB as CSV.
SIDE_SUFFIX = {"moves": ".csv.gz", "reclaim": ".csv"}


def side_file(table: Path, side: str) -> Path:
    """Where the side rows of a data/ table are kept: states.csv's moves in
    states_moves.csv.gz."""
    return table.with_name(f"{table.name.removesuffix('.csv')}_{side}{SIDE_SUFFIX[side]}")


def _csv_text(raw, path: Path):
    """A text stream for CSV over the binary file `raw`: gzip where the
    name ends in .gz, with no time stamp or name in its header, so that the
    same rows give the same bytes."""
    if path.suffix == ".gz":
        raw = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
    return io.TextIOWrapper(raw, encoding="utf-8", newline="")


def open_csv(path: Path):
    """A data/ CSV open for csv.reader, gzip-compressed or not (its name)."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return path.open(newline="", encoding="utf-8")
