"""Parse what kernel-patches/harness/vgetrandom-harness prints.

The harness writes one line per observation (see the comment at the top of
vgetrandom-harness.c):

    sample exp=callcost mode=vdso size_bytes=4 threads=1 ... ns_per_call=21.40
    skip exp=fault kind=map_locked reason=EPERM
    # commentary

plus TAP lines from its self-check.  Anything else is an error: a line
we cannot read is a line whose number we would silently lose.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

KEY_RE = re.compile(r"[a-z_][a-z0-9_]*\Z")
TAP_RE = re.compile(r"(not )?ok (\d+)(?: (.*?))?(?: # SKIP (.*))?\Z")

# Keys every sample of an experiment must carry; more are allowed.
REQUIRED = {
    "callcost": ("mode", "size_bytes", "threads", "thread", "sample", "calls", "ns_per_call"),
    "reseed": ("state", "size_bytes", "sample", "rounds", "ns_per_call"),
    "idlecall": ("mode", "gap_ms", "size_bytes", "spin", "sample", "ns_per_call", "rng_moved",
                 "companion", "companion_calls", "read_first", "abs_sleep", "thread",
                 "repeat"),
    "fault": ("kind", "pages", "sample", "ns_per_page"),
    "pressure": ("kind", "touch", "limit_mib", "droppable_mib", "hog_mib", "sample", "pages",
                 "dropped_pages", "drop_fraction", "hog_fill_ns", "holder", "hog", "outcome",
                 "failcnt", "memcg_oom_kills", "psi_some_us", "psi_full_us", "psi_scope"),
    "oomtouch": ("hogs", "victims", "no_kill_by", "hog_mib", "pages", "sample", "outcome",
                 "touched_pages", "lost_writes", "elapsed_ns", "watchdog_s", "toucher",
                 "hogs_oom_killed", "memcg_oom_kills", "failcnt"),
    "fork": ("check",),
    "memlock": ("limit_bytes", "state_bytes", "states_per_page", "pages_locked", "states_locked",
                "mlock_errno_past_limit"),
    "states": ("sample", "class", "rate_hz", "threads", "class_pages", "class_pages_shared",
               "calls", "calls_zeroed", "calls_zeroed_absent", "key_lives", "key_lives_dropped",
               "p_drop_key_life", "warm_call_ns_p50", "zeroed_call_ns_p50", "pattern", "layout",
               "per_page", "pages", "run_s", "key_life_s", "pressure", "scope", "limit_mib",
               "churn_bytes_per_s", "hog_mib", "spike_mib", "usage_at_limit_frac", "failcnt",
               "memcg_oom_kills", "caller", "reader", "hog", "outcome", "pgscan_file",
               "pgsteal_file", "pgactivate"),
    "statemem": ("kind", "pages", "vmlck_kib", "mlocked_kib", "unevictable_kib",
                 "child_kept_pages", "child_vmlck_kib", "limit_bytes", "pages_under_limit",
                 "errno_past_limit"),
}


class HarnessOutputError(ValueError):
    """A line the harness should never have printed."""


@dataclass
class Record:
    """One `sample` or `skip` line: its experiment and its key=value pairs."""
    kind: str                       # "sample" or "skip"
    exp: str
    fields: dict = field(default_factory=dict)


@dataclass
class TapResult:
    number: int
    ok: bool
    description: str
    skip: str | None


def _value(text: str):
    """'12' -> 12, '21.40' -> 21.4, 'na' -> None, anything else stays text."""
    if text == "na":
        return None
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def parse_line(line: str, where: str = "line"):
    """A Record, a TapResult, or None for commentary; HarnessOutputError otherwise."""
    line = line.rstrip("\n")
    if not line.strip() or line.startswith("#") or line.startswith("TAP version ") \
            or re.fullmatch(r"1\.\.\d+", line):
        return None
    tap = TAP_RE.match(line)
    if tap:
        return TapResult(int(tap.group(2)), tap.group(1) is None, tap.group(3) or "", tap.group(4))
    kind, _, rest = line.partition(" ")
    if kind not in ("sample", "skip"):
        raise HarnessOutputError(f"{where}: not a harness line: {line[:80]!r}")
    fields = {}
    for token in rest.split():
        key, eq, value = token.partition("=")
        if not eq or not KEY_RE.match(key) or not value:
            raise HarnessOutputError(f"{where}: bad field {token!r} in: {line[:80]!r}")
        if key in fields:
            raise HarnessOutputError(f"{where}: field {key!r} given twice")
        fields[key] = _value(value)
    exp = fields.pop("exp", None)
    if exp not in REQUIRED:
        raise HarnessOutputError(f"{where}: unknown or missing exp={exp!r}")
    if kind == "skip":
        if "reason" not in fields:
            raise HarnessOutputError(f"{where}: skip line without reason=")
    else:
        missing = [k for k in REQUIRED[exp] if k not in fields]
        if missing:
            raise HarnessOutputError(f"{where}: exp={exp} sample lacks {', '.join(missing)}")
    return Record(kind, exp, fields)


READER_MOVE = re.compile(r"# reader t_s=(-?[0-9.]+) cpu=(-?[0-9]+)")


def reader_moves(text: str) -> list[dict]:
    """The states experiment's commentary on its churn reader: every change
    of the CPU it reads on, {t_s (since the window's start), cpu}."""
    return [{"t_s": float(m.group(1)), "cpu": int(m.group(2))}
            for m in map(READER_MOVE.fullmatch, text.splitlines()) if m]


def parse(text: str, source: str = "harness") -> tuple[list[Record], list[TapResult]]:
    """All records and TAP results of one run's stdout."""
    records, taps = [], []
    for number, line in enumerate(text.splitlines(), 1):
        parsed = parse_line(line, f"{source}:{number}")
        if isinstance(parsed, Record):
            records.append(parsed)
        elif isinstance(parsed, TapResult):
            taps.append(parsed)
    return records, taps
