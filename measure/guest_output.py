"""Parse a study guest's serial console (kernel-patches/guest/init).

The guest prints

    === study-guest begin release=6.12.117 crng_ready=1 cpu_model=QEMU_TCG_CPU
    === study-run begin n=1 args=statemem --pages 256
    sample exp=statemem kind=anon ...          (harness lines)
    === study-run end n=1 rc=0
    ...
    === study-guest end runs=N

and between the markers anything the kernel writes to the console (an
OOM report, a warning).  Harness lines are parsed by measure.harness_output
and a malformed one is an error; other lines are kept as console text.
A run without its end marker (the guest died or hung) is returned with
rc None, and the output as incomplete: the caller decides what to keep.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from measure.harness_output import Record, TapResult, parse_line

GUEST_BEGIN_RE = re.compile(r"=== study-guest begin (.*)\Z")
GUEST_END_RE = re.compile(r"=== study-guest end runs=(\d+)\Z")
RUN_BEGIN_RE = re.compile(r"=== study-run begin n=(\d+) args=(.*)\Z")
RUN_END_RE = re.compile(r"=== study-run end n=(\d+) rc=(\d+)\Z")
HARNESS_LINE_RE = re.compile(r"(sample |skip |ok |not ok |# |#\Z|TAP version |1\.\.\d)")


class GuestOutputError(ValueError):
    """The serial log is not what kernel-patches/guest/init prints."""


@dataclass
class Run:
    n: int
    args: str
    rc: int | None = None               # None: no end marker
    records: list[Record] = field(default_factory=list)
    taps: list[TapResult] = field(default_factory=list)
    console: list[str] = field(default_factory=list)


@dataclass
class GuestOutput:
    header: dict                        # release, crng_ready, cpu_model
    runs: list[Run]
    complete: bool                      # saw the end marker with every run closed


def _header(text: str, where: str) -> dict:
    fields = {}
    for token in text.split():
        key, eq, value = token.partition("=")
        if not eq:
            raise GuestOutputError(f"{where}: bad header field {token!r}")
        fields[key] = value
    for key in ("release", "crng_ready", "cpu_model"):
        if key not in fields:
            raise GuestOutputError(f"{where}: guest header lacks {key}=")
    return fields


def parse_serial(text: str, source: str = "serial") -> GuestOutput:
    header, runs, run, ended = None, [], None, False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\r")
        where = f"{source}:{number}"
        if header is None:
            m = GUEST_BEGIN_RE.search(line)     # firmware noise may precede it
            if m:
                header = _header(m.group(1), where)
            continue
        if m := RUN_BEGIN_RE.match(line):
            if run is not None:
                raise GuestOutputError(f"{where}: run {m.group(1)} began inside run {run.n}")
            run = Run(int(m.group(1)), m.group(2).strip())
            runs.append(run)
        elif m := RUN_END_RE.match(line):
            if run is None or int(m.group(1)) != run.n:
                raise GuestOutputError(f"{where}: end of run {m.group(1)} that did not begin")
            run.rc, run = int(m.group(2)), None
        elif m := GUEST_END_RE.match(line):
            if run is not None:
                raise GuestOutputError(f"{where}: guest ended inside run {run.n}")
            if int(m.group(1)) != len(runs):
                raise GuestOutputError(f"{where}: guest says {m.group(1)} runs, log has {len(runs)}")
            ended = True
            break
        elif run is not None and HARNESS_LINE_RE.match(line):
            parsed = parse_line(line, where)
            if isinstance(parsed, Record):
                run.records.append(parsed)
            elif isinstance(parsed, TapResult):
                run.taps.append(parsed)
        elif run is not None and line.strip():
            run.console.append(line)
    if header is None:
        raise GuestOutputError(f"{source}: no '=== study-guest begin' line: "
                               "the guest never reached /init")
    return GuestOutput(header, runs, ended and run is None)
