"""What moves the churn reader between CPUs, from the scheduler's own tracepoints.

The model predicts a timer-locked page from the reader's moves, taken as
measured, and those moves are the input that differs most between sittings
of one arm (the split-prices test's 2304 MiB/s arm: 5.6 moves a second,
median, in one sitting and 37.4 in the next, same machine, build and pace).
While a harness run goes on, this traces the reader alone (the harness
names it READER_COMM) at two points of kernel/sched/core.c:

- sched_waking, at the start of try_to_wake_up(), in the waker's context:
  the line's task is what ran on that CPU, its flags whether in a hardirq
  or a softirq (a timer, an I/O completion);
- sched_migrate_task, in set_task_cpu(): a wakeup's placement
  (select_task_rq() in the same try_to_wake_up(), right after its
  sched_waking), or a balancer pulling the task with no wakeup before it:
  the load balancer's softirq (sched_balance_softirq(), kernel/sched/
  fair.c), a newly idle CPU's balancing or the migration stopper.

A move is counted "at wakeup" when the same context's sched_waking of the
reader came just before it on that CPU (reader_moves()).  At level 2 the
trace also records every CPU's idle transitions (sched_switch to or from
the idle task, all tasks): whether another CPU was idle when the reader
was woken, which is what select_idle_sibling() (kernel/sched/fair.c) looks
for when the CPU the reader last ran on is busy; and each line's tgid
(record-tgid), which tells a harness task that is its process's first
thread (the main process) from the states threads.  Where the
CPUs' time went is counted apart (cpu_by_task()): every task's utime +
stime from /proc before and after, grouped by kind, so that the "others'
CPU" of the states rows can be named.

The trace runs in a tracefs instance of its own (nothing of the top-level
buffer or anyone else's instance is touched), removed on every exit path;
tracefs is mounted for the run if it is not.  A trace that lost events says
so (sched_trace_lost).  Scope: the running kernel (here 6.18, two CPUs, a
VM); what the scheduler does with two CPUs need not be what it does with
more.
"""
from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from .reclaim_walk import TRACEFS, TraceError, _fields, _write, lost_events, mounted

READER_COMM = "vgr-reader"      # kernel-patches/harness: the reader's prctl(PR_SET_NAME)
EVENTS = ("sched_waking", "sched_migrate_task")
# Level 2: the idle task's switches on every CPU, in and out
IDLE_EVENT, IDLE_FILTER = "sched_switch", "prev_pid == 0 || next_pid == 0"
# per CPU: ~40 bytes an event, a few thousand reader wakeups a second; at
# level 2 each CPU's idle periods too, two events each, thousands a second
BUFFER_KB = {1: 65536, 2: 262144}
OTHER = ("otheridle", "otherbusy")      # other_cpus()
WHO = ("leader", "thread")              # a harness task: its process's first thread or not
# The CPUs' recent busy share at a wakeup (llc_busy()), a stand-in for the
# LLC utilization by which update_idle_cpu_scan() (kernel/sched/fair.c,
# SIS_UTIL) stops select_idle_cpu()'s scan for an idle CPU: PELT's
# half-life (kernel/sched/pelt.c, y^32 = 1/2 over 1 ms periods), and the
# mean busy share above which two CPUs of one LLC (imbalance_pct 117) are
# scanned for none (x > 1024 * 100 / 117 / sqrt(2), as a share: 0.604).
BUSY_HALF_LIFE_S = 0.032
BUSY_CUTOFF = 0.604
BUSY = ("busylow", "busyhigh")          # llc_busy()
# the harness wakeups' own splits: by thread group, and the idle-other ones by busy share
HARNESS_SPLITS = (*WHO, *(f"otheridle_{busy}" for busy in BUSY))
# try_to_wake_up(): its sched_waking, then select_task_rq() and set_task_cpu();
# microseconds apart, traced (a bound, not a measured gap)
WAKE_TO_MOVE_S = 100e-6
# comm-pid, at level 2 "(tgid)" ("(-------)" where unknown), [cpu], flags, time
LINE = re.compile(r"\s*(?P<comm>.+?)-(?P<pid>\d+)\s+(?:\(\s*(?P<tgid>[\d-]+)\)\s+)?"
                  r"\[(?P<cpu>\d+)\]\s+(?P<flags>\S+)\s+(?P<t>[\d.]+): "
                  r"(?P<event>\w+): (?P<rest>.*)")
HARNESS_COMM = "vgetrandom-harn"    # the harness's processes (comm is 15 bytes at most)
KINDS = ("idle", "kworker", "harness", "stopper", "other")     # context_kind()
PF_KTHREAD = 0x00200000             # include/linux/sched.h


def context_kind(comm: str) -> str:
    """What ran on the CPU where a traced event fired (the line's task):
    idle, a kworker, the harness's own tasks (its states threads, or its
    main process, which in a states window looks at the memcg ten times a
    second, MONITOR_NS in the harness: one comm, told apart only by tgid
    at level 2), the migration stopper, or other."""
    if comm in ("<idle>", "swapper") or comm.startswith("swapper/"):
        return "idle"
    if comm.startswith("kworker/"):
        return "kworker"
    if comm == HARNESS_COMM:
        return "harness"
    if comm.startswith("migration/"):
        return "stopper"
    return "other"


def interrupt(flags: str) -> str:
    """The trace line's hardirq/softirq column (the third of its flags):
    hardirq ('h', 'H': in a softirq), softirq ('s'), or task context."""
    mark = flags[2] if len(flags) > 2 else "."
    return "hardirq" if mark in "hH" else "softirq" if mark == "s" else "task"


def other_cpus(idle: dict[int, bool], cpu: int, cpus: int) -> str | None:
    """"otheridle" if a CPU other than `cpu` was idle, "otherbusy" if none
    was, None while some other CPU has had no idle transition traced yet
    (`idle`: each CPU's state after its last one)."""
    others = [idle.get(c) for c in range(cpus) if c != cpu]
    if any(others):
        return "otheridle"
    return "otherbusy" if all(o is False for o in others) else None


def decayed(share: float, busy: bool, dt: float) -> float:
    """A CPU's recent busy share after `dt` seconds busy or idle: the old
    share decays with BUSY_HALF_LIFE_S, as PELT's averages do."""
    keep = 0.5 ** (dt / BUSY_HALF_LIFE_S)
    return share * keep + (1 - keep) * busy


def llc_busy(recent: dict[int, tuple[float, float, float]], idle: dict[int, bool],
             t: float, cpus: int) -> str | None:
    """"busyhigh" if the CPUs' mean recent busy share at `t` is BUSY_CUTOFF
    or more, "busylow" if less; None until every CPU has had ten half-lives
    since its first idle transition (`recent`: each CPU's (time of its
    last transition, share then, time of its first); `idle`: whether it
    has been idle since, as other_cpus() reads it)."""
    if len(recent) < cpus or any(t - first < 10 * BUSY_HALF_LIFE_S
                                 for _, _, first in recent.values()):
        return None
    mean = sum(decayed(share, not idle[cpu], t - since)
               for cpu, (since, share, _) in recent.items()) / cpus
    return BUSY[mean >= BUSY_CUTOFF]


def reader_moves(text: str, comm: str = READER_COMM, cpus: int | None = None) -> dict:
    """A trace's reader wakeups and moves, counted (columns of a row).

    sched_wakeups, and of them those in a softirq or a hardirq; sched_moves,
    and of them: _wakeup, placed at a wakeup (its sched_migrate_task on the
    same CPU, in the same context, within WAKE_TO_MOVE_S of the reader's
    sched_waking); _softirq, not at a wakeup, in a softirq (the load
    balancer's SCHED_SOFTIRQ, kernel/sched/fair.c: sched_balance_softirq());
    _task, not at a wakeup, in task context (a newly idle CPU's balancing,
    the migration stopper, fork).  Whichever way, by what ran on the CPU
    where it was made (context_kind()): sched_moves_idle, _kworker,
    _harness, _stopper (migration/N: sched_setaffinity(), an active
    balance) and _other; and the wakeups so, sched_wakeups_idle etc.  For
    a wakeup in a hardirq (the reader's timer) that is the task the
    interrupt found on the reader's CPU.

    With `cpus` (a level-2 trace, its idle transitions in it), each wakeup
    by what ran there and whether another CPU was idle (other_cpus()):
    sched_wakeups_KIND_otheridle / _otherbusy, and of them those that
    moved the reader, sched_placed_KIND_otheridle / _otherbusy;
    sched_idle_switches, the idle transitions traced (none on CPUs kept
    busy throughout); and the harness's wakeups by which of its tasks ran
    there, from the line's tgid (record-tgid): sched_wakeups_harness_leader
    (a process's first thread: the harness's main process, which looks at
    the memcg ten times a second, or the caller process's, which waits for
    its threads) or _thread (the caller process's other threads, the
    states threads), and of them those that moved it, sched_placed_...;
    neither where the tgid is unknown.  And the wakeups over a harness task
    with another CPU idle, by the CPUs' recent busy share (llc_busy()):
    sched_wakeups_harness_otheridle_busylow / _busyhigh, and of them those
    that moved it, sched_placed_harness_otheridle_...
    """
    counts = dict.fromkeys(("sched_wakeups", "sched_wakeups_softirq", "sched_wakeups_hardirq",
                            "sched_moves", "sched_moves_wakeup", "sched_moves_softirq",
                            "sched_moves_task"), 0)
    counts |= {f"sched_{what}_{kind}": 0 for what in ("moves", "wakeups") for kind in KINDS}
    if cpus:
        counts |= {f"sched_{what}_{kind}_{other}": 0 for what in ("wakeups", "placed")
                   for kind in KINDS for other in OTHER} | {"sched_idle_switches": 0}
        counts |= {f"sched_{what}_harness_{who}": 0 for what in ("wakeups", "placed")
                   for who in HARNESS_SPLITS}
    waking: dict[int, tuple] = {}   # trace CPU -> (t, context pid, kind, other, who, busy)
    idle: dict[int, bool] = {}      # trace CPU -> idle after its last idle transition
    recent: dict[int, tuple] = {}   # trace CPU -> llc_busy()'s (since, share, first)
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        fields = _fields(m["rest"])
        if m["event"] == IDLE_EVENT:
            if cpus:
                cpu, t = int(m["cpu"]), float(m["t"])
                since, share, first = recent.get(cpu, (t, 0.5, t))
                recent[cpu] = (t, decayed(share, not idle.get(cpu), t - since), first)
                idle[cpu] = fields.get("next_pid") == "0"
                counts["sched_idle_switches"] += 1
            continue
        if fields.get("comm") != comm:
            continue
        ctx_comm, ctx_pid, cpu, t, event = (m["comm"], int(m["pid"]), int(m["cpu"]),
                                             float(m["t"]), m["event"])
        where = interrupt(m["flags"])
        kind = context_kind(ctx_comm)
        if event == "sched_waking":
            counts["sched_wakeups"] += 1
            counts[f"sched_wakeups_{kind}"] += 1
            if where != "task":
                counts[f"sched_wakeups_{where}"] += 1
            other = other_cpus(idle, cpu, cpus) if cpus else None
            if other:
                counts[f"sched_wakeups_{kind}_{other}"] += 1
            tgid = m["tgid"] or ""        # "" without record-tgid, dashes where unknown
            who = (WHO[int(tgid) != ctx_pid] if cpus and kind == "harness" and tgid.isdigit()
                   else None)
            if who:
                counts[f"sched_wakeups_harness_{who}"] += 1
            busy = (llc_busy(recent, idle, t, cpus)
                    if kind == "harness" and other == "otheridle" else None)
            if busy:
                counts[f"sched_wakeups_harness_otheridle_{busy}"] += 1
            waking[cpu] = (t, ctx_pid, kind, other, who, busy)
        elif event == "sched_migrate_task":
            counts["sched_moves"] += 1
            counts[f"sched_moves_{kind}"] += 1
            at = waking.pop(cpu, None)
            woken = at is not None and at[1] == ctx_pid and t - at[0] <= WAKE_TO_MOVE_S
            how = "wakeup" if woken else "softirq" if where == "softirq" else "task"
            counts[f"sched_moves_{how}"] += 1
            if woken and at[3]:
                counts[f"sched_placed_{at[2]}_{at[3]}"] += 1
            if woken and at[4]:
                counts[f"sched_placed_harness_{at[4]}"] += 1
            if woken and at[5]:
                counts[f"sched_placed_harness_otheridle_{at[5]}"] += 1
    return counts


@contextlib.contextmanager
def reader_trace(level: int = 1, tracefs: Path = TRACEFS, comm: str = READER_COMM):
    """Trace the reader's wakeups and moves while the block runs, in an
    instance of its own; at level 2 every CPU's idle transitions too, and
    each line's tgid (to tell the harness's tasks apart), none at 0.
    Yields a dict filled at the end with reader_moves()'s counts and
    sched_trace_lost."""
    result: dict = {}
    if not level:
        yield result
        return
    with mounted(tracefs, tracefs / "instances"):
        instance = tracefs / "instances" / f"vgetrandom-study-{os.getpid()}"
        try:
            instance.mkdir()
        except OSError as e:
            raise TraceError(f"cannot make the tracefs instance {instance}: {e}") from e
        try:
            _write(instance / "tracing_on", "0")
            _write(instance / "trace_clock", "mono")
            _write(instance / "buffer_size_kb", str(BUFFER_KB[level]))
            filters = {event: f'comm == "{comm}"' for event in EVENTS}
            if level >= 2:
                filters[IDLE_EVENT] = IDLE_FILTER
                _write(instance / "options" / "record-tgid", "1")
            for event, where in filters.items():
                sched = instance / "events" / "sched" / event
                _write(sched / "filter", where)
                _write(sched / "enable", "1")
            _write(instance / "tracing_on", "1")
            yield result
            _write(instance / "tracing_on", "0")
            text = (instance / "trace").read_text()
            cpus = os.cpu_count() if level >= 2 else None
            result |= reader_moves(text, comm, cpus) | {"sched_trace_lost": lost_events(text)}
        finally:
            with contextlib.suppress(OSError):
                _write(instance / "tracing_on", "0")
            # rmdir of an instance frees its buffers and turns its events off.
            instance.rmdir()


def task_times(proc: Path = Path("/proc")) -> dict[tuple[int, int], tuple[str, bool, int]]:
    """Every task's (comm, kernel thread?, utime + stime in ticks), by (pid, tid)."""
    times = {}
    for stat in proc.glob("[0-9]*/task/[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue            # gone since the listing
        comm = text[text.index("(") + 1:text.rindex(")")]
        f = text[text.rindex(")") + 2:].split()
        # fields 3.. of proc(5) from f[0]: flags is field 9, utime 14, stime 15
        times[(int(stat.parts[-4]), int(stat.parts[-2]))] = (
            comm, bool(int(f[6]) & PF_KTHREAD), int(f[11]) + int(f[12]))
    return times


def task_kind(comm: str, kthread: bool) -> str:
    """A task's kind for cpu_by_task(): kworker, ksoftirqd, kswapd, other
    kernel threads, the harness's own processes, other processes."""
    for name in ("kworker", "ksoftirqd", "kswapd"):
        if kthread and comm.startswith(name):
            return name
    if kthread:
        return "kthread_other"
    return "harness" if comm in (HARNESS_COMM, READER_COMM) else "user_other"


def cpu_by_task(before: dict, after: dict, ticks_per_s: int) -> dict:
    """CPU seconds each kind of task used between two task_times(), as
    columns cpu_s_KIND.  Tasks that ended between the two are missed (the
    harness's own are, being gone by the end: the rows' own columns count
    them); tasks begun between them count from zero."""
    used: dict[str, float] = {}
    for key, (comm, kthread, ticks) in after.items():
        delta = ticks - before.get(key, (comm, kthread, 0))[2]
        kind = task_kind(comm, kthread)
        used[kind] = used.get(kind, 0) + max(delta, 0)
    kinds = ("kworker", "ksoftirqd", "kswapd", "kthread_other", "user_other")
    return {f"cpu_s_{k}": round(used.get(k, 0) / ticks_per_s, 2) for k in kinds}


@contextlib.contextmanager
def cpu_use(enabled: bool = True):
    """cpu_by_task() over the block: yields a dict filled at the end."""
    result: dict = {}
    if not enabled:
        yield result
        return
    before = task_times()
    yield result
    result |= cpu_by_task(before, task_times(), os.sysconf("SC_CLK_TCK"))
