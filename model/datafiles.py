"""Read data/ for the figures and the report, and remember what was read.

Every figure and table says which data files it came from and their sha256,
so a number pasted on the list can be traced back to the run that made it.
A file that is absent is not an error here: the figure or table that needs
it says so in place of its numbers.  A file that is present but malformed
is an error, in one line that names the file and the problem.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from measure.provenance import git_commit

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"

# What the harness writes on every row (measure/provenance.py).
PROVENANCE_COLUMNS = ("where", "kernel_release", "variant", "cpu_model", "glibc",
                      "date_utc", "git_commit", "command")


def rel_path(path: Path) -> str:
    """A path as the repository names it, for messages and sources."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


class DataError(ValueError):
    """A data file that exists but cannot be used; str() is one line."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def model_commit() -> str:
    """HEAD, -dirty when tracked code differs; figures/ and data/ do not count.

    The figures are what is being written (the first one drawn would mark
    the rest dirty), and the data files are named with their sha256 beside
    the commit.
    """
    return git_commit(REPO, outputs=("data", "figures"), short=12)


@dataclass
class Sources:
    """The data files one figure or the report used, and the ones it missed."""
    data_dir: Path = DATA
    used: dict = field(default_factory=dict)      # path relative to repo -> sha256
    missing: list = field(default_factory=list)   # paths relative to repo
    # Each file parsed once: several sentences of one reply read the same file.
    frames: dict = field(default_factory=dict, repr=False)    # path -> frame

    def read(self, name: str, required: tuple = ()) -> pd.DataFrame | None:
        """data/<name> as a frame of the caller's own, or None (and noted as
        missing) if absent."""
        path = self.data_dir / name
        if not path.exists():
            if rel_path(path) not in self.missing:
                self.missing.append(rel_path(path))
            return None
        if path not in self.frames:
            try:
                self.frames[path] = pd.read_csv(path)
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
                raise DataError(f"{rel_path(path)}: cannot parse: "
                                f"{str(e).splitlines()[0]}") from None
        frame = self.frames[path]
        for column in required:
            if column not in frame.columns:
                raise DataError(f"{rel_path(path)}: missing column '{column}'")
        if frame.empty:
            raise DataError(f"{rel_path(path)}: no rows")
        if rel_path(path) not in self.used:
            self.used[rel_path(path)] = sha256(path)
        return frame.copy()

    def merge(self, other: "Sources") -> "Sources":
        self.used.update(other.used)
        self.missing += [m for m in other.missing if m not in self.missing]
        return self


def absent_note(path: str) -> str:
    return f"{path} is absent: no measured numbers shown (run the step that writes it)"
