"""Scenarios: TOML files checked against model.params, with dotted overrides.

Every error is one line naming the key and the value, because the person
reading it is usually looking at a sweep log of hundreds of runs.  Besides
each parameter's own bounds (model.params), a scenario is refused when a run
of it would not fit in memory (footprint()), before any of it runs.
"""
from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from . import params

SCENARIO_DIR = Path(__file__).parent / "scenarios"

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB)?\s*$")
_SIZE_SHIFT = {None: 0, "B": 0, "KiB": 10, "MiB": 20, "GiB": 30, "TiB": 40}


class ScenarioError(ValueError):
    """A scenario that cannot be run; str() is the one-line message."""


# What the simulator holds in its own memory per simulated unit (CPython
# 3.11 on x86_64, rounded up), measured by bench/memory_bench.py, and what
# one run may take in all: a sweep runs one per CPU.
SIM_BYTES = {"thread": 400, "region page": 320, "probe": 3200}
SIM_BASE_BYTES = 160 << 20          # the interpreter, numpy, pandas, SimPy
SIM_BUDGET_BYTES = 4 << 30
# The parameters one unit of which is one simulated unit of SIM_BYTES, so
# that a bound they break can say what they would have cost.
_UNIT_OF = {"workload.threads_per_process": "thread", "workload.child_threads": "thread"}


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    run: params.Run
    machine: params.Machine
    memcg: params.Memcg
    workload: params.Workload
    pressure: params.Pressure
    state: params.State
    # Dotted keys set by the caller rather than the file, e.g. a sweep's grid.
    overrides: tuple = ()

    def value(self, dotted: str):
        section, key = _split(dotted)
        return getattr(getattr(self, section), key)

    def with_overrides(self, overrides: dict) -> "Scenario":
        """A copy with dotted keys replaced, checked as strictly as the file."""
        sections = {s: {} for s in params.SECTIONS}
        for dotted, raw in overrides.items():
            section, key = _split(dotted)
            sections[section][key] = raw
        changed = {s: _build(s, {**_asdict(getattr(self, s)), **kv}, self.name)
                   for s, kv in sections.items() if kv}
        return _check(replace(self, **changed,
                              overrides=self.overrides + tuple(sorted(overrides.items()))),
                      self.name)

    def as_dict(self) -> dict:
        return {s: _asdict(getattr(self, s)) for s in params.SECTIONS}


def read_toml(path: Path, error: type = ScenarioError, missing: str = "no such file") -> dict:
    """A TOML file's tables; a missing or malformed file is one line of `error`."""
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except tomllib.TOMLDecodeError as e:
        raise error(f"{path}: not valid TOML: {e}") from None
    except OSError as e:
        raise error(f"{path}: cannot read: {e.strerror}") from None


def load(name_or_path: str | Path, overrides: dict | None = None) -> Scenario:
    """Load a scenario by path, or by name from model/scenarios/."""
    path = Path(name_or_path)
    if not path.suffix:
        path = SCENARIO_DIR / f"{name_or_path}.toml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))
        raise ScenarioError(f"{name_or_path}: no such scenario (known: {known})")
    raw = read_toml(path)
    if not raw:
        raise ScenarioError(f"{path}: empty scenario file (give at least one section, "
                            f"e.g. [workload]; model/scenarios/ has examples)")
    scenario = from_dict(raw, default_name=path.stem, where=str(path))
    return scenario.with_overrides(overrides) if overrides else scenario


def from_dict(raw: dict, default_name: str = "scenario", where: str = "scenario") -> Scenario:
    raw = dict(raw)
    head = raw.pop("scenario", {})
    if not isinstance(head, dict):
        raise ScenarioError(f"{where}: [scenario] must be a table")
    unknown = set(head) - {"name", "description"}
    if unknown:
        raise ScenarioError(f"{where}: unknown key 'scenario.{sorted(unknown)[0]}'")
    for section, body in raw.items():
        if section not in params.SECTIONS:
            raise ScenarioError(f"{where}: unknown section [{section}] "
                                f"(known: {', '.join(params.SECTIONS)})")
        if not isinstance(body, dict):
            raise ScenarioError(f"{where}: [{section}] must be a table, got {body!r}")
    built = {s: _build(s, raw.get(s, {}), where) for s in params.SECTIONS}
    return _check(Scenario(name=str(head.get("name", default_name)),
                           description=str(head.get("description", "")), **built), where)


def footprint(sc: Scenario) -> dict[str, tuple[str, float]]:
    """What a run of `sc` holds in memory: unit of SIM_BYTES -> (what sets it, how many).

    Fork children live child_lifetime_s (0: to the end of the run), so
    fork_per_s x that life of them are alive at once in every process.
    """
    wl, run = sc.workload, sc.run
    child_life_s = min(wl.child_lifetime_s or run.duration_s, run.duration_s)
    children = wl.processes * wl.fork_per_s * child_life_s
    return {
        "thread": ("workload.processes x workload.threads_per_process (+ fork children)",
                   wl.processes * wl.threads_per_process + children * wl.child_threads),
        "region page": ("workload.region_bytes", wl.region_bytes // sc.state.page_bytes),
        "probe": ("run.duration_s / run.probe_interval_s",
                  run.duration_s / run.probe_interval_s),
    }


def _check(sc: Scenario, where: str) -> Scenario:
    """What no single parameter's bounds can see: how they combine."""
    if sc.state.state_bytes > sc.state.page_bytes:
        raise ScenarioError(f"{where}: state.state_bytes = {sc.state.state_bytes}: larger than "
                            f"state.page_bytes = {sc.state.page_bytes}")
    if sc.pressure.profile == "proactive":
        if not sc.memcg.limit_bytes:
            raise ScenarioError(f"{where}: pressure.profile = 'proactive' writes to a memcg's "
                                f"memory.reclaim: set memcg.limit_bytes")
        hog = [k for k in ("anon_base_bytes", "anon_peak_bytes", "leak_bytes_per_s")
               if getattr(sc.pressure, k)]
        if hog:
            raise ScenarioError(f"{where}: pressure.{hog[0]} = {getattr(sc.pressure, hog[0])}: "
                                f"pressure.profile = 'proactive' runs no hog")
    units = footprint(sc)
    what, threads = units["thread"]
    tasks, why = params.TASKS
    if threads > tasks:
        raise ScenarioError(f"{where}: {what} = {threads:,.0f} threads: more than a machine "
                            f"can run ({tasks:,}, {why})")
    cost = {unit: n * SIM_BYTES[unit] for unit, (_, n) in units.items()}
    total = SIM_BASE_BYTES + sum(cost.values())
    if total > SIM_BUDGET_BYTES:
        unit = max(cost, key=cost.get)
        what, n = units[unit]
        raise ScenarioError(
            f"{where}: {what} = {n:,.0f} {unit}s: simulating them would take about "
            f"{_bytes_text(total)} of memory, more than the {_bytes_text(SIM_BUDGET_BYTES)} "
            f"a run may take (about {SIM_BYTES[unit]} B per {unit})")
    return sc


def _bytes_text(n: float) -> str:
    for shift, unit in ((50, "PiB"), (40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.3g} {unit}"
    return f"{n:.0f} B"


def _split(dotted: str) -> tuple[str, str]:
    section, _, key = dotted.partition(".")
    cls = params.SECTIONS.get(section)
    if cls is None or key not in {f.name for f in fields(cls)}:
        raise ScenarioError(f"unknown parameter '{dotted}'")
    return section, key


def _asdict(obj) -> dict:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def _build(section: str, body: dict, where: str):
    cls = params.SECTIONS[section]
    known = {f.name: f for f in fields(cls)}
    values = {}
    for key, raw in body.items():
        if key not in known:
            raise ScenarioError(f"{where}: unknown key '{section}.{key}'")
        values[key] = _coerce(f"{section}.{key}", raw, known[key])
    return cls(**values)


def _coerce(name: str, raw, f):
    """Check one value against its field's default type, bounds and choices."""
    default = f.default
    bad = f"{name} = {raw!r}"
    if isinstance(default, bool):
        if not isinstance(raw, bool):
            raise ScenarioError(f"{bad}: expected true or false")
        return raw
    if isinstance(default, tuple):
        return _coerce_pairs(name, raw)
    if isinstance(default, str):
        if not isinstance(raw, str):
            raise ScenarioError(f"{bad}: expected a string")
        if f.metadata["choices"] and raw not in f.metadata["choices"]:
            raise ScenarioError(f"{bad}: expected one of {', '.join(f.metadata['choices'])}")
        return raw
    if isinstance(raw, str) and "_bytes" in name:
        value = _parse_size(name, raw)
    elif isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ScenarioError(f"{bad}: expected a number")
    else:
        value = raw
    if isinstance(default, int) and not isinstance(default, bool):
        if float(value) != int(value):
            raise ScenarioError(f"{bad}: expected a whole number")
        value = int(value)
    else:
        value = float(value)
    if not math.isfinite(value):
        raise ScenarioError(f"{bad}: expected a finite number")
    if value < f.metadata["minimum"]:
        what = "negative" if value < 0 else "too small"
        raise ScenarioError(f"{bad}: {what} (minimum {f.metadata['minimum']})")
    maximum = f.metadata["maximum"]
    if maximum is not None and value > maximum[0]:
        limit, why = maximum
        cost = ""
        if name in _UNIT_OF:
            unit = _UNIT_OF[name]
            cost = (f"; {value:,} {unit}s would take about "
                    f"{_bytes_text(value * SIM_BYTES[unit])} of memory to simulate")
        raise ScenarioError(f"{bad}: too large (maximum {limit:,}: {why}){cost}")
    return value


def _parse_size(name: str, raw: str) -> int:
    m = _SIZE.match(raw)
    if not m:
        raise ScenarioError(f"{name} = {raw!r}: expected bytes, e.g. 4096 or \"64 MiB\"")
    return int(float(m.group(1)) * (1 << _SIZE_SHIFT[m.group(2)]))


def _coerce_pairs(name: str, raw) -> tuple:
    """A distribution written as [[value, weight], ...]; weights need not sum to 1."""
    bad = f"{name} = {raw!r}"
    if not isinstance(raw, (list, tuple)) or not raw:
        raise ScenarioError(f"{bad}: expected a non-empty list of [value, weight] pairs")
    pairs = []
    for pair in raw:
        if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                or any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in pair)):
            raise ScenarioError(f"{bad}: expected [value, weight] pairs of numbers")
        value, weight = pair
        if not (math.isfinite(value) and math.isfinite(weight)):
            raise ScenarioError(f"{bad}: values and weights must be finite")
        if value < 0 or weight <= 0:
            raise ScenarioError(f"{bad}: values must be >= 0 and weights > 0")
        pairs.append((value, float(weight)))
    return tuple(pairs)
