"""Scenarios: TOML files checked against model.params, with dotted overrides.

Every error is one line naming the key and the value, because the person
reading it is usually looking at a sweep log of hundreds of runs.
"""
from __future__ import annotations

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
        return replace(self, **changed,
                       overrides=self.overrides + tuple(sorted(overrides.items())))

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


def load(name_or_path: str | Path, overrides: dict | None = None) -> Scenario:
    """Load a scenario by path, or by name from model/scenarios/."""
    path = Path(name_or_path)
    if not path.suffix:
        path = SCENARIO_DIR / f"{name_or_path}.toml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))
        raise ScenarioError(f"{name_or_path}: no such scenario (known: {known})")
    raw = read_toml(path)
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
    return Scenario(name=str(head.get("name", default_name)),
                    description=str(head.get("description", "")), **built)


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
    if value != value or value in (float("inf"), float("-inf")):
        raise ScenarioError(f"{bad}: expected a finite number")
    if value < f.metadata["minimum"]:
        what = "negative" if value < 0 else "too small"
        raise ScenarioError(f"{bad}: {what} (minimum {f.metadata['minimum']})")
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
        if value < 0 or weight <= 0:
            raise ScenarioError(f"{bad}: values must be >= 0 and weights > 0")
        pairs.append((value, float(weight)))
    return tuple(pairs)
