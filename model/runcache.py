"""Finished runs on disk, so that an interrupted sweep resumes where it stopped.

One JSON file per finished run, named by a hash of everything that decides
its numbers: the scenario (every parameter, overrides applied), the design,
the seed, the replication and the model version.  The model version hashes
the model package's source files and the costs the run used, so editing the
model or recalibrating it never serves a stale run.  The sweep's own
machinery (this file, model/sweep.py, model/replicate.py, model/workers.py)
is left out of that hash: it does not change what a run computes, and a
fixed progress bar should not cost an hour of reruns.

Each file is written atomically by the parent process when a run completes,
so Ctrl-C or a killed worker loses nothing that finished and leaves nothing
half-written.  Failed runs are not cached: a resumed sweep tries them again.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from . import atomic

MODEL_DIR = Path(__file__).parent
# Orchestration only: see the module docstring.
NOT_MODEL = {"sweep.py", "replicate.py", "runcache.py", "workers.py", "__main__.py",
             "cliexit.py",
             # What reads results, not what makes them.
             "questions.py", "replicated.py", "datafiles.py", "figures.py", "report.py"}


@lru_cache(maxsize=None)
def _source_hash() -> str:
    h = hashlib.sha256()
    for path in sorted(MODEL_DIR.rglob("*.py")):
        if path.name in NOT_MODEL:
            continue
        h.update(str(path.relative_to(MODEL_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def model_version(costs) -> str:
    """A short hash of the model's sources and of the costs (numbers and sources)."""
    h = hashlib.sha256(_source_hash().encode())
    h.update(repr(costs).encode())
    return h.hexdigest()[:16]


def run_key(scenario, design: str, seed: int, replication: int, version: str) -> str:
    what = {"scenario": scenario.name, "parameters": scenario.as_dict(),
            "overrides": [list(kv) for kv in scenario.overrides], "design": design,
            "seed": int(seed), "replication": int(replication), "model_version": version}
    text = json.dumps(what, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


class RunCache:
    """metrics dicts by run key, one file each under `root`."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        path = self._path(key)
        try:
            record = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, OSError):
            # Not ours or damaged outside an atomic write: run it again.
            return None
        return record.get("metrics") if record.get("key") == key else None

    def put(self, key: str, metrics: dict, about: dict) -> None:
        # json writes floats with repr(): they read back bit-identical.
        record = {"key": key, "about": about, "metrics": metrics}
        atomic.write_text(self._path(key), json.dumps(record, sort_keys=True, default=repr))
