"""`make calibrate`: measure the running kernel with the C harness.

    python -m measure.host [--quick] [--out DIR] [--only EXP,...] [--no-lock] [--no-selftest]
                           [--quiet-wait-s S] [--resume]

Builds kernel-patches/harness, runs its self-check and every experiment with
repeated samples, and writes one CSV per experiment to data/host/ (atomically,
provenance on every row); after callcost, `openssl speed -evp chacha20` at the
same sizes (chacha20.csv).  Then builds the kernel's vdso_test_getrandom
selftest, runs bench-single, and prints its 4-byte vDSO and syscall cost
beside the harness's.  Timing runs hold /tmp/study-cpu.lock so that they do
not overlap kernel builds.

With --resume, a run whose exact harness command already has rows in the
experiment's CSV is not run again: its rows are kept, and the CSV is
rewritten after every new run, so an interrupted campaign, or one given more
repetitions, picks up where the file ends.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import fcntl
import glob
import itertools
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from measure import openssl_speed, selftest
from measure.burner import burning
from measure.fastdisk import MOUNT as FAST_DISK_MOUNT, FastDiskError, fast_disk
from measure.harness_output import HarnessOutputError, parse, reader_moves
from measure.provenance import (COLUMNS, REPO, SIDE_SUFFIX, memory_setup, open_csv, provenance,
                                side_file, write_csv_atomic)
from measure.reclaim_walk import TraceError, unavailable, vmscan_trace
from measure.sched_trace import HARNESS_SPLITS, OTHER, cpu_use, reader_trace
from model.calibration import DEAR_NS

HARNESS_SRC = REPO / "kernel-patches" / "harness"
HARNESS_BUILD = REPO / "build" / "harness"
CPU_LOCK = Path("/tmp/study-cpu.lock")
TERM_GRACE_S = 10
# Experiments whose numbers are times, or whose threads must run on time:
# they want an idle machine.
TIMING = ("callcost", "reseed", "idlecall", "fault", "states", "states_tracer", "states_placement",
          "states_reader", "states_mobility", "states_hop", "states_churn", "states_fastchurn",
          "states_tlbflush", "states_quiet", "pressure_walk", "idlecall_clock", "idlecall_code",
          "states_probe", "idlecall_curves", "states_prices", "states_sched")
# Plan entries that run another harness subcommand than their name.
SUBCOMMAND = {"pressure_tlb": "pressure", "pressure_walk": "pressure",
              "states_tracer": "states", "states_placement": "states", "states_reader": "states",
              "states_mobility": "states", "states_hop": "states", "states_churn": "states",
              "states_fastchurn": "states", "states_tlbflush": "states", "states_quiet": "states",
              "idlecall_clock": "idlecall", "idlecall_code": "idlecall", "states_probe": "states",
              "idlecall_curves": "idlecall", "states_prices": "states", "states_sched": "states"}
# Experiments whose runs are traced (measure.reclaim_walk): their memcg
# reclaim calls go to <exp>_reclaim.csv.
TRACED = ("pressure_walk",)
QUIET_BUSY = 0.10       # busy fraction of all CPUs we accept as idle
# Whole callcost runs, one and all threads taking turns.  On this VM the same
# 4-byte vDSO call takes 13 ns, then 19 ns for a stretch of 0.1-1.5 s, then 13
# ns again, on idle CPUs (the host's doing, not a warm-up: it comes back mid-
# run).  One run can land its samples of a size in such a stretch, so costs
# come from the median over several runs, and Q1 shows their spread.
CALLCOST_RUNS = 3


class CalibrateError(RuntimeError):
    pass


def build_harness(out: Path = HARNESS_BUILD) -> Path:
    result = subprocess.run(["make", "-s", "-C", str(HARNESS_SRC), f"O={out}"],
                            capture_output=True, text=True)
    if result.returncode:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise CalibrateError(f"building the harness failed: {last}")
    return out / "vgetrandom-harness"


def pressure_grid(limits_mib, droppable_mib, total_fractions, touches, kind="droppable"):
    """Harness argument lists: hog H so that D + H = f * L, for each L, D, f."""
    runs = []
    for limit in limits_mib:
        for droppable in droppable_mib:
            for fraction in total_fractions:
                hog = round(fraction * limit) - droppable
                if hog <= 0:
                    continue
                for touch in touches:
                    runs.append(["--kind", kind, "--touch", touch, "--limit-mib", str(limit),
                                 "--droppable-mib", str(droppable), "--hog-mib", str(hog)])
    return runs


# The states campaign: four classes of 28 threads, each class on a page of
# its own (glibc packs 28 states to a page), from a busy pool to threads that
# call once in 20 s; a 256 MiB memcg; two key lives of 60 s counted after 10 s
# of settling.  Regimes (data/host/README.md says what each is):
STATE_CLASSES = "1000:28,10:28,1:28,0.05:28"
# idlecall's busy process: the states campaign's 1000 Hz class (HZ:THREADS)
BUSY_COMPANION = "1000:28"
# idlecall's processes per setting where the spread between processes is timed
IDLE_REPEATS = 8
# idlecall's processes between a lone thread and the busy one: 28 companions
# calling as the states campaign's 1 and 10 Hz classes do, and at 100 Hz
# (HZ:THREADS), each timed in BETWEEN_REPEATS processes
BETWEEN_COMPANIONS = ("1:28", "10:28", "100:28")
BETWEEN_REPEATS = 4
# and one between the 100 Hz companions' 2,800 calls a second and the busy
# process's 28,000, timed after them: the fork-server scenario calls 16,100
# times a second, which the model priced at the 2,800's curves
NEAR_BUSY_COMPANION = "500:28"
# processes more of the busy setting and the two below it, taking turns
TURNS_REPEATS = 4
# idlecall's processes per setting timed counting the thread's involuntary
# context switches (--count-switches 1)
SWITCH_REPEATS = 4
# idlecall_clock's processes per setting
CLOCK_REPEATS = 2
# idlecall_code's processes per arm, after 1 s and after 20 s
CODE_REPEATS, CODE_LONG_REPEATS = 8, 4
# idlecall_curves' processes per setting, mode and gaps, a sitting; the
# first sitting timed the settings the scenarios are priced at, the second
# those again and the processes between
CURVE_REPEATS = 3
STATE_COMMON = ["--run-s", "120", "--key-life-s", "60", "--settle-s", "10", "--limit-mib", "256",
                "--size-bytes", "16"]
CHURN = ["--churn-mib", "512"]      # twice the limit, on /tmp (ext4 here, not tmpfs)
FAST_CHURN = CHURN + ["--churn-dir", str(FAST_DISK_MOUNT)]     # a tmpfs-backed ext4 disk
STATE_REGIMES = {
    "control": [],
    "churn": CHURN,
    "churn_slow": CHURN + ["--churn-mib-s", "64"],
    "hog_churn": ["--hog-mib", "192"] + CHURN,
    "spike_churn": CHURN + ["--spike-mib", "200", "--spike-period-s", "30",
                            "--spike-hold-ms", "5000"],
    "hog_alone": ["--hog-mib", "240"],
    # the churn-rate test's paced arms (states_churn below)
    "churn_768": CHURN + ["--churn-mib-s", "768"],
    "churn_384": CHURN + ["--churn-mib-s", "384"],
    # the fast-churn test's arms (states_fastchurn below): a tmpfs-backed disk, paced
    "churn_fast_2304": FAST_CHURN + ["--churn-mib-s", "2304"],
    "churn_fast_1472": FAST_CHURN + ["--churn-mib-s", "1472"],
}
# (regime, patterns, repetitions, extra options); runs take turns, repetition-major.
STATE_CAMPAIGN = [
    ("control", ("poisson", "periodic"), 1, []),
    # One run of a regime is one draw of when (whether) reclaim activates a
    # page: a timer-locked 1 Hz page is either activated before the window
    # or dropped throughout it.  Where three runs disagreed, more were taken
    # (--resume adds them to the same file): 10 of churn and spike_churn
    # periodic, 6 of the Poisson 0.05 Hz pages' regimes.  Then 6 more of
    # churn and spike_churn periodic three hours later: the tracer test's
    # untraced spike_churn runs (states_tracer below) found the 1 Hz page
    # dropped at 0.77 of calls where the campaign's ten had found 0.25.
    ("churn", ("poisson",), 6, []),
    ("churn", ("periodic",), 16, []),
    ("churn_slow", ("poisson", "periodic"), 3, []),
    ("hog_churn", ("poisson",), 6, []),
    ("hog_churn", ("periodic",), 3, []),
    ("spike_churn", ("poisson",), 6, []),
    ("spike_churn", ("periodic",), 16, []),
    ("hog_alone", ("poisson", "periodic"), 1, []),
    # Busy and idle threads sharing pages, and idle threads alone on theirs.
    ("churn", ("poisson",), 1, ["--classes", "1000:28,0.05:28", "--layout", "interleaved"]),
    ("churn", ("poisson",), 1, ["--classes", "1000:4,1:8,0.05:16", "--per-page", "1"]),
]


def state_args(regime: str, pattern: str, seed: int, *extra: str, classes: str = STATE_CLASSES,
               common=STATE_COMMON) -> list[str]:
    """A states run's harness options: classes, the common options, the
    regime's pressure, the call pattern and seed, then `extra` (a later
    option replacing an earlier one).  --resume matches runs on these."""
    return dedupe_options(["--classes", classes, *common, *STATE_REGIMES[regime],
                           "--pattern", pattern, "--seed", str(seed), *extra])


# Later sittings of campaign cases, (regime, pattern, seeds), run after the
# campaign so that the campaign's run numbers stay what they were.  The
# Poisson 0.05 Hz page saw 0 to 2 drops a campaign run, and six runs of churn left
# its fraction between 0.06 and 0.30 (validate asked for 69 runs); 40 more
# were taken on 2026-12-01 (the sitting was stopped there for time).  Then
# 20 each of hog_churn and spike_churn on 2026-12-02 (validate asked for
# 150 and 61; twenty each is what one session's time held), their readers'
# moves kept as the churn sitting's were.
STATE_MORE_SEEDS = [
    ("churn", "poisson", range(7, 47)),
    ("hog_churn", "poisson", range(7, 27)),
    ("spike_churn", "poisson", range(7, 27)),
]


def states_runs(campaign=STATE_CAMPAIGN, common=STATE_COMMON, more=STATE_MORE_SEEDS):
    """(extra columns, harness options) per run: independent runs, own seeds, taking turns."""
    runs = []
    for rep in range(max(r for _, _, r, _ in campaign)):
        for regime, patterns, reps, extra in campaign:
            for pattern in patterns:
                if rep < reps:
                    runs.append(({"regime": regime},
                                 state_args(regime, pattern, rep + 1, *extra, common=common)))
    for regime, pattern, seeds in more:
        runs += [({"regime": regime}, state_args(regime, pattern, seed, common=common))
                 for seed in seeds]
    return runs


# Does tracing a run change it?  The lru_add waits the model draws come from
# runs traced every 10 ms (measure.lru_trace: a thread of the harness reads
# /proc/PID/pagemap and /proc/kpageflags every period), and the two traced
# spike_churn runs dropped their 1 Hz page at 75% and 97% of calls, the
# campaign's untraced runs at 25% on average.  The same run untraced, traced
# every 10 ms and every 100 ms, taking turns, seeds of its own.
TRACER_ARMS_MS = (0, 10, 100)
TRACER_SEEDS = range(21, 27)


def tracer_runs(regime="spike_churn", arms=TRACER_ARMS_MS, seeds=TRACER_SEEDS):
    """(extra columns, harness options) per run of the tracer test."""
    return [({"regime": regime, "trace_ms": ms},
             state_args(regime, "periodic", seed, *(["--trace-ms", str(ms)] if ms else [])))
            for seed in seeds for ms in arms]


# Does it matter which CPU the callers share with the pressure?  A refaulted
# state folio waits in its CPU's lru_add batch until that CPU adds a batch's
# worth of folios; the churn reader fills its CPU's batch at once.  Nothing
# the campaign records differed between its sittings, so the test pins: the
# scheduler's choice (any), callers and pressure on one CPU (same), on two
# (split), taking turns, seeds of their own, in the two regimes whose
# timer-locked 1 Hz page moved between sittings.
# Then a second sitting of spike_churn split alone, seeds 101-128: its 0.05
# Hz page (six timer-locked calls a run, so a run is six draws) was the
# largest states miss, 0.458 measured over the first four runs against
# 0.625-0.667 predicted, and validate put the runs needed at 36.
# Then a third sitting of churn split alone, seeds 161-184: its 0.05 Hz
# page, 0.625 measured over its four runs against 0.505 predicted, had a
# 95% interval of 0.23-1.00, too wide to tell a miss of the model from the
# runs' spread; validate put the runs needed at 28.
PLACEMENT_ARMS = ("any", "same", "split")
PLACEMENT_REGIMES = ("spike_churn", "churn")
PLACEMENT_SITTINGS = ((PLACEMENT_REGIMES, PLACEMENT_ARMS, range(31, 35)),
                      (("spike_churn",), ("split",), range(101, 129)),
                      (("churn",), ("split",), range(161, 185)))


def placement_runs(sittings=PLACEMENT_SITTINGS):
    """(extra columns, harness options) per run of the placement test."""
    return [({"regime": regime},
             state_args(regime, "periodic", seed, "--placement", arm))
            for regimes, arms, seeds in sittings
            for seed in seeds for regime in regimes for arm in arms]


# Where the reader ran, and when a refault joins the LRU.  The placement
# test's pinned arms bracket the timer-locked page (every call dropped
# beside the reader, almost none away from it); unpinned runs fall anywhere
# between.  Traced, an unpinned run's refaults away from the reader joined
# the LRU when the reader next read on their CPU.  These runs are the
# campaign's unpinned timer-locked runs again, with the reader's every move
# kept (states_reader_moves.csv.gz) and each refault's CPU counted, so that
# the model can be given the reader's moves as measured, seeds of their own.
# Seeds 41-44 first; 45-48 in a second sitting, since a run's 1 Hz page is
# decided by one random event (its first activation) and four runs a
# regime measured that poorly.  Then 49-56 of churn and spike_churn in a
# third: the two sittings' spike_churn runs found the page zeroed at 0.76
# of calls, the campaign's at 0.37 (a permutation test over runs: p 0.012),
# and the model, given the moves, 0.50 (validate before this sitting).
READER_REGIMES = ("churn", "spike_churn", "hog_churn")
READER_SITTINGS = ((READER_REGIMES, range(41, 49)),
                   (("churn", "spike_churn"), range(49, 57)))


def reader_runs(sittings=READER_SITTINGS):
    """(extra columns, harness options) per run of the reader test."""
    return [({"regime": regime}, state_args(regime, "periodic", seed))
            for regimes, seeds in sittings for seed in seeds for regime in regimes]


# Does the reader's mobility decide the timer-locked page?  Over the reader
# test's runs, the fewer times the reader moved a second, the less often
# the 1 Hz page was found zeroed (Spearman 0.54), and the two runs that
# others' CPU use disturbed moved least and never dropped it.  Here the
# load is set: a burner (measure/burner.py) at each duty of one CPU,
# unpinned, outside the memcg, beside the reader test's spike_churn run,
# arms taking turns, each run a seed of its own (--resume matches on it),
# the moves kept, the burner's real CPU use recorded (burn_cpu).
# Seeds 57-71 first, five runs an arm; they spread 0.03-0.81 at the 1 Hz
# page (a run's page is decided by its first activation), and the model,
# given each run's moves, was 0.15-0.22 off the two burner arms (validate
# at 113db15).  Seeds 131-154 in a second sitting, eight runs an arm, so
# that those arms are measured as well as the model is.
# Then a third sitting, the 0.5 arm alone, seeds 351-386: its 1 Hz page,
# 0.574 over 13 runs against 0.748 predicted (30.2%, the full validate at
# a6600a4), inside the runs' 95% interval of 0.325-0.824; validate asked
# for 89 runs, and 36 are what one sitting of about 80 minutes holds.
MOBILITY_DUTIES = (0.0, 0.25, 0.5)
MOBILITY_SITTINGS = ((MOBILITY_DUTIES, range(57, 72)),
                     (MOBILITY_DUTIES, range(131, 155)),
                     ((0.5,), range(351, 387)))


def in_turn(sittings) -> list[tuple]:
    """(arm, seed) per run of a test's sittings of (arms, seeds): in each
    sitting the arms take turns, a seed of its own each run, so that a
    drift over the sitting falls on every arm alike."""
    return [(arm, seed) for arms, seeds in sittings
            for arm, seed in zip(itertools.cycle(arms), seeds)]


def mobility_runs(sittings=MOBILITY_SITTINGS):
    """(extra columns, harness options) per run of the mobility test."""
    return [({"regime": "spike_churn", "burn_duty": duty},
             state_args("spike_churn", "periodic", seed))
            for duty, seed in in_turn(sittings)]


# The burner did not set how often the reader moved (median 11-14 moves a
# second at every duty), so the mobility test could not say whether the
# moves decide the timer-locked page or only go with what does.  Here the
# reader sets its own moves: --reader-hop-ms H moves it to the other CPU
# every H ms (sched_setaffinity between its reads): 1, 10 and about 80
# moves a second (a hop waits for the read in flight), beside the
# scheduler's choice (0), arms taking turns, seeds of their own, the moves
# kept.  The callers stay unpinned.
HOP_ARMS_MS = (0, 1000, 100, 10)
HOP_SEEDS = range(81, 101)


def hop_runs(arms=HOP_ARMS_MS, seeds=HOP_SEEDS):
    """(extra columns, harness options) per run of the hop test; arm 0
    passes no --reader-hop-ms (the harness's default)."""
    return [({"regime": "spike_churn"},
             state_args("spike_churn", "periodic", seed,
                        *(["--reader-hop-ms", str(hop)] if hop else [])))
            for hop, seed in in_turn([(arms, seeds)])]


# Does the churn rate set the Poisson 0.05 Hz page?  The campaign's churn
# Poisson runs (2026-11-30, unpaced churn of 2.1-2.5 GiB/s) found that page
# zeroed at 0.180 of calls, three of six runs with a second round of drops;
# the later sitting's forty (2026-12-01, 1.2-1.6 GiB/s), 0.109, three of
# forty.  The model, given each run's churn rate, predicts 0.089 and 0.102:
# flat above about 1.5 GiB/s and falling below it (0.09 at 0.75 GiB/s, 0.03
# at 0.375, one run's inputs, 8 seeds).  So the rate is set here, in one
# sitting: unpaced (the campaign's churn run), 768 and 384 MiB/s
# (--churn-mib-s), arms taking turns, seeds of their own, the moves kept.
# Then a second sitting, the 384 MiB/s arm alone, seeds 401-432: its page,
# 0.060 over eight runs against 0.046 predicted (23.1%, the full validate
# at a6600a4), inside the runs' 95% interval; validate asked for 213 runs,
# and 32 are what one sitting of about 70 minutes holds.  Then a third
# sitting like the second, seeds 433-476: the page, 0.063 over 40 runs
# against 0.049 predicted (23.3%, the full validate at 953568e), the last
# miss a new run can join; 44 runs are what one session holds, not the
# 131 more validate asked for.  It ran on an Intel Xeon, the first two on
# an AMD EPYC (the rows' cpu_model).  Its 44 found the page at 0.054; all
# 84, 0.059 against 0.049 (15.9%, still out; validate --runs
# regime=churn_384 at 0f4bb49), 186 runs asked for.  So a fourth sitting
# like the third, on the same Intel Xeon, seeds 601-640 (477-500 are too few
# before the TLB-flush test's 501): 40 runs toward those 186, what one
# session holds beside the work that checks them.  Its 40 found the page
# at 0.038; all 124, 0.052 against 0.048 (7.4%, within target; validate
# --runs regime=churn_384 at 03e8f89), 229 runs to measure it to 15%.
CHURN_RATE_ARMS = ("churn", "churn_768", "churn_384")
CHURN_RATE_SITTINGS = ((CHURN_RATE_ARMS, range(201, 225)),
                       (("churn_384",), range(401, 433)),
                       (("churn_384",), range(433, 477)),
                       (("churn_384",), range(601, 641)))


def churn_rate_runs(sittings=CHURN_RATE_SITTINGS):
    """(extra columns, harness options) per run of the churn-rate test."""
    return [({"regime": regime}, state_args(regime, "poisson", seed))
            for regime, seed in in_turn(sittings)]


# Does the page's fraction keep rising with the churn above 2 GiB/s?  The
# churn-rate test found it rising up to the unpaced 1.5-2.0 GiB/s, and the
# model follows it there; given the campaign's 2.1-2.5 GiB/s it predicts no
# more drops (0.089) than for the later runs (0.104), where the kernel found
# 0.180 against 0.109.  This machine's disk no longer reads that fast, so
# the reader churns a tmpfs-backed disk (measure/fastdisk.py) paced at the
# campaign's median rate (2304 MiB/s) and at the later sitting's (1472
# MiB/s): one source, the rate the only difference, arms taking turns, seeds
# of their own, the moves kept.
# Then a second sitting of the 2304 MiB/s arm alone, seeds 251-291: its 0.05
# Hz page, 0.096 measured over six runs against 0.120 predicted (the full
# validate at d279903), had a 95% interval of 0.04-0.15, too wide to tell
# a miss of the model from the runs' spread; validate put the runs needed
# at 47, the only one of that validate's four misses on rerunnable runs
# whose runs needed fit in one sitting (the 1472 arm asked for 112).
# Then a third sitting, the 1472 MiB/s arm alone, seeds 301-340: its page,
# 0.087 over six runs against 0.103 predicted (17.8%, the full validate at
# a6600a4), inside the runs' 95% interval of 0.014-0.164; forty runs are
# what one sitting of about 90 minutes holds, not the 112 validate asked for.
FAST_CHURN_ARMS = ("churn_fast_2304", "churn_fast_1472")
FAST_CHURN_SITTINGS = ((FAST_CHURN_ARMS, range(231, 243)),
                       (("churn_fast_2304",), range(251, 292)),
                       (("churn_fast_1472",), range(301, 341)))
FAST_DISK = "ext4_on_tmpfs_loop"    # the churn_disk column of its rows


def reads_fast_disk(args: list[str]) -> bool:
    """Whether a run's harness options churn the fast disk: the one place
    run_experiment() learns to mount it."""
    return option_pairs(args).get("--churn-dir") == str(FAST_DISK_MOUNT)


def disk_columns(args: list[str]) -> dict[str, str]:
    """What a run's rows say of the disk its reader churns: the fast disk
    by name (churn_disk), nothing for the VM's own disk."""
    return {"churn_disk": FAST_DISK} if reads_fast_disk(args) else {}


# Does x86's accessed bit hide calls from reclaim?  An idle page is lost at
# the pressure's onset if no call falls in the pass it then makes down the
# inactive list, found young once: exp(-R T), R its callers' summed rate
# (28 x 0.05 Hz) and T the inactive file list over the churn rate (both
# measured in each run: model/onset.py).  The kernel lost the 0.05 Hz
# page more often than that at 384 MiB/s (21 of 40 runs against 16.1) and
# in states.csv's unpaced churn runs (42 of 46 against 36.8), as if a
# quarter of the calls went unseen.  x86 clears the accessed bit without
# flushing the TLB (ptep_clear_flush_young(), arch/x86/mm/pgtable.c), so a
# CPU that still caches the page's translation calls without setting it.
# So: the 384 MiB/s run with thirteen 0.05 Hz pages (a class each, so
# thirteen onsets a run), without and with the caller's whole TLB flushed
# every 10 ms (--tlb-flush-ms), arms taking turns, seeds of their own.
# The first sitting's 20 runs lost 61 and 51 of 130 pages, a run's share
# 0.47 and 0.39 (Mann-Whitney p 0.32): in the hypothesis's direction, by
# less than they can tell; a second sitting like it, seeds 521-540, so
# that each arm rests on 20 runs.  Both: 121 and 98 of 260, 0.47 and
# 0.38, p 0.09; a third like them, seeds 541-560, so that each arm
# rests on 30 runs; it ran on an Intel Xeon, the first two on an AMD
# EPYC.  All three: 175 and 148 of 390, 0.45 and 0.38, p 0.18, the
# formula between them; the Intel sitting alone 54 and 50 of 130, p 1.0
# (data/host/README.md).
TLB_FLUSH_ARMS_MS = (0, 10)
TLB_FLUSH_CLASSES = ",".join(["1000:28", "10:28", "1:28"] + ["0.05:28"] * 13)
TLB_FLUSH_SITTINGS = ((TLB_FLUSH_ARMS_MS, range(501, 521)), (TLB_FLUSH_ARMS_MS, range(521, 541)),
                      (TLB_FLUSH_ARMS_MS, range(541, 561)))


def tlb_flush_runs(sittings=TLB_FLUSH_SITTINGS):
    """(extra columns, harness options) per run of the TLB-flush test; arm 0
    passes no --tlb-flush-ms (the harness's default)."""
    return [({"regime": "churn_384", "tlb_flush_ms": ms},
             state_args("churn_384", "poisson", seed,
                        *(["--tlb-flush-ms", str(ms)] if ms else []),
                        classes=TLB_FLUSH_CLASSES))
            for ms, seed in in_turn(sittings)]


# What a states thread's call costs with no pressure at all, by how many
# threads call beside it.  The states runs' 1 and 10 Hz Poisson threads
# paid a third of what idlecall's thread paid after the same gaps, alone,
# in a busy process, among page-mates or timed after a read of its state
# (data/host/idlecall.csv); the campaign's two control runs (no pressure)
# less still.  So the states loop with no pressure: the campaign's four
# classes, the 1 Hz class alone, one 1 Hz thread alone, one 1 Hz thread
# beside the 1000 Hz class (idlecall's busy process, in this loop); each
# then as its syscall twin, the same threads calling getrandom(2) in the
# same loop (the program under the syscall design; reseed_call_ns_mean, new
# then, prices the vDSO calls that reseeded); Poisson, 60 s, seeds of
# their own, taking turns.  Last in each turn, one 1 Hz thread alone on a
# fixed period, both ways: idlecall's fixed gap, in this loop; then the same
# with no memcg (--limit-mib 0), as idlecall's thread runs.  Later
# (QUIET_AGAIN), one 1 Hz thread beside the 1000 Hz class again, in the
# memcg and with none, taking turns, minutes after idlecall's companion
# test: idlecall set up as this loop in every way named paid three to
# four times its 200 ns, and idlecall's prices drifted by a third over
# a day; whether the gap is the loop's or the sitting's.
QUIET_VDSO_CLASSES = (STATE_CLASSES, "1:28", "1:1", "1000:28,1:1")
QUIET_PERIODIC = "1:1"
QUIET_SEEDS = range(901, 905)
QUIET_AGAIN, QUIET_AGAIN_SEEDS = "1000:28,1:1", range(905, 909)
# The probe test's seeds (probe_runs())
PROBE_SEEDS = range(911, 915)


def syscall_twin(classes: str) -> str:
    """The same classes, every one calling the syscall: "1:1" -> "1:1:syscall"."""
    return ",".join(f"{c}:syscall" for c in classes.split(","))


QUIET_CLASSES = tuple(c for v in QUIET_VDSO_CLASSES for c in (v, syscall_twin(v)))


def quiet_runs(classes=QUIET_CLASSES, seeds=QUIET_SEEDS):
    """(extra columns, harness options) per run of the quiet test."""
    periodic = (QUIET_PERIODIC, syscall_twin(QUIET_PERIODIC))
    turn = [("poisson", c, []) for c in classes] \
        + [("periodic", c, []) for c in periodic] \
        + [("periodic", c, ["--limit-mib", "0"]) for c in periodic]
    again = [("poisson", QUIET_AGAIN, limit) for limit in ([], ["--limit-mib", "0"])]
    return [({"regime": "control"},
             state_args("control", pattern, seed, "--run-s", "60", *extra, classes=c))
            for seeds_, turn_ in ((seeds, turn), (QUIET_AGAIN_SEEDS, again))
            for seed in seeds_ for pattern, c, extra in turn_]


def option_pairs(opts: list[str]) -> dict[str, str]:
    """{"--name": value} of "--name value" pairs, a later value replacing an
    earlier one in place."""
    return dict(zip(opts[::2], opts[1::2]))


def dedupe_options(opts: list[str]) -> list[str]:
    """"--name value" pairs, a later value replacing an earlier one in place."""
    return [x for kv in option_pairs(opts).items() for x in kv]


def tlb_runs(samples=5):
    """The hot-region test: the validation's hot grid points just over the limit
    (and one training point), read by one thread or one per CPU, with and
    without a TLB flush after every sweep; a region small enough for the TLB;
    sweeps every 1, 10 (the validation's) and 100 ms; clean page cache beside
    droppable (does reclaim count what it drops?); and a rewritten region
    (touch=write) over and under the limit."""
    common = ["--hold-ms", "100", "--timeout-s", "60", "--samples", str(samples)]
    over = [(128, 32, 102), (128, 32, 122), (256, 128, 141), (512, 32, 506), (512, 128, 410)]
    under = [(128, 32, 90), (512, 128, 358)]
    runs = []

    def point(limit, region, hog, *opts):
        runs.append(["--limit-mib", str(limit), "--droppable-mib", str(region),
                     "--hog-mib", str(hog), *opts, *common])
    for limit, region, hog in over:
        for readers in ("1", "2"):
            for flush in ("none", "sweep"):
                point(limit, region, hog, "--touch", "hot", "--readers", readers,
                      "--tlb-flush", flush)
    # 4 MiB: 1024 PTEs, within the L2 TLB's reach; 4 + 124 MiB and the
    # processes' own memory go just over 128 MiB, the hog alone does not.
    small = (128, 4, 124)
    for flush in ("none", "sweep"):
        point(*small, "--touch", "hot", "--tlb-flush", flush)
    for limit, region, hog in [small, over[0], over[3]]:
        for hot_ms in ("1", "100"):
            point(limit, region, hog, "--touch", "hot", "--hot-ms", hot_ms)
    for limit, region, hog in over[:1] + over[-1:]:
        for kind in ("droppable", "file"):
            point(limit, region, hog, "--kind", kind, "--touch", "cold")
    for limit, region, hog in over[:1] + over[-1:] + under:
        for flush in ("none", "sweep"):
            point(limit, region, hog, "--touch", "write", "--tlb-flush", flush)
    return runs


def walk_runs(samples=3):
    """The reclaim walk, traced: every hot and cold grid point just over the
    limit (D + H = 1.05 and 1.2 L, where a hot region loses part of its
    pages), and the hot-region test's sweep periods (1 and 100 ms beside the
    grid's 10) at its two points that lost part."""
    common = ["--hold-ms", "100", "--timeout-s", "60", "--samples", str(samples)]
    runs = [r + common for r in pressure_grid((128, 256, 512), (8, 32, 128), (1.05, 1.2),
                                              ("cold", "hot"))]
    for limit, region, hog in [(128, 32, 102), (512, 32, 506)]:
        for hot_ms in ("1", "100"):
            runs.append(["--touch", "hot", "--limit-mib", str(limit), "--droppable-mib",
                         str(region), "--hog-mib", str(hog), "--hot-ms", hot_ms, *common])
    return runs


@dataclass
class Plan:
    """Harness invocations per experiment (its CSV's name -> list of option
    lists, or of (extra columns, option list) pairs)."""
    runs: dict = field(default_factory=dict)
    timeout_s: float = 600
    selftest_runs: int = 5
    chacha20_runs: int = CALLCOST_RUNS     # openssl speed, every callcost size, taking turns
    quiet_wait_s: float = 900   # how long to wait for an idle machine before timing


def idlecall_runs() -> list[list[str]]:
    """A call after an idle gap, each mode in turn: the short gaps, 1 s and
    the 20 s of the states campaign's idle class (0.05 Hz), on an idle
    machine; then the short gaps and 1 s again with every CPU kept from
    idling (--spin 1).  20 s in two runs: 9 calls of each mode first, then
    21 more, taken after the first 9 left the vDSO's and the syscall's
    medians' intervals overlapping.  Then each mode alone every 20 s:
    taking turns, a vDSO call's state was last used one or two gaps before;
    alone, one gap, as a thread calling every 20 s meets it, so its share
    of calls that reseed is that thread's (the dropped calls alone came
    last, after the other two showed the turns' costs were not theirs);
    then each mode alone at the shorter gaps, for the same reason.  Last,
    the vDSO and the syscall taking turns without the dropped calls every
    20 s: whether the turns' dearer vDSO calls come from the dropped call's
    refault of the shared state or from the state's age (two gaps); and
    the vDSO alone every 40 s, a state as old with no syscall between.
    Then the vDSO and the syscall alone again, each in a busy process: 28
    companion threads calling the same way 1000 times a second each, as
    the states campaign's 1000 Hz class does, where that campaign's rarely
    calling threads paid a third of the lone price: which price a busy
    process's calls pay after a gap, the syscall's too.  Last, the vDSO
    alone timed as the states threads time it, after their zeroed check
    (--read-first 1: mincore() of the state's page, a read of its
    generation word), alone and in the busy process: how much of the
    states runs' cheaper calls is that check's.  Then with the timed
    state's 27 page-mates calling once a second each (--companion
    vdso:1:27:shared), as a states run's 1 Hz class is packed, timed both
    ways: whether its page-mates make those calls cheaper.  Then alone,
    waking as the states threads wake (--abs-sleep 1: clock_nanosleep() to
    an absolute deadline, a clock read on waking), timed both ways: the
    states loop's lone 1 Hz thread paid a third of idlecall's price
    (states_quiet.csv).  Last, the busy process's companions as the timed
    state's page-mates (--companion vdso:1000:27:shared), timed both ways:
    in the states loop a 1 Hz thread beside the 1000 Hz class paid a
    sixth of idlecall's busy price, its state in the same mapping as
    theirs, where idlecall's companions have a mapping of their own.
    Last, the busy process again, each mode alone, with the timed thread
    one the process created (--thread 1), as the states loop's threads
    are, where every run above timed the main thread: a diagnostic build
    found the vDSO's price after 1 s less than half the main thread's
    there; and the same thread alone, each mode at 1 s.  Then the created
    thread's vDSO calls in the busy process timed after the zeroed check,
    waking either way: what is left between it and the states loop.
    Last, each way after 1 s in IDLE_REPEATS processes of each setting the
    model prices from (alone; in the busy process, its main thread and a
    created one), ten calls each, the processes taking turns (--repeat K):
    every curve above is one process's calls, and a diagnostic build found
    the lone thread's price after 1 s 0.6 to 1.1 us from one process to
    the next.  Then the busy process's main thread each way after 20 s in
    IDLE_REPEATS processes, four calls each: the model's busy price at the
    states runs' idle class, and the reply's, was one process's 30 calls.
    Then the rest of the model's curves in IDLE_REPEATS processes each:
    every mode alone and the busy process's main thread each way at the
    short gaps (20 calls a gap), the zeroed state's call alone after 1 s
    and every mode alone after 20 s (four calls each); and the lone thread
    each way after 1 s in IDLE_REPEATS more processes, where the first ones
    spread from 1.0 to 13.8 us (one process's two calls of 60 us): so that
    the model's curves can be means over processes, not one process's.
    Then processes between the lone thread and the busy one, whose calls
    the model prices alone: the main thread each way after 1 s and 20 s
    beside 28 companions calling 1, 10 or 100 times a second each
    (BETWEEN_COMPANIONS), in BETWEEN_REPEATS processes each; then the same
    at the short gaps (20 calls a gap), which curves of their own need.
    Last, the busy process's main thread each way at the short gaps, 1 s
    and 20 s, and the lone thread each way at the short gaps and 1 s, in
    SWITCH_REPEATS processes each, counting the thread's involuntary
    context switches around each call (--count-switches 1): the clock is
    wall time, and one busy vDSO call of 130 us in 260 doubled the busy
    curve at 10 ms; whether such calls are the scheduler's (a companion's
    time, not the call's CPU) is what the count tells.  Then the same
    again reading the thread's CPU clock too (--thread-cpu 1): the dearest
    calls counted were not preempted, and whether their time was spent
    on the thread's CPU (the call's, or an interrupt's) or lost to the
    host (steal) is what that clock tells.  Last, the lone thread each way
    after 1 s in SWITCH_REPEATS * 2 processes counting switches and as
    many not, the two taking turns process by process: the counted
    processes' syscall after 1 s was dearer than the uncounted ones'
    (Mann-Whitney p 0.0005 over 8 and 17 processes, taken hours apart),
    and only taking turns tells the count's own syscalls from the day's
    drift.  Then the busy process's created thread timed as the states
    threads are (read first, waking as they wake) with pthread's default
    stacks (--thread 1) and with the states threads' 64 KiB ones (--thread
    2), IDLE_REPEATS processes each taking turns: stacks were one
    difference between the two loops' threads untimed, and about 290
    ns of what the states loop's 1 Hz thread paid less after 1 s is not
    the thread's kind nor the zeroed check.  Then the processes between
    at NEAR_BUSY_COMPANION, as the others between.  Then the processes
    at 2,800, 14,000 and 28,000 calls a second each way at the short
    gaps and after 1 s, TURNS_REPEATS more processes each, the three
    taking turns: 14,000's syscall came out dearer than both its
    neighbours' at every gap, timed hours after them, and only taking
    turns tells the rate from the sitting.  Then the stack test's
    default arm again beside the states loop's two other differences,
    each alone and with the 64 KiB stacks all three together, taking
    turns in IDLE_REPEATS processes each: the command in a forked child
    (--fork 1) and the companions' states on the pages after the timed
    state's in its mapping (--companion vdso:1000:28:next): the 64 KiB
    stacks made the call dearer, not the states loop's price.  Then the
    stack test's default arm and the loop test's all-three arm again, each
    with its companions plain and working around each call as the states
    threads do (--companion-check 1: a deadline, the zeroed check's
    mincore(), clock reads), taking turns in IDLE_REPEATS processes each:
    idlecall set up as the states loop in every other way paid four times
    its price, and the companions' own loop was the one difference left.
    Last, the stack test's default arm again with the call's buffer
    written before the clock starts and not (--touch-buf 1), taking turns
    in IDLE_REPEATS processes each: idlecall's call writes into a 4 KiB
    buffer whose first lines lie away from its hot frame, the states
    loop's into 256 bytes inside it."""
    short = ["--gaps-ms", "0,1,10,100", "--calls", "100"]
    second = ["--gaps-ms", "1000", "--calls", "40"]
    short20, second10 = ["--gaps-ms", "0,1,10,100", "--calls", "20"], second[:-1] + ["10"]
    counted = ["--count-switches", "1"]

    def sitting(n: int) -> range:
        """The --repeat labels of a repeated setting's IDLE_REPEATS processes
        after the first n * IDLE_REPEATS."""
        return range(n * IDLE_REPEATS + 1, (n + 1) * IDLE_REPEATS + 1)
    first, more = sitting(0), sitting(1)
    between = range(1, BETWEEN_REPEATS + 1)
    twenty4 = ["--gaps-ms", "20000", "--calls", "4"]
    every = ("vdso", "syscall", "dropped")

    return [short + ["--spin", "0"], second + ["--spin", "0"],
            ["--gaps-ms", "20000", "--calls", "9", "--spin", "0"],
            short + ["--spin", "1"], second + ["--spin", "1"],
            ["--gaps-ms", "20000", "--calls", "21", "--spin", "0"],
            ["--gaps-ms", "20000", "--calls", "45", "--spin", "0", "--modes", "vdso"],
            ["--gaps-ms", "20000", "--calls", "30", "--spin", "0", "--modes", "syscall"],
            ["--gaps-ms", "20000", "--calls", "30", "--spin", "0", "--modes", "dropped"]] \
        + [gaps + ["--spin", "0", "--modes", mode] for mode in ("vdso", "syscall", "dropped")
           for gaps in (short, second)] \
        + [["--gaps-ms", "20000", "--calls", "30", "--spin", "0", "--modes", "vdso,syscall"],
           ["--gaps-ms", "40000", "--calls", "25", "--spin", "0", "--modes", "vdso"]] \
        + [gaps + ["--spin", "0", "--modes", mode, "--companion", f"{mode}:{BUSY_COMPANION}"]
           for mode in ("vdso", "syscall")
           for gaps in (short, second, ["--gaps-ms", "20000", "--calls", "30"])] \
        + [gaps + ["--spin", "0", "--modes", "vdso", "--read-first", "1"]
           for gaps in (short, second, ["--gaps-ms", "20000", "--calls", "30"])] \
        + [gaps + ["--spin", "0", "--modes", "vdso", "--companion", f"vdso:{BUSY_COMPANION}",
                   "--read-first", "1"] for gaps in (short, second)] \
        + [["--gaps-ms", "0,10,100,1000", "--calls", "40", "--spin", "0", "--modes", "vdso",
            *setting, "--read-first", read]
           for setting in (["--companion", "vdso:1:27:shared"], ["--abs-sleep", "1"],
                           ["--companion", "vdso:1000:27:shared"])
           for read in ("0", "1")] \
        + [gaps + ["--spin", "0", "--modes", mode, "--companion", f"{mode}:{BUSY_COMPANION}",
                   "--thread", "1"]
           for mode in ("vdso", "syscall")
           for gaps in (short, second, ["--gaps-ms", "20000", "--calls", "20"])] \
        + [second + ["--spin", "0", "--modes", mode, "--thread", "1"]
           for mode in ("vdso", "syscall")] \
        + [["--gaps-ms", "0,10,100,1000", "--calls", "40", "--spin", "0", "--modes", "vdso",
            "--companion", f"vdso:{BUSY_COMPANION}", "--thread", "1", "--read-first", "1",
            "--abs-sleep", wake] for wake in ("0", "1")] \
        + [["--gaps-ms", "1000", "--calls", "10", "--spin", "0", "--modes", mode, *setting,
            "--repeat", str(k)]
           for k in range(1, IDLE_REPEATS + 1) for mode in ("vdso", "syscall")
           for setting in ([], ["--companion", f"{mode}:{BUSY_COMPANION}"],
                           ["--companion", f"{mode}:{BUSY_COMPANION}", "--thread", "1"])] \
        + repeated_runs(twenty4, ("vdso", "syscall"), first, BUSY_COMPANION) \
        + [args for k in first for args in repeated_runs(short20, every, [k])
           + repeated_runs(short20, ("vdso", "syscall"), [k], BUSY_COMPANION)] \
        + repeated_runs(second10, ("dropped",), first) \
        + repeated_runs(second10, ("vdso", "syscall"), more) \
        + repeated_runs(twenty4, every, first) \
        + [args for gaps in (second10, twenty4) for k in between
           for companion in BETWEEN_COMPANIONS
           for args in repeated_runs(gaps, ("vdso", "syscall"), [k], companion)] \
        + [args for k in between for companion in BETWEEN_COMPANIONS
           for args in repeated_runs(short20, ("vdso", "syscall"), [k], companion)] \
        + [args for options in (counted, counted + ["--thread-cpu", "1"])
           for k in range(1, SWITCH_REPEATS + 1)
           for companion, gaps in ((BUSY_COMPANION, (short20, second10, twenty4)),
                                   ("", (short20, second10)))
           for g in gaps
           for args in repeated_runs(g, ("vdso", "syscall"), [k], companion, options)] \
        + [args for i in range(2 * SWITCH_REPEATS)
           for args in repeated_runs(second10, ("vdso", "syscall"), [2 * IDLE_REPEATS + 1 + i])
           + repeated_runs(second10, ("vdso", "syscall"), [SWITCH_REPEATS + 1 + i], "",
                           counted)] \
        + [as_states_thread(thread) + ["--repeat", str(k)]
           for k in first for thread in ("1", "2")] \
        + [args for k in between for gaps in (short20, second10, twenty4)
           for args in repeated_runs(gaps, ("vdso", "syscall"), [k], NEAR_BUSY_COMPANION)] \
        + [args for i in range(TURNS_REPEATS)
           for companion, k in ((BETWEEN_COMPANIONS[-1], BETWEEN_REPEATS + 1 + i),
                                (NEAR_BUSY_COMPANION, BETWEEN_REPEATS + 1 + i),
                                (BUSY_COMPANION, IDLE_REPEATS + 1 + i))
           for gaps in (short20, second10)
           for args in repeated_runs(gaps, ("vdso", "syscall"), [k], companion)] \
        + [as_states_thread(thread, place, fork) + ["--repeat", str(k)]
           for k in more
           for thread, place, fork in (("1", "", ()), ("1", "", ("--fork", "1")),
                                       ("1", ":next", ()), ("2", ":next", ("--fork", "1")))] \
        + [as_states_thread(thread, place, (*fork, *check)) + ["--repeat", str(k)]
           for k in sitting(2)
           for thread, place, fork in (("1", "", ()), ("2", ":next", ("--fork", "1")))
           for check in ((), ("--companion-check", "1"))] \
        + [as_states_thread("1", "", touch) + ["--repeat", str(k)]
           for k in sitting(3)
           for touch in ((), ("--touch-buf", "1"))]


def as_states_thread(thread: str, place: str = "", options=()) -> list[str]:
    """idlecall options: the busy process's created thread's vDSO after 0 ms
    and 1 s, timed as the states threads are (read first, waking as they
    wake), its companions' states placed by `place` (--companion's suffix),
    its stacks by `thread`, with `options` (--fork 1, --companion-check 1)
    or not."""
    return ["--gaps-ms", "0,1000", "--calls", "10", "--spin", "0", "--modes", "vdso",
            "--companion", f"vdso:{BUSY_COMPANION}{place}", "--read-first", "1",
            "--abs-sleep", "1", "--thread", thread, *options]


def repeated_runs(gaps: list[str], modes, processes, companion: str = "",
                  options=()) -> list[list[str]]:
    """idlecall runs timing each of `modes` alone after `gaps`, one process
    each of `processes` (--repeat K), in the main thread of a process whose
    `companion` threads (HZ:THREADS) call the same way, or alone; `options`
    before --repeat, so that a setting is its args up to --repeat."""
    return [[*gaps, "--spin", "0", "--modes", mode,
             *(["--companion", f"{mode}:{companion}"] if companion else []), *options,
             "--repeat", str(k)]
            for k in processes for mode in modes]


def clock_runs(processes: int = CLOCK_REPEATS) -> list[list[str]]:
    """The lone thread each way and the busy process's main thread's vDSO
    after 100 ms, 750 calls a process, the thread's switches counted and
    its CPU clock read just before and after each call (--thread-cpu 2),
    in `processes` processes each, taking turns; rows of their own
    (idlecall_clock.csv), since the clock read warms the call's path.
    idlecall's dear single calls (10 us or more, about one in 300 after
    10 ms to 1 s; none preempted) either ran on the thread's CPU (an
    interrupt's time, charged to the task it hit without
    IRQ_TIME_ACCOUNTING) or off it (the host's, steal, which
    PARAVIRT_TIME_ACCOUNTING keeps out of a task's runtime); idlecall's
    --thread-cpu 1 span, from before the sleep, was too wide to tell."""
    gaps, clocked = ["--gaps-ms", "100", "--calls", "750"], ["--count-switches", "1",
                                                               "--thread-cpu", "2"]
    return [args for k in range(1, processes + 1)
            for args in repeated_runs(gaps, ("vdso", "syscall"), [k], "", clocked)
            + repeated_runs(gaps, ("vdso",), [k], BUSY_COMPANION, clocked)]


def code_runs(processes: int = CODE_REPEATS) -> list[list[str]]:
    """Whether the price idlecall times is the call's: each arm in
    `processes` processes, taking turns, rows of their own
    (idlecall_code.csv).  Timed inline (idlecall's default), the compiler
    loads a vDSO call's arguments between the clock reads, the state's
    address among them from a heap array no other thread touches; a
    syscall takes no state.  --call-code own
    times the call in a function whose arguments are in registers before
    the clock starts; shared makes the companions call through it too, as
    every states thread runs one loop.  The states loop's 1 Hz thread
    beside the busy class paid a third of idlecall's created thread set up
    as it in every other way; a diagnostic build found the function's
    price there near the states loop's.  So: that created thread inline,
    own and shared; then the settings the model prices from, the busy
    process's main thread and the lone thread, each way after 1 s, inline
    and own.  Then (after that sitting found the busy main thread's vDSO
    after 1 s at 440 ns inline, where idlecall.csv's builds had paid 1.1
    us) the busy main thread each way after 20 s, inline and own, in
    CODE_LONG_REPEATS processes each: the reply's busy price is there."""
    own, shared = ("--call-code", "own"), ("--call-code", "shared")
    second = ["--gaps-ms", "1000", "--calls", "10"]
    twenty = ["--gaps-ms", "20000", "--calls", "4"]
    return [args for k in range(1, processes + 1)
            for args in [as_states_thread("1", "", code) + ["--repeat", str(k)]
                         for code in ((), own, shared)]
            + [run for companion in (BUSY_COMPANION, "") for mode in ("vdso", "syscall")
               for code in ((), own)
               for run in repeated_runs(second, (mode,), [k], companion, code)]] \
        + [run for k in range(1, CODE_LONG_REPEATS + 1) for mode in ("vdso", "syscall")
           for code in ((), own)
           for run in repeated_runs(twenty, (mode,), [k], BUSY_COMPANION, code)]


def probe_runs(seeds=PROBE_SEEDS) -> list[tuple[dict, list[str]]]:
    """(extra columns, harness options) per run of the probe test: the
    states loop's one 1 Hz thread beside the 1000 Hz class, in the memcg,
    no pressure, as the quiet test's later runs (QUIET_AGAIN), with
    idlecall's timed thread twice in the same process (--probe 1: inline,
    and in a function of its own), seeds of their own."""
    return [({"regime": "control"},
             state_args("control", "poisson", seed, "--run-s", "60", "--probe", "1",
                        classes=QUIET_AGAIN))
            for seed in seeds]


# The split-prices test (split_price_runs()): why timer-locked states
# threads paid 2-3 times less than the model's busy price at 1-10 Hz, and
# Poisson ones under churn more.  A quick look (--split-prices 1, 20 s
# under churn, not kept) had the Poisson 1 Hz class's calls made 50-500 ms
# after their page's last call at twice those made 0.5-50 ms after.  So
# the campaign's classes and their syscall twin, under the campaign's
# churn and with none, each call pattern: every arm taking turns, a seed
# of its own a run.  Three runs an arm in the first sitting; three more in
# a second, taken right after it, as three runs say little of the spread
# between runs.  A third of the churn Poisson arm and its twin alone,
# taking turns, 18 runs each: validate had its 0.05 Hz page at 0.099 of
# calls zeroed over 6 runs (3 lost it), the model at 0.209, where 225
# runs would measure it to 15% at their spread; and its price, 1.07
# times the syscall's over every call, rested on those 6.  A fourth of
# the churn Poisson arm alone, 60 runs: with the third the page was 0.136
# over 24 runs against the model's 0.203, the kernel losing it at all in
# 15 where the onset check's exp(-R T) expects 19.2, and 126 runs would
# measure it to 15%.  Its twin is left out: the price needs no more runs
# to be told from the syscall's, the drop fraction does.  A fifth of the
# churn periodic arm and its twin alone, taking turns, 18 runs each: the
# timer-locked pages whose drops make the vDSO dearer than the syscall
# (1 Hz found zeroed at 0.714 of calls, 0.05 Hz at 1.000) rested on 6 runs
# of one AMD EPYC build, and the Intel Xeon build of the fourth sitting,
# whose vDSO calls took 1.4-1.7 times the v1252 Xeon's, had no syscall
# twin to price them against.  A sixth, the reader's pace against the
# machine: the fifth's timer-locked 1 Hz page was found zeroed at 0.306 of
# calls on the Xeon (build v1272, the reader at 1.33-1.69 GB/s) against
# 0.714 on the EPYC (2.16-2.26 GB/s), with as many of its calls beside the
# reader (0.48 of them, median, on each); so the timer-locked vDSO arm
# alone, its reader on the fast disk paced at the EPYC's pace (2304 MiB/s,
# the fast-churn test's arm) and at the Xeon's (1472 MiB/s), the two
# taking turns on one machine, 18 runs each.  A seventh, the 2304 MiB/s
# arm alone, seeds 1137-1200: its 1 Hz page, 0.423 over the sixth's 18
# runs against 0.356 predicted (15.8%, the model's only miss on runs that
# can be taken again), had a 95% interval of 0.242-0.605, and validate put
# the runs needed at 128; 64 are what one sitting of about 80 minutes holds.
SPLIT_PRICE_ARMS = tuple((regime, pattern, classes) for regime in ("churn", "control")
                         for pattern in ("poisson", "periodic")
                         for classes in (STATE_CLASSES, syscall_twin(STATE_CLASSES)))
PACE_ARMS = tuple((regime, "periodic", STATE_CLASSES) for regime in FAST_CHURN_ARMS)
SPLIT_PRICE_SITTINGS = ((SPLIT_PRICE_ARMS, range(921, 945)),
                        (SPLIT_PRICE_ARMS, range(945, 969)),
                        (SPLIT_PRICE_ARMS[:2], range(969, 1005)),
                        (SPLIT_PRICE_ARMS[:1], range(1005, 1065)),
                        (SPLIT_PRICE_ARMS[2:4], range(1065, 1101)),
                        (PACE_ARMS, range(1101, 1137)),
                        (PACE_ARMS[:1], range(1137, 1201)))


def split_price_runs(sittings=SPLIT_PRICE_SITTINGS) -> list[tuple[dict, list[str]]]:
    """(extra columns, harness options) per run of the split-prices test:
    the states loop, 60 s, with --split-prices 1 (each class's warm calls
    by the gap since their page's last call, and beside the reader)."""
    return [({"regime": regime}, split_price_args(regime, pattern, seed, classes))
            for (regime, pattern, classes), seed in in_turn(sittings)]


def split_price_args(regime: str, pattern: str, seed: int, classes: str) -> list[str]:
    """A split-prices run's harness options."""
    return state_args(regime, pattern, seed, "--run-s", "60", "--split-prices", "1",
                      classes=classes)


# What moves the reader?  The split-prices test's 2304 MiB/s arm moved its
# reader 5.6 times a second (median) in its sixth sitting and 37.4 in its
# seventh, same machine, build and pace, and its timer-locked 1 Hz page
# went with the moves (0.423 and 0.697 of calls zeroed), as the model,
# given each run's moves, predicts (0.356 and 0.754).  The moves are the
# model's input, not its output; here they are taken apart: the same arm,
# the scheduler's tracepoints on the reader in one arm of two
# (measure.sched_trace: each move a wakeup's placement or a balancer's,
# and whether a task ran where it was made), off in the other, so that the two arms
# say whether tracing changed the moves; every run counts what each kind
# of task did with the CPUs (the "others' CPU" of every states row).
# Arms taking turns, seeds of their own, the moves kept.
# Then a second sitting like the first, seeds 1233-1264: the first's traces
# had the moves placements at the reader's timer wakeups, 95% of them with
# a task on the CPU it woke on, but not which task (kworker or caller);
# its trace now says what ran there at each wakeup and move (context_kind()),
# and the traced and untraced arms' moves a second (50.5 and 38.9, medians
# of 16 runs each, Mann-Whitney p 0.18) get as many runs again.
# Then a third, seeds 1265-1288: the second's traces had a wakeup over a
# harness task move the reader at 0.2% in one run and 63% in another, and
# the moves a second follow that share; the candidate is whether the other
# CPU was idle (select_idle_sibling() looks for one when the reader's own
# CPU is busy), so the traced arm records every CPU's idle transitions too
# (level 2), the untraced arm beside it saying whether that changes the moves.
# Then a fourth, seeds 1289-1312, as the third: the third's moves were the
# reader placed on the idle other CPU when a harness task held its own, and
# level 2 now names each harness task's thread group (record-tgid), so its
# trace says whether that task was a states thread or a leader (the main
# process polling the memcg, or a caller process's first thread).
# Then a fifth, seeds 1313-1336, as the fourth: the fourth's reader moved
# far less than the third's (14.0 against 49.6 a second), an idle other
# CPU taking it at 35% of its wakeups over a states thread against 89%;
# level 2 now also splits those wakeups by the CPUs' recent busy share
# (sched_trace.llc_busy()), to see whether SIS_UTIL's cutoff, past which
# select_idle_cpu() scans no CPU of two, is what keeps it in place.
# Then a sixth, seeds 1337-1360, as the fifth on another machine (an AMD
# EPYC VM, build v1272, as the split-prices test's first two sittings): the
# five were taken on one Intel Xeon VM, and whether what they found of the
# reader's moves, and the model's following them, holds on another CPU was
# not measured.
# Then a seventh, seeds 1361-1376, as the sixth on the same EPYC VM: its
# traced runs found the 1 Hz page zeroed at 0.544 and its untraced at 0.815
# (Mann-Whitney p 0.03, 12 runs an arm), where no Xeon sitting's arms had
# differed, so whether the level-2 trace changes the runs there is asked again.
SCHED_ARMS = (1, 0)         # sched_trace: the reader's events, off
IDLE_ARMS = (2, 0)          # sched_trace: those and every CPU's idle transitions, off
SCHED_SITTINGS = ((SCHED_ARMS, range(1201, 1233)), (SCHED_ARMS, range(1233, 1265)),
                  (IDLE_ARMS, range(1265, 1289)), (IDLE_ARMS, range(1289, 1313)),
                  (IDLE_ARMS, range(1313, 1337)), (IDLE_ARMS, range(1337, 1361)),
                  (IDLE_ARMS, range(1361, 1377)))


def sched_runs(sittings=SCHED_SITTINGS) -> list[tuple[dict, list[str]]]:
    """(extra columns, harness options) per run of the scheduler test."""
    regime, pattern, classes = PACE_ARMS[0]
    return [({"regime": regime, "sched_trace": on},
             split_price_args(regime, pattern, seed, classes))
            for on, seed in in_turn(sittings)]


def curve_runs(processes: int = CURVE_REPEATS) -> list[list[str]]:
    """The model's after_gap curves again, each call timed in a function of
    its own (--call-code own), rows of their own (idlecall_curves.csv):
    idlecall.csv's calls were timed inline, and its busy vDSO price after
    1 s was 2.2-2.6 times as much in the builds that took it as in a later
    one, where a call timed in a function paid about the same in three
    layouts (idlecall_builds.csv).  Each mode alone at the short gaps (20
    calls a gap), after 1 s (10) and after 20 s (4), the settings taking
    turns process by process, in two sittings of `processes` processes a
    setting.  The first: the settings the scenarios are priced at, the lone
    thread (every mode), the busy process (28,000 calls a second) and the
    one of 14,000 (NEAR_BUSY_COMPANION, fork-server's).  The second, after
    it (its processes labelled on from the first's): those again, to see
    one sitting's level against the other's, and the processes between
    (BETWEEN_COMPANIONS, 28 to 2,800 calls a second), so that the model's
    every process curve is timed one way.  Not the 40 s reseed point."""
    short, second, twenty = (["--gaps-ms", "0,1,10,100", "--calls", "20"],
                             ["--gaps-ms", "1000", "--calls", "10"],
                             ["--gaps-ms", "20000", "--calls", "4"])
    own = ("--call-code", "own")
    priced = [("", ("vdso", "syscall", "dropped")), (BUSY_COMPANION, ("vdso", "syscall")),
              (NEAR_BUSY_COMPANION, ("vdso", "syscall"))]
    between = [(companion, ("vdso", "syscall")) for companion in BETWEEN_COMPANIONS]
    return [run for labels, settings in ((range(1, processes + 1), priced),
                                         (range(processes + 1, 2 * processes + 1),
                                          priced + between))
            for k in labels for gaps in (short, second, twenty)
            for companion, modes in settings
            for run in repeated_runs(gaps, modes, [k], companion, own)]


def run_timeout_s(exp: str, args: list[str], plan: Plan) -> float:
    """The plan's timeout; an idlecall run's sleeps (a call of each of its
    modes a gap) and half again, where they are longer."""
    if SUBCOMMAND.get(exp, exp) != "idlecall":
        return plan.timeout_s
    gaps_ms = sum(int(g) for g in args[args.index("--gaps-ms") + 1].split(","))
    calls = int(args[args.index("--calls") + 1])
    modes = (args[args.index("--modes") + 1].count(",") + 1 if "--modes" in args
             else 3)         # the harness's default: vdso,dropped,syscall
    return max(plan.timeout_s, 1.5 * modes * calls * gaps_ms / 1000)


def full_plan() -> Plan:
    sizes = "4,16,32,64,256,1024,4096"
    pressure_common = ["--samples", "2", "--hold-ms", "100", "--timeout-s", "60"]
    oom_common = ["--hog-mib", "64", "--pages", "1024", "--watchdog-s", "3", "--samples", "10"]
    return Plan(runs={
        "callcost": [["--sizes", sizes, "--threads", t, "--samples", "10", "--sample-ms", "50"]
                     for _ in range(CALLCOST_RUNS) for t in ("1", "0")],
        "reseed": [["--samples", "10", "--rounds", "2000"]],
        "idlecall": idlecall_runs(),
        "fault": [["--pages", "16384", "--samples", "10"]],
        "pressure": [r + pressure_common for r in
                     pressure_grid((128, 256, 512), (8, 32, 128),
                                   (0.5, 0.8, 0.95, 1.05, 1.2, 1.5), ("cold", "hot"))
                     + pressure_grid((256,), (8, 32, 128), (0.8, 1.05, 1.5), ("cold",),
                                     kind="locked")],
        "oomtouch": [["--victims", v, "--hogs", "4"] + oom_common
                     for v in ("any", "toucher", "none")]
                    + [["--victims", "any", "--hogs", "1"] + oom_common],
        "fork": [["--pages", "16"]],
        "memlock": [["--limit-bytes", "8388608,65536,0"]],
        "states": states_runs(),
        "pressure_tlb": tlb_runs(),
        "states_tracer": tracer_runs(),
        "states_placement": placement_runs(),
        "states_reader": reader_runs(),
        "states_mobility": mobility_runs(),
        "states_hop": hop_runs(),
        "states_churn": churn_rate_runs(),
        # the churn-rate test's runs on the fast disk (their regimes say so)
        "states_fastchurn": churn_rate_runs(FAST_CHURN_SITTINGS),
        "states_tlbflush": tlb_flush_runs(),
        "states_quiet": quiet_runs(),
        "pressure_walk": walk_runs(),
        "idlecall_clock": clock_runs(),
        "idlecall_code": code_runs(),
        "states_probe": probe_runs(),
        "idlecall_curves": curve_runs(),
        "states_prices": split_price_runs(),
        "states_sched": sched_runs(),
    })


def quick_plan() -> Plan:
    """Seconds, for the test suite: every experiment once, small."""
    return Plan(runs={
        "callcost": [["--sizes", "4,4096", "--threads", t, "--samples", "3", "--sample-ms", "5"]
                     for t in ("1", "0")],
        "reseed": [["--samples", "2", "--rounds", "200"]],
        "idlecall": [["--gaps-ms", "0,1", "--calls", "2", "--spin", s] for s in ("0", "1")]
                    + [["--gaps-ms", "0", "--calls", "2", "--spin", "0", "--modes", "vdso",
                        "--repeat", "1"],
                       ["--gaps-ms", "10", "--calls", "2", "--spin", "0", "--modes", "syscall",
                        "--companion", "syscall:1000:2", "--read-first", "1",
                        "--abs-sleep", "1", "--thread", "1"]],
        "fault": [["--pages", "256", "--samples", "2"]],
        "pressure": [["--limit-mib", "64", "--droppable-mib", "16", "--hog-mib", h,
                      "--hold-ms", "20", "--timeout-s", "20"] for h in ("8", "56")],
        "oomtouch": [["--hog-mib", "32", "--pages", "256", "--watchdog-s", "2"]],
        "fork": [["--pages", "4"]],
        "memlock": [["--limit-bytes", "65536"]],
        "states": [({"regime": "churn"},
                    ["--classes", "200:4,1:4", "--run-s", "3", "--key-life-s", "1",
                     "--settle-s", "1", "--limit-mib", "64", "--churn-mib", "96"])],
        "pressure_tlb": [["--limit-mib", "64", "--droppable-mib", "8", "--hog-mib", "60",
                          "--touch", t, "--tlb-flush", "sweep", "--hold-ms", "20",
                          "--timeout-s", "20"] for t in ("hot", "write")],
        "pressure_walk": [["--limit-mib", "64", "--droppable-mib", "16", "--hog-mib", "56",
                           "--touch", "hot", "--hold-ms", "20", "--timeout-s", "20"]],
    }, timeout_s=60, selftest_runs=1, quiet_wait_s=0, chacha20_runs=1)


@contextlib.contextmanager
def cpu_lock(enabled: bool):
    """flock(1)-compatible: the same lock the kernel builds take."""
    if not enabled:
        yield
        return
    with open(CPU_LOCK, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"calibrate: waiting for {CPU_LOCK} (a kernel build or another timing run)",
                  flush=True)
            fcntl.flock(f, fcntl.LOCK_EX)
        yield


def cpu_ticks() -> dict:
    """All CPUs' tick counters from /proc/stat: total, idle (+iowait), nice, steal.

    Niced user time is kept apart so that rows can tell it from un-niced
    load; it still disturbs timing (a run beside nice-19 jobs took 20 ns
    per 4-byte vDSO call against 13 ns on idle CPUs), so the quiet check
    counts it.
    """
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return {"total": sum(f[:8]), "idle": f[3] + f[4], "nice": f[1], "steal": f[7]}


def busy_share(t0: dict, t1: dict, ours_ticks: float = 0) -> dict:
    """Shares of all CPUs' time between two cpu_ticks(): un-niced busy
    (minus ours), niced, stolen by the hypervisor."""
    d = {k: t1[k] - t0[k] for k in t0}
    total = max(d["total"], 1)
    busy = d["total"] - d["idle"] - d["nice"] - d["steal"] - ours_ticks
    return {"busy": round(min(max(busy / total, 0), 1), 3),
            "niced": round(d["nice"] / total, 3), "steal": round(d["steal"] / total, 3)}


def cpu_busy_fraction(interval_s: float = 1.0) -> float:
    """Share of all CPUs' time busy (niced work included) over interval_s."""
    t0 = cpu_ticks()
    time.sleep(interval_s)
    share = busy_share(t0, cpu_ticks())
    return round(share["busy"] + share["niced"], 3)


@contextlib.contextmanager
def others_busy():
    """What processes other than our children did with the CPUs while the
    block ran: yields a dict filled at the end with cpu_busy_others_during,
    cpu_niced_during and cpu_steal_during (shares of all CPUs' time)."""
    result = {}
    ticks_per_s = os.sysconf("SC_CLK_TCK")
    t0, ours0 = cpu_ticks(), os.times()
    yield result
    t1, ours1 = cpu_ticks(), os.times()
    ours = ticks_per_s * (ours1.children_user + ours1.children_system
                          - ours0.children_user - ours0.children_system)
    share = busy_share(t0, t1, ours)
    result |= {"cpu_busy_others_during": share["busy"], "cpu_niced_during": share["niced"],
               "cpu_steal_during": share["steal"]}


def wait_for_quiet_cpu(max_wait_s: float) -> float:
    """The lock only keeps out those who take it: wait until the CPUs idle.

    Returns the last busy fraction seen; timing rows record it, so a run
    taken on a busy machine says so.
    """
    deadline = time.monotonic() + max_wait_s
    busy = cpu_busy_fraction()
    if busy > QUIET_BUSY and max_wait_s > 0:
        print(f"calibrate: CPUs {busy:.0%} busy outside the lock; waiting up to "
              f"{max_wait_s:.0f} s for them to idle", flush=True)
        while busy > QUIET_BUSY and time.monotonic() < deadline:
            busy = cpu_busy_fraction()
        if busy > QUIET_BUSY:
            print(f"calibrate: warning: timing on CPUs {busy:.0%} busy", flush=True)
    return round(busy, 3)


def remove_stale_cgroups(pid: int) -> list[str]:
    """Cgroups a killed harness (pid) could not remove itself; returns those removed."""
    removed = []
    for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/unified"):
        for path in glob.glob(f"{root}/vgetrandom-harness.{pid}.*"):
            with contextlib.suppress(OSError):
                for line in Path(path, "cgroup.procs").read_text().split():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(line), signal.SIGKILL)
            deadline = time.monotonic() + 5
            while True:
                try:
                    os.rmdir(path)
                    removed.append(path)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise CalibrateError(f"{path}: cannot remove leftover cgroup")
                    time.sleep(0.05)
    return removed


def harness_command(binary: Path, args: list[str]) -> str:
    """The command line a row's provenance names (and --resume matches on)."""
    return shlex.join([binary.name, *args])


def harness_stdout(binary: Path, args: list[str], timeout_s: float):
    """The harness's stdout, its command line and exit status; cgroups always cleaned."""
    cmd = [str(binary), *args]
    command = harness_command(binary, args)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)    # the harness cleans up on SIGTERM
        try:
            proc.communicate(timeout=TERM_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        raise CalibrateError(f"{command}: no result within {timeout_s:.0f} s")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        remove_stale_cgroups(proc.pid)
    return out, err, command, proc.returncode


def run_harness(binary: Path, args: list[str], timeout_s: float):
    """stdout parsed into (records, taps), the command line and exit status."""
    out, err, command, rc = harness_stdout(binary, args, timeout_s)
    selfcheck_failed = args[0] == "selfcheck" and rc == 1    # reported by TAP
    if rc and not selfcheck_failed:
        last = (err.strip().splitlines() or [f"exit status {rc}"])[-1]
        raise CalibrateError(f"{command}: {last}")
    try:
        records, taps = parse(out, source=command)
    except HarnessOutputError as e:
        raise CalibrateError(str(e)) from None
    return records, taps, command, rc, reader_moves(out)


def median(rows: list[dict], key: str, **match) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None
              and all(r.get(k) == v for k, v in match.items())]
    return statistics.median(values) if values else None


def fmt(value, unit="", digits=1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{unit}"


def summarize(exp: str, rows: list[dict]) -> list[str]:
    """A few human lines per experiment (the CSVs hold everything)."""
    lines = []
    if exp == "callcost":
        for threads in sorted({r["threads"] for r in rows}):
            for size in sorted({r["size_bytes"] for r in rows}):
                v = median(rows, "ns_per_call", mode="vdso", size_bytes=size, threads=threads)
                s = median(rows, "ns_per_call", mode="syscall", size_bytes=size, threads=threads)
                lines.append(f"callcost threads={threads} size={size:>4} B: vdso {fmt(v, ' ns')}"
                             f"  syscall {fmt(s, ' ns')}")
    elif exp == "reseed":
        for state in ("clock", "warm", "zeroed", "dropped", "dropped_unread"):
            lines.append(f"reseed {state:>7}: {fmt(median(rows, 'ns_per_call', state=state), ' ns')}"
                         " per call (median, clock included)")
    elif exp == "idlecall":
        # Rows before the harness's --modes have no modes: all three took
        # turns; before its --companion, --read-first and --thread, none.
        # Runs repeated in several processes are summarized apart.
        repeated = {r.get("repeat") for r in rows} - {None, 0}
        rows = [r for r in rows if not r.get("repeat")]
        for modes, spin, companion, read, thread, gap in sorted(
                {(r.get("modes"), r["spin"], r.get("companion"), r.get("read_first"),
                  r.get("thread"), r["gap_ms"]) for r in rows},
                key=lambda k: (k[0] or "", k[1], k[2] or "", k[3] or 0, k[4] or 0, k[5])):
            def cost(mode: str) -> str:
                return fmt(median(rows, "ns_per_call", mode=mode, modes=modes, spin=spin,
                                  companion=companion, read_first=read, thread=thread,
                                  gap_ms=gap), " ns", 0)
            costs = "  ".join(f"{mode} {cost(mode)}"
                              for mode in (modes or "vdso,dropped,syscall").split(","))
            alone = f" {modes} alone" if modes and "," not in modes else ""
            busy = f" companion={companion}" if companion not in (None, "", "none") else ""
            first = " read first" if read == 1 else ""
            created = " created thread" if thread == 1 else ""
            lines.append(f"idlecall spin={spin}{alone}{busy}{first}{created} after {gap:>5} ms: "
                         f"{costs} (medians)")
        if repeated:
            lines.append(f"idlecall: settings repeated in {len(repeated)} processes "
                         "(python -m model costs sets them apart)")
    elif exp == "fault":
        for kind in dict.fromkeys(r["kind"] for r in rows):
            lines.append(f"fault {kind:>14}: {fmt(median(rows, 'ns_per_page', kind=kind), ' ns')}"
                         " per page")
    elif exp == "pressure":
        for r in rows:
            if r["sample"] == 0:
                lines.append(f"pressure {r['kind']:>9} {r['touch']:>4} L={r['limit_mib']:>3} "
                             f"D={r['droppable_mib']:>3} H={r['hog_mib']:>3} MiB: drop "
                             f"{fmt(r['drop_fraction'], '', 3)} holder={r['holder']} "
                             f"hog={r['hog']} oom_kills={r['memcg_oom_kills']}")
    elif exp in ("pressure_tlb", "pressure_walk"):
        groups = {}
        for r in rows:
            key = (r["kind"], r["touch"], r["hot_ms"], r["readers"], r["tlb_flush"], r["limit_mib"],
                   r["droppable_mib"], r["hog_mib"])
            groups.setdefault(key, []).append(r)
        for (kind, touch, hot_ms, readers, flush, limit, region, hog), rs in groups.items():
            drops = " ".join(fmt(r["drop_fraction"], "", 3) for r in rs)
            refaults = "" if touch != "write" else \
                " refaults " + " ".join(str(r["write_refaults"]) for r in rs)
            lines.append(f"{kind:>9} {touch:>5} every {hot_ms:>3} ms readers={readers} "
                         f"flush={flush:>5} L={limit:>3} D={region:>3} H={hog:>3}: "
                         f"drop {drops}{refaults}")
    elif exp == "states":
        for r in rows:
            lines.append(f"states {r['regime']:>11} {r['pattern']:>8} {r['layout'][:5]} "
                         f"K={r['per_page']:>2} seed={r['seed']} {r['rate_hz']:>7} Hz: "
                         f"zeroed {r['calls_zeroed']}/{r['calls']} calls, key lives "
                         f"{r['key_lives_dropped']}/{r['key_lives']} dropped; churn "
                         f"{fmt((r['churn_bytes_per_s'] or 0) / 2**20, ' MiB/s', 0)} "
                         f"failcnt={r['failcnt']} at_limit={r['usage_at_limit_frac']} "
                         f"oom={r['memcg_oom_kills']}")
    elif exp in ARMS:
        arm = ARMS[exp]
        for regime, value, rate in sorted({(r["regime"], r[arm], r["rate_hz"]) for r in rows}):
            fracs = [r["calls_zeroed"] / r["calls"] for r in rows
                     if (r["regime"], r[arm], r["rate_hz"]) == (regime, value, rate) and r["calls"]]
            lines.append(f"{exp} {regime} {arm}={value:>5} {rate:>7} Hz: zeroed fraction "
                         f"mean {statistics.fmean(fracs):.3f} over {len(fracs)} runs ("
                         + " ".join(f"{f:.2f}" for f in fracs) + ")")
        traced = [r for r in rows if r.get("sched_moves") not in (None, "") and r["rate_hz"] == 1]
        if traced:
            # one row a run (its 1 Hz class); the moves' kinds summed over runs
            kinds = ("wakeup", "softirq", "task", "idle", "stopper")
            total = sum(r["sched_moves"] for r in traced)
            lines.append(f"{exp}: {total} reader moves traced in {len(traced)} runs: "
                         + ", ".join(f"{k} {sum(r[f'sched_moves_{k}'] for r in traced)}"
                                     for k in kinds)
                         + f"; trace lost {sum(r['sched_trace_lost'] for r in traced)} events")
        for which in (*OTHER, *HARNESS_SPLITS):
            # level 2: did a wakeup over a harness task move the reader, by
            # the other CPU, by which harness task held the reader's, and
            # with the other idle, by the CPUs' recent busy share?
            runs = [r for r in traced if r.get(f"sched_wakeups_harness_{which}") not in (None, "")]
            if runs:
                woken = sum(r[f"sched_wakeups_harness_{which}"] for r in runs)
                placed = sum(r[f"sched_placed_harness_{which}"] for r in runs)
                lines.append(f"{exp}: wakeups over a harness task, {which}: {placed} of "
                             f"{woken} moved the reader ({len(runs)} runs)")
    elif exp == "states_reader":
        for r in rows:
            if r["rate_hz"] <= 1 and r["calls"]:
                lines.append(f"states_reader {r['regime']:>11} seed={r['seed']} {r['rate_hz']:>5} Hz: "
                             f"zeroed {r['calls_zeroed'] / r['calls']:.3f} of calls, refaults "
                             f"{r['refaults']} ({r['refaults_on_reader_cpu']} on the reader's CPU)")
    elif exp == "oomtouch":
        groups = {}
        for r in rows:
            groups.setdefault((r["victims"], r["hogs"], r["no_kill_by"]), []).append(r)
        for (victims, hogs, how), rs in groups.items():
            outcomes = {}
            for r in rs:
                key = f"{r['outcome']}/toucher={r['toucher']}/hogs_killed={r['hogs_oom_killed']}"
                outcomes[key] = outcomes.get(key, 0) + 1
            lines.append(f"oomtouch victims={victims} hogs={hogs} ({how}): "
                         + ", ".join(f"{n}x {k}" for k, n in sorted(outcomes.items())))
    elif exp in ("idlecall_code", "idlecall_curves"):
        # each setting, mode, call code and gap timed, one line (the gap 0 ms apart)
        for companion, thread, mode, code, gap in dict.fromkeys(
                (r["companion"], r["thread"], r["mode"], r["call_code"], r["gap_ms"])
                for r in rows if r["gap_ms"]):
            ns = median(rows, "ns_per_call", companion=companion, thread=thread, mode=mode,
                        call_code=code, gap_ms=gap)
            where = "lone" if companion == "none" else companion + (", created" if thread else "")
            lines.append(f"{exp} {where:>22} {mode:>7} call code {code:>6}: "
                         f"{fmt(ns, ' ns', 0)} after {gap / 1000:g} s (median of the calls)")
    elif exp == "states_prices":
        # each class's warm calls' mean, then by the gap since its page's last call
        bins = [c[len("warm_mate_"):-len("_calls")] for c in (rows[0] if rows else {})
                if c.startswith("warm_mate_") and c.endswith("_calls")]
        for r in rows:
            lines.append(f"states_prices {r['regime']:>7} {r['pattern']:>8} seed={r['seed']} "
                         f"{r['rate_hz']:>6} Hz {r['call']:>7}: {r['warm_call_ns_mean']} ns; "
                         "after the page's last call " + ", ".join(
                             f"<{b} {r[f'warm_mate_{b}_ns_mean']} ns ({r[f'warm_mate_{b}_calls']})"
                             for b in bins)
                         + f"; beside the reader {r['warm_beside_reader_ns_mean']} ns")
    elif exp == "states_probe":
        for r in rows:
            lines.append(f"states_probe seed={r['seed']} {r['rate_hz']:>6} Hz: warm call "
                         f"{r['warm_call_ns_mean']} ns; probe inline "
                         f"{r['probe_inline_call_ns_mean']} ns, in a function "
                         f"{r['probe_function_call_ns_mean']} ns (means)")
    elif exp == "idlecall_clock":
        dear = [r for r in rows if r["ns_per_call"] >= DEAR_NS]
        lines.append(f"idlecall_clock: {len(rows)} calls, {len(dear)} of "
                     f"{DEAR_NS / 1000:g} us or more"
                     + "".join(f"; {r['mode']} {r['ns_per_call']} ns, {r['thread_cpu_ns']} ns "
                               f"on its CPU" for r in dear))
    else:
        for r in rows:
            lines.append(f"{exp}: " + " ".join(f"{k}={v}" for k, v in r.items()
                                               if k not in COLUMNS))
    return lines


# The column each test of arms compares its runs by.
ARMS = {"states_tracer": "trace_ms", "states_placement": "placement",
        "states_mobility": "burn_duty", "states_hop": "reader_hop_ms",
        "states_churn": "churn_mib_s", "states_fastchurn": "churn_mib_s",
        "states_tlbflush": "tlb_flush_ms", "states_sched": "sched_trace"}

INTEGER = re.compile(r"-?[0-9]+")
REAL = re.compile(r"-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?|nan|-?inf")


def csv_value(text: str):
    """A CSV cell as the harness parser gave it: int, float, None or text,
    so that kept rows sort and summarize with new ones and write back the same."""
    if text == "":
        return None
    if INTEGER.fullmatch(text):
        return int(text)
    if REAL.fullmatch(text):
        return float(text)
    return text


def rows_by_command(path: Path) -> dict[str, list[dict]]:
    """An experiment's CSV rows grouped by their harness command line."""
    if not path.exists():
        return {}
    with open_csv(path) as f:
        rows = [{k: v if k in COLUMNS else csv_value(v) for k, v in row.items()}
                for row in csv.DictReader(f)]
    grouped = {}
    for row in rows:
        grouped.setdefault(row["command"], []).append(row)
    return grouped


# Rows a run writes beside its samples, before them (a run's rows never name
# side rows that are not written): a states run's reader moves, one row per
# move; a traced pressure run's memcg reclaim calls (measure.reclaim_walk).
SIDES = tuple(SIDE_SUFFIX)


def side_path(out: Path, exp: str, side: str) -> Path:
    return side_file(out / f"{exp}.csv", side)


def run_experiment(binary: Path, exp: str, arg_lists, plan: Plan, out: Path,
                   resume: bool = False):
    rows, skips, kept_runs = [], [], 0
    sides = {side: [] for side in SIDES}
    done = rows_by_command(out / f"{exp}.csv") if resume else {}
    done_sides = {side: rows_by_command(side_path(out, exp, side)) if resume else {}
                  for side in SIDES}
    for run, entry in enumerate(arg_lists):
        columns, args = entry if isinstance(entry, tuple) else ({}, entry)
        argv = [SUBCOMMAND.get(exp, exp), *args]
        command = harness_command(binary, argv)
        kept = done.get(command)
        if kept:
            rows += kept
            for side in SIDES:
                sides[side] += done_sides[side].get(command, [])
            kept_runs += 1
            continue
        busy = wait_for_quiet_cpu(plan.quiet_wait_s) if exp in TIMING else None
        # The burner stops (and is reaped) before others_busy() counts: its
        # CPU is ours, recorded as burn_cpu, not a disturbance.
        with others_busy() as others, cpu_use("sched_trace" in columns) as use, \
                burning(columns.get("burn_duty", 0.0)) as burn, \
                fast_disk(reads_fast_disk(args)), \
                vmscan_trace(exp in TRACED) as trace, \
                reader_trace(columns.get("sched_trace", 0)) as sched:
            records, _, command, _, run_moves = run_harness(binary, argv,
                                                            run_timeout_s(exp, args, plan))
        prov = provenance(command=command) | memory_setup() | columns | disk_columns(args)
        if "burn_duty" in columns:
            prov["burn_cpu"] = burn["burn_cpu"]
        if exp in TRACED:
            prov["trace_lost"] = trace["trace_lost"]
        prov |= use | sched
        if busy is not None:
            # run: which harness invocation, so repeated ones stay apart.
            prov |= {"cpu_busy_before": busy, **others, "run": run}
        for rec in records:
            (rows if rec.kind == "sample" else skips).append({**prov, **rec.fields})
        sides["moves"] += [{**prov, **move} for move in run_moves]
        sides["reclaim"] += [{**prov, **call} for call in trace["calls"]]
        if resume and rows:
            write_sides(out, exp, sides)
            write_csv_atomic(out / f"{exp}.csv", rows)
    if kept_runs:
        print(f"calibrate: {exp}: kept the rows of {kept_runs} runs already in {exp}.csv")
    for s in skips:
        print(f"calibrate: {exp}: skipped: {s.get('reason')} "
              f"({' '.join(f'{k}={v}' for k, v in s.items() if k in ('kind', 'mode', 'check', 'victims'))})")
    if rows:
        write_sides(out, exp, sides)
        write_csv_atomic(out / f"{exp}.csv", rows)
        for line in summarize(exp, rows):
            print(f"  {line}")
    if sides["reclaim"]:
        calls = [c for c in sides["reclaim"] if c["nr_scanned"]]
        walk = statistics.median(c["duration_ns"] / c["nr_scanned"] for c in calls)
        print(f"  {len(calls)} memcg reclaim calls that scanned: median {walk:.0f} ns "
              f"per page scanned")
    return rows, skips


def write_sides(out: Path, exp: str, sides: dict[str, list[dict]]) -> None:
    for side, rows in sides.items():
        if rows:
            write_csv_atomic(side_path(out, exp, side), rows)


def run_selfcheck(binary: Path, out: Path):
    records, taps, command, rc, _ = run_harness(binary, ["selfcheck"], 60)
    prov = provenance(command=command)
    failed = [t for t in taps if not t.ok and not t.skip]
    for t in taps:
        print(f"  {'ok' if t.ok or t.skip else 'NOT OK'} {t.number} {t.description}"
              + (f" # SKIP {t.skip}" if t.skip else ""))
    if failed or rc:
        raise CalibrateError(f"harness self-check failed: {failed[0].description if failed else rc}")
    write_csv_atomic(out / "selfcheck.csv", [
        {**prov, "test": t.number, "ok": int(t.ok), "skip": t.skip or "", "description": t.description}
        for t in taps])


def callcost_sizes(plan: Plan) -> list[int]:
    """The sizes callcost measures, for the openssl reference at the same sizes."""
    sizes = set()
    for args in plan.runs.get("callcost", []):
        sizes |= {int(x) for x in args[args.index("--sizes") + 1].split(",")}
    return sorted(sizes)


def run_chacha20(plan: Plan, out: Path) -> None:
    """openssl speed -evp chacha20 at callcost's sizes, into chacha20.csv."""
    if not openssl_speed.available():
        print("calibrate: chacha20: skipped: no openssl (scripts/debian-deps installs it)")
        return
    rows, version = [], openssl_speed.version()
    for run in range(plan.chacha20_runs):
        for size in callcost_sizes(plan):
            busy = wait_for_quiet_cpu(plan.quiet_wait_s)
            with others_busy() as others:
                result = openssl_speed.speed(size)
            prov = provenance(command=" ".join(openssl_speed.command(size)))
            rows.append({**prov, "cpu_busy_before": busy, **others, "run": run,
                         "openssl": version, **result})
    write_csv_atomic(out / "chacha20.csv", rows)
    for size in callcost_sizes(plan):
        rate = median(rows, "bytes_per_s", size_bytes=size)
        print(f"  chacha20 {size:>5} B: {fmt(rate / 1e6 if rate else None, ' MB/s', 0)} "
              f"(openssl speed, median of {plan.chacha20_runs})")


# The harness's side of each paired comparison run: bench-single's shape.
PAIRED_CALLCOST = ["callcost", "--sizes", "4", "--threads", "1", "--samples", "5",
                   "--sample-ms", "100"]


def run_selftest(binary: Path, plan: Plan, out: Path) -> bool:
    """The selftest's bench-single beside the harness; True when within AGREEMENT.

    Paired runs: each bench-single is followed at once by the harness's
    4-byte callcost, so that both see the same machine; the agreement is
    between the medians over all pairs.
    """
    peer_binary = selftest.build_selftest()
    rows, agree_rows, ok = [], [], True
    for i in range(plan.selftest_runs):
        busy = wait_for_quiet_cpu(plan.quiet_wait_s)
        with others_busy() as others:
            bench = selftest.bench_single(peer_binary)
        prov = provenance(command=f"{peer_binary.name} bench-single") | {
            "cpu_busy_before": busy, **others}
        rows += [{**prov, "source": "selftest", "mode": mode, "run": i, **v}
                 for mode, v in bench.items()]
        with others_busy() as others:
            records, _, command, _, _ = run_harness(binary, PAIRED_CALLCOST, plan.timeout_s)
        prov = provenance(command=command) | {"cpu_busy_before": busy, **others}
        rows += [{**prov, "source": "harness", "mode": r.fields["mode"], "run": i,
                  "calls": r.fields["calls"], "ns_per_call": r.fields["ns_per_call"]}
                 for r in records if r.kind == "sample"]
    prov = provenance(command="python -m measure.host (selftest comparison)")
    print(f"selftest agreement (4-byte calls, 1 thread, medians of {plan.selftest_runs} paired runs):")
    for mode in ("vdso", "syscall"):
        peer = median(rows, "ns_per_call", source="selftest", mode=mode)
        ours = median(rows, "ns_per_call", source="harness", mode=mode)
        if peer is None or ours is None:
            raise CalibrateError(f"selftest comparison: no {mode} result "
                                 f"({'selftest' if peer is None else 'harness'})")
        diff = selftest.agreement(peer, ours)
        within = abs(diff) <= selftest.AGREEMENT
        ok &= within
        print(f"  {mode:>7}: selftest {peer:8.1f} ns  harness {ours:8.1f} ns  "
              f"difference {diff:+.1%}  {'AGREE' if within else 'DISAGREE'} "
              f"(bound {selftest.AGREEMENT:.0%})")
        agree_rows.append({**prov, "mode": mode, "size_bytes": 4, "threads": 1,
                           "selftest_ns_per_call": round(peer, 2),
                           "harness_ns_per_call": round(ours, 2),
                           "relative_difference": round(diff, 4),
                           "bound": selftest.AGREEMENT, "agree": int(within)})
    write_csv_atomic(out / "selftest.csv", rows)
    write_csv_atomic(out / "selftest_agreement.csv", agree_rows)
    return ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m measure.host", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few samples (tests)")
    ap.add_argument("--out", type=Path, default=REPO / "data" / "host")
    ap.add_argument("--only", help="comma-separated experiments to run (selftest: the peer check)")
    ap.add_argument("--no-lock", action="store_true", help=f"do not take {CPU_LOCK}")
    ap.add_argument("--no-selftest", action="store_true", help="skip the kernel selftest peer")
    ap.add_argument("--quiet-wait-s", type=float,
                    help="longest wait for idle CPUs before each timing run")
    ap.add_argument("--resume", action="store_true",
                    help="keep the rows of runs already in the CSVs; run only the others")
    args = ap.parse_args(argv)
    plan = quick_plan() if args.quick else full_plan()
    if args.quiet_wait_s is not None:
        plan.quiet_wait_s = args.quiet_wait_s
    known = [*plan.runs, "chacha20", "selftest"]
    only = set(args.only.split(",")) if args.only else set(known)
    if args.no_selftest:
        only.discard("selftest")
    unknown = only - set(known)
    if unknown:
        print(f"error: --only: unknown experiment {sorted(unknown)[0]!r} "
              f"(known: {', '.join(known)})", file=sys.stderr)
        return 2
    try:
        binary = build_harness()
        print(f"calibrate: {binary} on {provenance()['kernel_release']}")
        with cpu_lock(not args.no_lock):
            run_selfcheck(binary, args.out)
            for exp, arg_lists in plan.runs.items():
                why_not = unavailable() if exp in TRACED else None
                if exp in only and why_not:
                    print(f"calibrate: {exp}: skipped: {why_not}")
                elif exp in only:
                    started = time.monotonic()
                    print(f"calibrate: {exp} ({len(arg_lists)} runs)", flush=True)
                    run_experiment(binary, exp, arg_lists, plan, args.out, args.resume)
                    print(f"calibrate: {exp} took {time.monotonic() - started:.1f} s")
                if exp == "callcost" and "chacha20" in only:
                    run_chacha20(plan, args.out)
            agree = True
            if "selftest" in only:
                agree = run_selftest(binary, plan, args.out)
    except (CalibrateError, TraceError, FastDiskError, selftest.SelftestError,
            openssl_speed.OpensslError, ValueError, OSError, subprocess.CalledProcessError,
            subprocess.TimeoutExpired) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; " + ("the interrupted experiment's finished runs are in "
                                        "its CSV, --resume runs the rest" if args.resume else
                                        "no CSV of the interrupted experiment was written"),
              file=sys.stderr)
        return 130
    print(f"calibrate: wrote {args.out}")
    if not agree:
        print("error: harness and kernel selftest disagree by more than "
              f"{selftest.AGREEMENT:.0%}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
