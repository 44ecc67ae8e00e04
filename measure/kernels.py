"""Build the study's guest kernels and measure them under QEMU.

    python -m measure.kernels build   [VARIANT...]   # make kernels
    python -m measure.kernels measure [VARIANT...]   # make calibrate-guests
    python -m measure.kernels campaign [CAMPAIGN...] # make calibrate-guests

`build` compiles each variant (see measure.variants) once into the cache;
`measure` boots each cached kernel with a busybox initramfs holding the
static harness, runs the behaviour experiments, and writes
data/guests/<variant>.csv.
"""
from __future__ import annotations

import argparse
import csv
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from measure.guest_output import SETUP_KEYS, GuestOutput, GuestOutputError, parse_serial
from measure.host import CalibrateError, build_harness, cpu_lock
from measure.cleanup import exit_on_sigterm
from measure.provenance import provenance, write_csv_atomic
from measure.qemu_guest import GuestRun, boot
from measure.variants import REPO, SOURCE_TARBALL, VARIANTS, Variant, select

BUILD_SCRIPT = REPO / "kernel-patches" / "build-kernel.sh"
MKINITRAMFS = REPO / "kernel-patches" / "guest" / "mkinitramfs.sh"
DATA_DIR = REPO / "data" / "guests"
HARNESS_STATIC_BUILD = REPO / "build" / "harness-guest"

# loglevel=1: only emergencies interleave with the harness's lines.
# random.trust_cpu=on: the CRNG is ready at boot (TCG's -cpu max has
# RDRAND), so the vDSO does not fall back to the syscall.
KERNEL_APPEND = "console=ttyS0 loglevel=1 random.trust_cpu=on panic=-1"
GUEST_MEM_MIB = 512

# Memcg pressure: a 64 MiB cgroup holding 16 MiB of state pages, with a
# hog that fits (32 MiB, the control) or does not (80 MiB).  Global
# pressure: a cgroup limit above the guest's RAM, and state plus hog more
# than the RAM left to them.
PRESSURE = "--limit-mib 64 --droppable-mib 16 --timeout-s 60"
GLOBAL_PRESSURE = "--limit-mib 4096 --droppable-mib 64 --hog-mib 448 --timeout-s 120"

# What every guest runs after its selftests, one harness invocation a line.
HARNESS_RUNS = (
    "selfcheck",
    "statemem --pages 1024 --limit-bytes 65536",
    # One page per mapping: how many an unprivileged process gets (the
    # exempt design's budget, RLIMIT_MEMLOCK for the others).
    "statemem --kinds unevictable,vdso --pages 1 --limit-bytes 65536",
    "fork",
    "memlock",
    f"pressure --kind droppable {PRESSURE} --hog-mib 32 --samples 2",
    f"pressure --kind droppable {PRESSURE} --hog-mib 80 --samples 3",
    f"pressure --kind droppable --touch hot {PRESSURE} --hog-mib 80 --samples 3",
    f"pressure --kind vdso {PRESSURE} --hog-mib 80 --samples 3",
    f"pressure --kind locked {PRESSURE} --hog-mib 80 --samples 3",
    f"pressure --kind droppable {GLOBAL_PRESSURE}",
    f"pressure --kind vdso {GLOBAL_PRESSURE}",
    "oomtouch --hog-mib 32 --pages 64 --watchdog-s 5",
    # The open question: a droppable fault with nothing left to reclaim
    # and no one the OOM killer may take.
    "oomtouch --hog-mib 32 --pages 1 --victims none --watchdog-s 5",
)

# The droppable accounting fix, before and after (issue 12): hogs from
# just under to just over the limit, where reclaim should drop about the
# overshoot rather than every droppable page; under both LRUs.
SWEEP_VARIANTS = ("baseline", "instrumentation", "fix")
SWEEP_HOG_MIB = (44, 48, 52, 56, 60)


def sweep_runs(lru: str) -> list[str]:
    return ([f"!study-lru {lru}"]
            + [f"pressure --kind droppable {PRESSURE} --hog-mib {h} --samples 3"
               for h in SWEEP_HOG_MIB]
            + [f"pressure --kind droppable {GLOBAL_PRESSURE} --samples 2"])


# 0005's selftest, from the fix's build, also runs on the sweep variants
# without the fix: it must fail there, or it would not catch the bug.
FIX_SELFTEST = "droppable-0005"


def guest_selftests(variant: Variant) -> dict[str, Path]:
    """The selftests in the variant's guest, by name: its own, and 0005's."""
    tests = {t: variant.build_dir() / "selftests" / t for t in variant.selftests}
    if variant.name in SWEEP_VARIANTS and "0004" not in variant.patches:
        tests[FIX_SELFTEST] = VARIANTS["fix"].build_dir() / "selftests" / "droppable"
    return tests


def selftest_runs(names) -> list[str]:
    """Each selftest once; those about reclaim again where it differs."""
    runs = [f"kselftest {t}" for t in names]
    reclaim = [t for t in names if t.startswith("droppable")]
    if reclaim:
        runs += (["!study-lru mglru"] + [f"kselftest {t}" for t in reclaim]
                 + ["!study-lru classic"])
    if "mlock_inherit" in names:
        # With swap, reclaim scans anon and re-mlocks shared inherited pages.
        runs += ["!study-swap zram 128", "kselftest mlock_inherit", "!study-swap off"]
    return runs


def experiments(variant: Variant) -> tuple[str, ...]:
    """What the variant's guest runs, in order: a line of /experiments each
    (kernel-patches/guest/init).  Every run starts from the classic LRU
    and no swap; a run that changes either puts it back."""
    runs = ["!study-features", *selftest_runs(guest_selftests(variant)), *HARNESS_RUNS]
    if variant.name in SWEEP_VARIANTS:
        runs += sweep_runs("classic") + sweep_runs("mglru") + ["!study-lru classic"]
    return tuple(runs)


# The guest campaigns of issue 13: states (real vDSO states, 28 to a page,
# one page per rate class) under the reclaim regimes real machines run.
# Each boots its variants once; its data go to data/guests/<name>-<variant>.*.
# A run of `states` lasts --settle-s + --run-s of guest time (TCG keeps
# wall-clock time), so each campaign takes minutes.
STATE_CLASSES = "--classes 1000:4,100:28,10:28,1:28,0.05:28"
RAMDISK = "/dev/zram1"          # kernel-patches/guest/study-ramdisk


@dataclass(frozen=True)
class Campaign:
    variants: tuple[str, ...]
    runs: tuple[str, ...]       # lines of /experiments, as experiments() returns
    about: str


def _states(*opts: str, run_s: int = 60) -> str:
    return " ".join(("states", STATE_CLASSES, f"--run-s {run_s} --key-life-s {run_s}",
                     "--settle-s 5", *filter(None, opts)))


def _proactive_runs() -> tuple[str, ...]:
    # No shortage: a 256 MiB memcg holding the states and, in half the runs,
    # 64 MiB of page cache read slowly (4 MiB/s); 4 MiB reclaimed every 5 s.
    runs = ["!study-ramdisk 128"]
    for pattern in ("poisson", "periodic"):
        for cache in ("", f"--churn-dev {RAMDISK} --churn-mib 64 --churn-mib-s 4"):
            runs.append(_states(f"--pattern {pattern} --limit-mib 256",
                                "--reclaim-mib 4 --reclaim-period-s 5", cache))
    return tuple(runs + ["!study-ramdisk off"])


def _lru_runs(limit: str, churn_mib: int, extra: str = "") -> tuple[str, ...]:
    runs = [f"!study-ramdisk {churn_mib}"]
    for lru in ("classic", "mglru"):
        runs.append(f"!study-lru {lru}")
        for pattern in ("poisson", "periodic"):
            runs.append(_states(f"--pattern {pattern} {limit}",
                                f"--churn-dev {RAMDISK} --churn-mib {churn_mib}", extra,
                                run_s=40))
    return tuple(runs + ["!study-lru classic", "!study-ramdisk off"])


def _swap_runs() -> tuple[str, ...]:
    # A hog near a 64 MiB limit and page-cache churn: with swap the hog's
    # anon pages compete with the file LRU the states sit on.
    runs = ["!study-ramdisk 128"]
    for swap in ("off", "on"):
        if swap == "on":
            runs.append("!study-swap zram 256")
        runs.append(_states("--pattern poisson --limit-mib 64 --hog-mib 56",
                            f"--churn-dev {RAMDISK} --churn-mib 64 --swap {swap}", run_s=40))
    # Where state pages go when the memcg may swap: plain anonymous pages (a
    # plain mlock design's pages in a forked child, which does not inherit
    # the lock), mlocked ones, droppable ones; a hog 16 MiB over the limit.
    runs += [f"pressure --kind {kind} {PRESSURE} --hog-mib 80 --swap on"
             for kind in ("anon", "locked", "droppable")]
    return tuple(runs + ["!study-swap off", "!study-ramdisk off"])


def _damon_runs() -> tuple[str, ...]:
    # No memcg and no shortage: DAMON alone decides what is paged out.
    # Periodic callers leave their page idle for a whole period (20 s at
    # 0.05 Hz); poisson ones share it, touching it 28 times as often.
    return tuple(_states(f"--pattern {pattern} --limit-mib 0", f"--damon {ops}",
                         "--damon-min-age-s 5", run_s=40)
                 for pattern, ops in (("periodic", "vaddr"), ("periodic", "fvaddr"),
                                      ("poisson", "vaddr")))


CAMPAIGNS = {
    "proactive": Campaign(
        ("baseline", "fix"), _proactive_runs(),
        "memory.reclaim of 4 MiB every 5 s on a cgroup v2 memcg with no shortage"),
    "lru": Campaign(
        ("instrumentation",), _lru_runs("--limit-mib 64", 128),
        "classic LRU vs MGLRU, a 64 MiB memcg held at its limit by block-device churn"),
    "global": Campaign(
        ("instrumentation",),
        # both LRUs, then (before the ramdisk goes) one run with a hog
        _lru_runs("--limit-mib 0", 1024)[:-1]
        + (_states("--pattern poisson --limit-mib 0 --hog-mib 320",
                   f"--churn-dev {RAMDISK} --churn-mib 1024", run_s=40), "!study-ramdisk off"),
        "no memcg: churn through 1 GiB of page cache in a 512 MiB guest, with and without a hog"),
    "swap": Campaign(
        ("instrumentation",), _swap_runs(),
        "zram swap absent vs present, a hog and churn at a 64 MiB memcg limit"),
    "damon": Campaign(
        ("instrumentation",), _damon_runs(),
        "a DAMOS pageout scheme (idle for N s) on the states' process, no memcg"),
    "exempt": Campaign(
        ("exempt",), ("selfcheck", f"pressure --kind vdso {PRESSURE} --hog-mib 80 --samples 2"),
        "the exempt kernel: self-check test 4 skips, vdso pressure within the budget"),
}


def missing_from_build(variant: Variant, out: Path) -> list[str]:
    """What of the variant a build directory lacks (kernel, selftests)."""
    wanted = ["bzImage"] + [f"selftests/{t}" for t in variant.selftests]
    return [w for w in wanted if not (out / w).is_file()]


def build(variant: Variant, tarball: Path = SOURCE_TARBALL) -> Path:
    """The variant's build directory, compiling it first unless it is cached."""
    out = variant.build_dir()
    missing = missing_from_build(variant, out)
    if not missing:
        print(f"kernels: {variant.name}: cached {out}/bzImage", flush=True)
        return out
    if not tarball.is_file():
        raise FileNotFoundError(f"{tarball}: missing; install Debian's linux-source-6.12")
    cmd = [str(BUILD_SCRIPT), "-t", str(tarball), "-o", str(out)]
    for f in variant.fragment_files():
        cmd += ["-c", str(f)]
    for p in variant.patch_files():
        cmd += ["-p", str(p)]
    for t in variant.selftests:
        cmd += ["-s", t]
    why = "" if "bzImage" in missing else f" (the cached build lacks {', '.join(missing)})"
    print(f"kernels: {variant.name}: building into {out}{why}", flush=True)
    t0 = time.monotonic()
    subprocess.run(cmd, check=True)
    print(f"kernels: {variant.name}: built in {time.monotonic() - t0:.0f} s", flush=True)
    return out


def cmd_build(args) -> int:
    for variant in select(args.variants):
        build(variant)
    return 0


def guest_rows(variant: Variant, run: GuestRun, out: GuestOutput, release: str,
               command: str) -> list[dict]:
    """Tidy rows, one per observed value, each with its provenance."""
    base = provenance(where=f"{run.accelerator}-guest", variant=variant.name,
                      kernel_release=release, command=command)
    base["cpu_model"] = out.header["cpu_model"].replace("_", " ")
    base.update(accelerator=run.accelerator, patch_hash=variant.patch_hash(),
                config_hash=variant.config_hash(), design=variant.design,
                crng_ready=out.header["crng_ready"], qemu_append=KERNEL_APPEND)
    # TCG runs at a fraction of the machine's speed: its times are not costs.
    timing = "tcg_not_a_cost" if run.accelerator == "tcg" else "kvm"
    rows = []

    def add(guest_run, record, exp, line, metric, value):
        rows.append({**base, **{k: guest_run.setup[k] for k in SETUP_KEYS},
                     "run": guest_run.n, "args": guest_run.args, "record": record,
                     "exp": exp, "line": line, "metric": metric, "value": value,
                     "timing": timing})

    for r in out.runs:
        exp = "setup" if r.args.startswith("!") else r.args.split()[0]
        add(r, "run", exp, 0, "rc", "none" if r.rc is None else r.rc)
        add(r, "run", exp, 0, "console_lines", len(r.console))
        for i, t in enumerate(r.taps, 1):
            add(r, "tap", exp, i, t.description or f"test_{t.number}",
                "skip" if t.skip is not None else "ok" if t.ok else "not_ok")
        for i, rec in enumerate(r.records, 1):
            for key, value in rec.fields.items():
                add(r, rec.kind, rec.exp, i, key, "na" if value is None else value)
    return rows


def measure_variant(variant: Variant, harness: Path, command: str, accel: str,
                    timeout_s: float, campaign: str | None = None, lock: bool = True) -> Path:
    """Boot the variant with its run list (or a campaign's) and write
    data/guests/<variant>.csv (or <campaign>-<variant>.csv) and the log."""
    kdir = variant.build_dir()
    tests = guest_selftests(variant) if campaign is None else {}
    missing = missing_from_build(variant, kdir) + [
        str(path) for path in tests.values() if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"{kdir}: lacks {', '.join(missing)}; run `make kernels` first")
    release = (kdir / "kernelrelease").read_text().strip()
    stem = variant.name if campaign is None else f"{campaign}-{variant.name}"
    run_list = experiments(variant) if campaign is None else CAMPAIGNS[campaign].runs
    with tempfile.TemporaryDirectory(prefix="study-initramfs-") as tmp:
        runs = Path(tmp) / "experiments"
        runs.write_text("\n".join(run_list) + "\n")
        selftests = Path(tmp) / "selftests"
        selftests.mkdir()
        for name, path in tests.items():
            shutil.copy2(path, selftests / name)
        initrd = Path(tmp) / "initramfs.cpio"
        subprocess.run([str(MKINITRAMFS), str(initrd), str(harness), str(runs),
                        str(selftests)], check=True)
        print(f"kernels: {stem}: booting {release}", flush=True)
        # A TCG guest keeps a core busy: never beside a timing run.
        with cpu_lock(lock):
            run = boot(kdir / "bzImage", initrd, KERNEL_APPEND, timeout_s=timeout_s,
                       mem_mib=GUEST_MEM_MIB, accel=accel)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    log = DATA_DIR / f"{stem}.serial.log"
    tmp_log = log.with_suffix(".log.tmp")
    tmp_log.write_text(run.serial)
    tmp_log.replace(log)
    out = parse_serial(run.serial, str(log))
    if out.header["release"] != release:
        raise GuestOutputError(f"{log}: guest runs {out.header['release']}, "
                               f"built {release}: wrong kernel booted")
    if not out.complete:
        why = "timed out" if run.timed_out else f"QEMU exit status {run.returncode}"
        raise GuestOutputError(f"{log}: guest did not finish its runs ({why}, "
                               f"{len(out.runs)} runs seen)")
    csv = DATA_DIR / f"{stem}.csv"
    write_csv_atomic(csv, guest_rows(variant, run, out, release, command))
    failed = [f"{r.n}:{r.args.split()[0]}" for r in out.runs if r.rc != 0]
    print(f"kernels: {stem}: {run.accelerator} guest, {len(out.runs)} runs in "
          f"{run.wall_s:.0f} s -> {csv.relative_to(REPO)}"
          + (f"; runs with non-zero status: {', '.join(failed)}" if failed else ""), flush=True)
    return csv


def cmd_measure(args) -> int:
    variants = select(args.variants)
    command = "python -m measure.kernels measure " + shlex.join(args.variants or [])
    harness = build_harness(HARNESS_STATIC_BUILD).with_name("vgetrandom-harness-static")
    for variant in variants:
        measure_variant(variant, harness, command.strip(), args.accel, args.timeout_s)
    return 0


def cmd_campaign(args) -> int:
    unknown = [n for n in args.campaigns if n not in CAMPAIGNS]
    if unknown:
        raise ValueError(f"unknown campaign {unknown[0]!r} (known: {', '.join(CAMPAIGNS)})")
    harness = build_harness(HARNESS_STATIC_BUILD).with_name("vgetrandom-harness-static")
    # One hold of the CPU lock for all the guests: a TCG guest keeps a core
    # busy, and queueing once per guest behind others' runs would stretch a
    # campaign of minutes over hours.
    with cpu_lock(True):
        for name in args.campaigns or CAMPAIGNS:
            command = f"python -m measure.kernels campaign {name}"
            print(f"kernels: campaign {name}: {CAMPAIGNS[name].about}", flush=True)
            for variant in select(list(CAMPAIGNS[name].variants)):
                measure_variant(variant, harness, command, args.accel, args.timeout_s, name,
                                lock=False)
    return 0


# What `summary` shows of each experiment: the keys that tell the designs apart.
SUMMARY_KEYS = {
    "statemem": ("kind", "vmlck_kib", "mlocked_kib", "child_kept_pages", "child_vmlck_kib",
                 "child_mlocked_kib", "pages_under_limit", "errno_past_limit"),
    "pressure": ("kind", "touch", "limit_mib", "hog_mib", "dropped_pages", "pages",
                 "droppable_discard", "pgscan_file", "pgsteal_file", "hog", "memcg_oom_kills"),
    "oomtouch": ("victims", "pages", "outcome", "lost_writes", "droppable_discard",
                 "droppable_fault_oom", "toucher"),
    # The selftests' diagnostics.
    "memory_reclaim": ("asked_pages", "pages", "errno", "dropped_pages"),
    "mlock_inherit_cow": ("pages", "locked_delta", "child_fork_delta", "child_writes_delta",
                          "writer_exit_delta", "idle_child_exit_delta", "after_reclaim_delta",
                          "vmswap_kb"),
    "map_unevictable_budget": ("threads", "pages", "errno"),
    # The campaigns: per rate class, what the regime did to in-use states.
    "states": ("pressure", "scope", "pattern", "swap", "rate_hz", "calls", "calls_zeroed",
               "key_lives", "key_lives_dropped", "reclaims", "reclaims_short",
               "reclaim_pgsteal_mean", "class_pages_dropped_by_reclaim",
               "damon", "damon_min_age_s", "damon_scheme_sz_applied", "failcnt",
               "usage_at_limit_frac", "churn_bytes_per_s", "droppable_discard", "pgsteal_file",
               "pgsteal_anon", "pswpout", "outcome"),
}


def summary_lines(csv_path: Path) -> list[str]:
    """One line per harness sample or selftest diagnostic of the experiments
    in SUMMARY_KEYS, with the LRU it ran under."""
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    samples: dict[tuple, dict] = {}
    for r in rows:
        if r["record"] in ("sample", "skip", "diag") and r["exp"] in SUMMARY_KEYS:
            fields = samples.setdefault((int(r["run"]), int(r["line"]), r["exp"], r["record"]),
                                        {"lru": r.get("lru", "na")})
            fields[r["metric"]] = r["value"]
    lines = []
    for (run, _, exp, record), fields in sorted(samples.items()):
        shown = " ".join(f"{k}={fields[k]}" for k in SUMMARY_KEYS[exp] if k in fields)
        lines.append(f"{exp:9} {record:6} lru={fields['lru']} {shown}"
                     + (f" reason={fields.get('reason')}" if record == "skip" else ""))
    return lines


def cmd_summary(args) -> int:
    if args.campaign and args.campaign not in CAMPAIGNS:
        raise ValueError(f"unknown campaign {args.campaign!r} (known: {', '.join(CAMPAIGNS)})")
    names = args.variants or (list(CAMPAIGNS[args.campaign].variants) if args.campaign else [])
    for variant in select(names):
        stem = f"{args.campaign}-{variant.name}" if args.campaign else variant.name
        path = DATA_DIR / f"{stem}.csv"
        if not path.is_file():
            print(f"== {stem}: {path.relative_to(REPO)} missing")
            continue
        print(f"== {stem}")
        for line in summary_lines(path):
            print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m measure.kernels", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="build the variants' kernels into the cache")
    p.add_argument("variants", nargs="*", metavar="VARIANT")
    p.set_defaults(fn=cmd_build)
    p = sub.add_parser("measure", help="boot each built variant and write data/guests/")
    p.add_argument("variants", nargs="*", metavar="VARIANT")
    p.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto",
                   help="auto: KVM, falling back to TCG when the guest stays silent")
    p.add_argument("--timeout-s", type=float, default=600, help="hard limit per guest")
    p.set_defaults(fn=cmd_measure)
    p = sub.add_parser("campaign", help="boot a campaign's variants (issue 13) and write "
                       "data/guests/<campaign>-<variant>.csv")
    p.add_argument("campaigns", nargs="*", metavar="CAMPAIGN",
                   help=f"of {', '.join(CAMPAIGNS)}; all when none")
    p.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto")
    p.add_argument("--timeout-s", type=float, default=900, help="hard limit per guest")
    p.set_defaults(fn=cmd_campaign)
    p = sub.add_parser("summary", help="print what data/guests/ shows, per variant")
    p.add_argument("variants", nargs="*", metavar="VARIANT")
    p.add_argument("--campaign", help="show data/guests/<campaign>-<variant>.csv")
    p.set_defaults(fn=cmd_summary)
    args = parser.parse_args(argv)
    exit_on_sigterm()
    try:
        return args.fn(args)
    except (FileNotFoundError, ValueError, CalibrateError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as e:
        print(f"error: {e.cmd[0]} failed with status {e.returncode}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
