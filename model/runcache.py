"""Finished runs on disk, so that an interrupted sweep resumes where it stopped.

One JSON file per finished run, named by a hash of everything that decides
its numbers: the scenario (every parameter, overrides applied), the design,
the seed, the replication and the model version.  The model version hashes
the simulation core's sources (model/sim/, see model.codehash) and the costs
the run used, so editing the model or recalibrating it never serves a stale
run, while the machinery around it (sweeps, workers, statistics, figures,
the report) can change without costing an hour of reruns.

Each file is written atomically by the parent process when a run completes,
so Ctrl-C or a killed worker loses nothing that finished and leaves nothing
half-written.  Failed runs are not cached: a resumed sweep tries them again.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from . import atomic
from .codehash import sim_hash


def model_version(costs) -> str:
    """A short hash of the simulation core's sources and of the costs (numbers and sources)."""
    h = hashlib.sha256(sim_hash().encode())
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
