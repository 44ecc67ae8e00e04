"""`python -m measure.idlecall_builds [--processes N] [--resume]`: idlecall's
busy main thread timed in several builds of the harness, taking turns.

idlecall's price of a vDSO call after 1 s in the main thread of a busy
process (28 more threads calling 1,000 times a second) was 0.93-1.33 us a
build in the five builds that timed it on 2026-12-05 (data/host/idlecall.csv)
and 0.44 us in the build of b127e29 (data/host/idlecall_code.csv), which
added a function and an option to the harness and left the timed loop's
code as it was; the syscall's price did not move so.  This builds the
harness's source as of each of BUILDS (a commit, and compiler flags beyond
the Makefile's) and times in each the busy main thread's vDSO after 1 s:
inline, as every call of idlecall.csv was timed, and, in builds that have
it, in a function of its own (--call-code own, the call's arguments loaded
before the clock starts); the builds and arms taking turns process by
process, rows into data/host/idlecall_builds.csv, each naming its build.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from measure import host
from measure.provenance import REPO, memory_setup, provenance, write_csv_atomic


@dataclass(frozen=True)
class Build:
    name: str
    commit: str          # the harness source's commit
    cflags: str = ""     # beyond the Makefile's CFLAGS (-O2 -g)
    call_code: bool = False     # has --call-code (b127e29 and later)


BUILDS = (
    # the build of idlecall.csv's most busy-process runs, and of its last ones
    Build("a71c909", "a71c90940f340dde0abf34186200c9134b0c1f8d"),
    Build("2c0ebda", "2c0ebda5ed486c8dd6f6d6a3290cb7c7ae72f06e"),
    # the build of idlecall_code.csv, as built and laid out two other ways
    Build("b127e29", "b127e29fdcbbb23694e9d30a5b042ad03f8ce6ba", call_code=True),
    Build("b127e29-align4k", "b127e29fdcbbb23694e9d30a5b042ad03f8ce6ba",
          "-falign-functions=4096", call_code=True),
    Build("b127e29-fp", "b127e29fdcbbb23694e9d30a5b042ad03f8ce6ba",
          "-fno-omit-frame-pointer", call_code=True),
)
PROCESSES = 6
OUT = REPO / "data" / "host" / "idlecall_builds.csv"
BUILD_DIR = host.HARNESS_BUILD.parent / "idlecall-builds"


def build(b: Build, out: Path = BUILD_DIR) -> Path:
    """The harness's source at b.commit, built by its Makefile (CFLAGS -O2
    -g and b.cflags) into out/b.name/."""
    source = subprocess.run(["git", "-C", str(REPO), "show",
                             f"{b.commit}:kernel-patches/harness/vgetrandom-harness.c"],
                            capture_output=True, text=True)
    if source.returncode:
        raise host.CalibrateError(f"build {b.name}: no harness source at {b.commit[:12]}")
    target = out / b.name
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "vgetrandom-harness.c"
        src.write_text(source.stdout)
        # CFLAGS from the environment: the Makefile's ?= takes it and its
        # += adds the rest, where a command-line CFLAGS would replace both
        made = subprocess.run(["make", "-s", "-B", "-C", str(host.HARNESS_SRC), f"O={target}",
                               f"SRC={src}", f"{target}/vgetrandom-harness"],
                              capture_output=True, text=True,
                              env={**os.environ, "CFLAGS": f"-O2 -g {b.cflags}".strip()})
    if made.returncode:
        last = (made.stderr.strip().splitlines() or ["no output"])[-1]
        raise host.CalibrateError(f"build {b.name}: {last}")
    return target / "vgetrandom-harness"


def runs(builds=BUILDS, processes: int = PROCESSES, gap_ms: int = 1000,
         calls: int = 10) -> list[tuple[Build, list[str]]]:
    """(build, idlecall options) per process: in each of `processes`
    turns, every build inline, then in a function where it can be."""
    timed = ["--gaps-ms", str(gap_ms), "--calls", str(calls), "--spin", "0", "--modes", "vdso",
             "--companion", f"vdso:{host.BUSY_COMPANION}"]
    return [(b, [*timed, *code, "--repeat", str(k)])
            for k in range(1, processes + 1) for b in builds
            for code in ((), ("--call-code", "own"))[:1 + b.call_code]]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m measure.idlecall_builds",
                                description=__doc__.split("\n")[0])
    p.add_argument("--processes", type=int, default=PROCESSES, help="turns (processes a arm)")
    p.add_argument("--builds", default=",".join(b.name for b in BUILDS),
                   help="comma-separated build names (default: all)")
    p.add_argument("--gap-ms", type=int, default=1000)
    p.add_argument("--calls", type=int, default=10)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--resume", action="store_true",
                   help="keep the runs already in --out, matched by build and command")
    args = p.parse_args(argv)
    named = {b.name: b for b in BUILDS}
    unknown = [n for n in args.builds.split(",") if n not in named]
    if unknown or args.processes < 1 or args.calls < 1 or args.gap_ms < 0:
        what = f"--builds: no build {unknown[0]!r}" if unknown else \
            "--processes and --calls must be 1 or more, --gap-ms 0 or more"
        print(f"idlecall_builds: {what}", file=sys.stderr)
        return 2
    try:
        chosen = [named[n] for n in args.builds.split(",")]
        binaries = {b.name: build(b, BUILD_DIR) for b in chosen}
        done = {(r["build"], command): kept
                for command, kept in host.rows_by_command(args.out).items()
                for r in kept[:1]} if args.resume else {}
        rows = []
        with host.cpu_lock(True):
            for run, (b, options) in enumerate(runs(chosen, args.processes, args.gap_ms,
                                                    args.calls)):
                argv_ = ["idlecall", *options]
                command = host.harness_command(binaries[b.name], argv_)
                if kept := done.get((b.name, command)):
                    rows += kept
                    continue
                busy = host.wait_for_quiet_cpu(120)
                with host.others_busy() as others:
                    records, _, command, _, _ = host.run_harness(
                        binaries[b.name], argv_, 1.5 * args.calls * args.gap_ms / 1000 + 60)
                prov = provenance(command=command) | memory_setup() | {
                    "cpu_busy_before": busy, **others, "run": run, "build": b.name,
                    "build_commit": b.commit, "build_cflags": b.cflags}
                rows += [{**prov, "call_code": "none", **r.fields}
                         for r in records if r.kind == "sample"]
                write_csv_atomic(args.out, rows)
    except host.CalibrateError as e:
        print(f"idlecall_builds: {e}", file=sys.stderr)
        return 1
    for line in summary(rows):
        print(line)
    return 0


def summary(rows: list[dict]) -> list[str]:
    """Each build and call code's mean over its processes' means, ns."""
    by = {}
    for r in rows:
        by.setdefault((r["build"], r["call_code"]), {}).setdefault(r["repeat"], []).append(
            r["ns_per_call"])
    return [f"idlecall_builds {name:>16} call code {code:>4}: "
            f"{sum(sum(c) / len(c) for c in per.values()) / len(per):.0f} ns over "
            f"{len(per)} processes" for (name, code), per in by.items()]


if __name__ == "__main__":
    sys.exit(main())
