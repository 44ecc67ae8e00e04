"""Parse a study guest's serial console (kernel-patches/guest/init).

The guest prints

    === study-guest begin release=6.12.117 crng_ready=1 cpu_model=QEMU_TCG_CPU
    === study-run begin n=1 lru=classic cgroup=v2 swap_kib=0 args=statemem --pages 256
    sample exp=statemem kind=anon ...          (harness lines)
    ok 1 ...                                   (TAP, of the harness or a kselftest)
    # memory_reclaim: asked_pages=1024 ...     (a diagnostic with values)
    # vmstat_delta: pgscan_file=0 ...          (the counters over the run)
    === study-run end n=1 rc=0
    ...
    === study-guest end runs=N

and between the markers anything the kernel writes to the console (an
OOM report, a warning).  The begin marker names the reclaim setup the run
ran under (SETUP_KEYS).  Harness lines are parsed by measure.harness_output
and a malformed one is an error; a comment line of the form
`# tag: key=value ...` is kept as a "diag" record of experiment `tag`;
other lines are kept as console text.  A run without its end marker (the
guest died or hung) is returned with rc None, and the output as
incomplete: the caller decides what to keep.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from measure.harness_output import Record, TapResult, _value, parse_line

GUEST_BEGIN_RE = re.compile(r"=== study-guest begin (.*)\Z")
GUEST_END_RE = re.compile(r"=== study-guest end runs=(\d+)\Z")
RUN_BEGIN_RE = re.compile(r"=== study-run begin n=(\d+) (.*?)args=(.*)\Z")
RUN_END_RE = re.compile(r"=== study-run end n=(\d+) rc=(\d+)\Z")
HARNESS_LINE_RE = re.compile(r"(sample |skip |ok |not ok |# |#\Z|TAP version |1\.\.\d)")
PAIR = r"[a-z_][a-z0-9_]*=\S+"
DIAG_RE = re.compile(rf"# ([A-Za-z0-9_.-]+): ({PAIR}(?: {PAIR})*)\Z")
PLAN_SKIP_RE = re.compile(r"1\.\.0 # SKIP (.*)\Z")   # a kselftest that skipped as a whole
SETUP_KEYS = ("lru", "cgroup", "swap_kib")    # what each run marker records


class GuestOutputError(ValueError):
    """The serial log is not what kernel-patches/guest/init prints."""


@dataclass
class Run:
    n: int
    args: str
    setup: dict = field(default_factory=dict)  # SETUP_KEYS -> value
    rc: int | None = None               # None: no end marker
    records: list[Record] = field(default_factory=list)
    taps: list[TapResult] = field(default_factory=list)
    console: list[str] = field(default_factory=list)


@dataclass
class GuestOutput:
    header: dict                        # release, crng_ready, cpu_model
    runs: list[Run]
    complete: bool                      # saw the end marker with every run closed


def _fields(text: str, required: tuple[str, ...], what: str, where: str) -> dict:
    """key=value tokens of a marker, all of `required` among them."""
    fields = {}
    for token in text.split():
        key, eq, value = token.partition("=")
        if not eq:
            raise GuestOutputError(f"{where}: bad {what} field {token!r}")
        fields[key] = value
    for key in required:
        if key not in fields:
            raise GuestOutputError(f"{where}: {what} lacks {key}=")
    return fields


def _diag(line: str) -> Record | None:
    """A `# tag: key=value ...` diagnostic as a record, else None."""
    m = DIAG_RE.match(line)
    if not m:
        return None
    fields = dict(token.split("=", 1) for token in m.group(2).split())
    return Record("diag", m.group(1), {k: _value(v) for k, v in fields.items()})


def parse_serial(text: str, source: str = "serial") -> GuestOutput:
    header, runs, run, ended = None, [], None, False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\r")
        where = f"{source}:{number}"
        if header is None:
            m = GUEST_BEGIN_RE.search(line)     # firmware noise may precede it
            if m:
                header = _fields(m.group(1), ("release", "crng_ready", "cpu_model"),
                                 "guest header", where)
            continue
        if m := RUN_BEGIN_RE.match(line):
            if run is not None:
                raise GuestOutputError(f"{where}: run {m.group(1)} began inside run {run.n}")
            run = Run(int(m.group(1)), m.group(3).strip(),
                      _fields(m.group(2), SETUP_KEYS, "run marker", where))
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
        elif run is not None and (diag := _diag(line)):
            run.records.append(diag)
        elif run is not None and (m := PLAN_SKIP_RE.match(line)):
            run.taps.append(TapResult(0, True, "plan", m.group(1)))
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
