"""measure.sched_trace: the reader's wakeups and moves from a scheduler trace,
and where the CPUs' time went."""
import re

from measure import sched_trace
from measure.sched_trace import cpu_by_task, interrupt, reader_moves, task_kind, task_times

HEADER = """# tracer: nop
#
# entries-in-buffer/entries-written: 9/9   #P:2
#
"""


def line(ctx, cpu, flags, t, event, comm="vgr-reader", pid=2286, rest=None):
    if rest is None:
        rest = ("target_cpu=000" if event == "sched_waking"
                else "orig_cpu=0 dest_cpu=1")
    return (f"{ctx:>20} [{cpu:03d}] {flags} {t:.6f}: {event}: comm={comm} pid={pid} "
            f"prio=120 {rest}")


def test_context_kind_names_what_ran_where_an_event_fired():
    assert sched_trace.context_kind("<idle>") == "idle"
    assert sched_trace.context_kind("swapper/1") == "idle"
    assert sched_trace.context_kind("kworker/u8:3") == "kworker"
    assert sched_trace.context_kind("vgetrandom-harn") == "harness"
    assert sched_trace.context_kind("migration/0") == "stopper"
    assert sched_trace.context_kind("ksoftirqd/0") == "other"


def test_interrupt_reads_the_hardirq_softirq_column_of_the_flags():
    assert interrupt("d.h2.") == "hardirq"
    assert interrupt("d.H2.") == "hardirq"
    assert interrupt("d.s3.") == "softirq"
    assert interrupt("dNs1.") == "softirq"
    assert interrupt("d..2.") == "task"


def test_reader_moves_tells_a_wakeup_s_placement_from_a_balancer_s_pull():
    text = HEADER + "\n".join([
        # woken in ksoftirqd and placed elsewhere in the same call: at wakeup
        line("ksoftirqd/0-14", 0, "d.s3.", 100.000000, "sched_waking"),
        line("ksoftirqd/0-14", 0, "d.s3.", 100.000010, "sched_migrate_task"),
        # an idle CPU's balancing softirq pulls it, no wakeup before
        line("<idle>-0", 1, "d.s2.", 100.100000, "sched_migrate_task"),
        # a wakeup that did not move it, then, long after, a pull in task
        # context by the same task on that CPU: not the wakeup's
        line("kworker/u8:3-1800", 0, "d..2.", 100.200000, "sched_waking"),
        line("kworker/u8:3-1800", 0, "d..2.", 100.300000, "sched_migrate_task"),
        # a timer's wakeup (hardirq) placed by another context: not at wakeup
        line("python-730", 1, "d.h2.", 100.400000, "sched_waking"),
        line("vgetrandom-harn-2195", 1, "d..2.", 100.400005, "sched_migrate_task"),
        # the stopper (sched_setaffinity) wakes it onto its new CPU
        line("migration/1-23", 1, "d..4.", 100.450000, "sched_waking"),
        line("migration/1-23", 1, "d..4.", 100.450003, "sched_migrate_task"),
        # another task's events are not the reader's
        line("<idle>-0", 1, "d.s2.", 100.500000, "sched_migrate_task", comm="vgetrandom-harn"),
        line("<idle>-0", 1, "d.h2.", 100.500000, "sched_waking", comm="vgetrandom-harn"),
    ]) + "\n"
    assert reader_moves(text) == {
        "sched_wakeups": 4, "sched_wakeups_softirq": 1, "sched_wakeups_hardirq": 1,
        "sched_moves": 5, "sched_moves_wakeup": 2, "sched_moves_softirq": 1,
        "sched_moves_task": 2,
        # what ran where each was made (python-730, the timer's interrupted task: other)
        "sched_moves_idle": 1, "sched_moves_kworker": 1, "sched_moves_harness": 1,
        "sched_moves_stopper": 1, "sched_moves_other": 1,
        "sched_wakeups_idle": 0, "sched_wakeups_kworker": 1, "sched_wakeups_harness": 0,
        "sched_wakeups_stopper": 1, "sched_wakeups_other": 2}


def switch(cpu, t, prev, next_):
    """A sched_switch line on `cpu` from task (comm, pid) `prev` to `next_`."""
    return (f"{prev[0]:>16}-{prev[1]} [{cpu:03d}] d..2. {t:.6f}: sched_switch: "
            f"prev_comm={prev[0]} prev_pid={prev[1]} prev_prio=120 prev_state=R ==> "
            f"next_comm={next_[0]} next_pid={next_[1]} next_prio=120")


IDLE0, IDLE1, KWORKER, HARN = ("swapper/0", 0), ("swapper/1", 0), ("kworker/u8:3", 1800), \
    ("vgetrandom-harn", 2195)


def test_reader_moves_at_level_2_says_whether_the_other_cpu_was_idle_at_each_wakeup():
    """Each CPU's idle transitions set its state; a reader wakeup counts by
    what ran on its CPU and whether the other was idle, and so does its
    placement when it moved the reader; before the other CPU's first
    transition it counts in neither."""
    text = HEADER + "\n".join([
        # CPU 1 not seen yet: a harness wakeup on CPU 0 that moves the reader, unknown
        line("vgetrandom-harn-2195", 0, "d.h2.", 100.000000, "sched_waking"),
        line("vgetrandom-harn-2195", 0, "d.h2.", 100.000010, "sched_migrate_task"),
        switch(1, 100.100000, KWORKER, IDLE1),           # CPU 1 goes idle
        line("vgetrandom-harn-2195", 0, "d.h2.", 100.200000, "sched_waking"),
        line("vgetrandom-harn-2195", 0, "d.h2.", 100.200010, "sched_migrate_task"),
        switch(1, 100.300000, IDLE1, KWORKER),           # CPU 1 busy again
        line("vgetrandom-harn-2195", 0, "d.h2.", 100.400000, "sched_waking"),   # stays
        switch(0, 100.500000, HARN, IDLE0),              # CPU 0 idle: an idle wakeup
        line("<idle>-0", 0, "d.h2.", 100.600000, "sched_waking"),
        # another task's switch, neither side idle: changes nothing
        switch(1, 100.700000, KWORKER, HARN),
        line("vgetrandom-harn-2195", 1, "d.h2.", 100.800000, "sched_waking"),
    ]) + "\n"
    counts = reader_moves(text, cpus=2)
    assert counts["sched_wakeups"] == 5 and counts["sched_moves_wakeup"] == 2
    crossed = {k: v for k, v in counts.items()
               if k.endswith(sched_trace.OTHER) and v}
    # the second wakeup (CPU 1 idle) moved it, the third (busy) not, the
    # last (on CPU 1, CPU 0 idle since 100.5) not
    assert crossed == {"sched_wakeups_harness_otheridle": 2, "sched_placed_harness_otheridle": 1,
                       "sched_wakeups_harness_otherbusy": 1, "sched_wakeups_idle_otherbusy": 1}
    assert counts["sched_idle_switches"] == 4
    # no tgid on the lines: no harness task told apart
    assert all(counts[f"sched_{what}_harness_{who}"] == 0 for what in ("wakeups", "placed")
               for who in sched_trace.WHO)
    # level 1 (no cpus): the same counts, no columns of the other CPU
    plain = reader_moves(text)
    assert plain == {k: v for k, v in counts.items()
                     if not k.endswith((*sched_trace.OTHER, *sched_trace.WHO, *sched_trace.BUSY))
                     and k != "sched_idle_switches"}
    # no CPU traced for ten half-lives before a wakeup with the other idle: no busy share
    assert all(counts[f"sched_{what}_harness_otheridle_{busy}"] == 0
               for what in ("wakeups", "placed") for busy in sched_trace.BUSY)


def test_llc_busy_decays_each_cpu_s_busy_share_with_pelt_s_half_life():
    """A CPU's share moves halfway to busy (1) or idle (0) every half-life;
    the mean over the CPUs against the cutoff names the bucket, none until
    every CPU has been traced ten half-lives."""
    h = sched_trace.BUSY_HALF_LIFE_S
    assert sched_trace.decayed(0.0, True, h) == 0.5
    assert sched_trace.decayed(1.0, False, 2 * h) == 0.25
    # CPU 0 busy and CPU 1 idle since 20 half-lives: mean 0.5, low
    recent, idle = {0: (0.0, 0.0, 0.0), 1: (0.0, 1.0, 0.0)}, {0: False, 1: True}
    assert sched_trace.llc_busy(recent, idle, 20 * h, 2) == "busylow"
    # both busy: high; one CPU missing or traced too briefly: unknown
    recent[1], idle[1] = (0.0, 0.0, 0.0), False
    assert sched_trace.llc_busy(recent, idle, 20 * h, 2) == "busyhigh"
    assert sched_trace.llc_busy({0: recent[0]}, idle, 20 * h, 2) is None
    assert sched_trace.llc_busy(recent, idle, 5 * h, 2) is None


def test_reader_moves_at_level_2_counts_idle_placements_by_the_cpus_recent_busy_share():
    """A wakeup over a harness task with the other CPU idle counts by the
    CPUs' recent busy share (llc_busy()), and so does its placement."""
    h = sched_trace.BUSY_HALF_LIFE_S
    text = HEADER + "\n".join([
        switch(0, 100.0, IDLE0, HARN),                   # CPU 0 busy from 100 s
        switch(1, 100.0, IDLE1, KWORKER),                # CPU 1 busy too
        switch(1, 100.0 + 20 * h, KWORKER, IDLE1),       # CPU 1 idle after 20 half-lives
        # at once: both CPUs' shares near 1, so high; it moves the reader
        line("vgetrandom-harn-2195", 0, "d.h2.", 100.0 + 20 * h + 1e-4, "sched_waking"),
        line("vgetrandom-harn-2195", 0, "d.h2.", 100.0 + 20 * h + 1.1e-4,
             "sched_migrate_task"),
        # 20 half-lives later CPU 1's share is near 0: mean near 0.5, low; it stays
        line("vgetrandom-harn-2195", 0, "d.h2.", 100.0 + 40 * h, "sched_waking"),
    ]) + "\n"
    counts = reader_moves(text, cpus=2)
    assert {k: v for k, v in counts.items() if k.endswith(sched_trace.BUSY)} == {
        "sched_wakeups_harness_otheridle_busyhigh": 1,
        "sched_placed_harness_otheridle_busyhigh": 1,
        "sched_wakeups_harness_otheridle_busylow": 1,
        "sched_placed_harness_otheridle_busylow": 0}


def test_reader_moves_at_level_2_tells_the_harness_s_threads_from_its_leaders_by_tgid():
    """With record-tgid each line names its task's process: a harness task
    whose pid is its tgid is a process's first thread (the main
    process), another is a states thread; an unknown tgid counts as neither."""
    def tgid_line(ctx, tgid, cpu, t, event):
        with_tgid = line(ctx, cpu, "d.h2.", t, event)
        return with_tgid.replace(f" [{cpu:03d}]", f" ({tgid:>7}) [{cpu:03d}]", 1)
    text = HEADER + "\n".join([
        switch(1, 99.0, KWORKER, IDLE1),
        tgid_line("vgetrandom-harn-2195", "2195", 0, 100.000000, "sched_waking"),  # leader
        tgid_line("vgetrandom-harn-2195", "2195", 0, 100.000010, "sched_migrate_task"),
        tgid_line("vgetrandom-harn-2301", "2290", 0, 100.100000, "sched_waking"),  # a thread
        tgid_line("vgetrandom-harn-2301", "2290", 0, 100.100010, "sched_migrate_task"),
        tgid_line("vgetrandom-harn-2302", "2290", 0, 100.200000, "sched_waking"),  # stays
        tgid_line("vgetrandom-harn-2303", "-------", 0, 100.300000, "sched_waking"),
        tgid_line("kworker/u8:3-1800", "1800", 0, 100.400000, "sched_waking"),      # not harness
    ]) + "\n"
    counts = reader_moves(text, cpus=2)
    assert counts["sched_wakeups"] == 5 and counts["sched_wakeups_harness"] == 4
    assert {k: v for k, v in counts.items() if k.endswith(sched_trace.WHO)} == {
        "sched_wakeups_harness_leader": 1, "sched_wakeups_harness_thread": 2,
        "sched_placed_harness_leader": 1, "sched_placed_harness_thread": 1}


def test_other_cpus_needs_every_other_cpu_known_to_say_busy():
    assert sched_trace.other_cpus({}, 0, 2) is None
    assert sched_trace.other_cpus({1: True}, 0, 2) == "otheridle"
    assert sched_trace.other_cpus({1: False}, 0, 2) == "otherbusy"
    assert sched_trace.other_cpus({0: True}, 0, 2) is None        # its own CPU is not other
    assert sched_trace.other_cpus({1: False}, 0, 3) is None       # CPU 2 unknown
    assert sched_trace.other_cpus({2: True}, 0, 3) == "otheridle"


def test_reader_moves_of_an_empty_trace_are_zero():
    counts = reader_moves(HEADER)
    assert set(counts.values()) == {0} and "sched_moves" in counts


def test_task_kind_names_kernel_threads_and_the_harness():
    assert task_kind("kworker/u8:1-loop0", True) == "kworker"
    assert task_kind("ksoftirqd/1", True) == "ksoftirqd"
    assert task_kind("kswapd0", True) == "kswapd"
    assert task_kind("rcu_preempt", True) == "kthread_other"
    assert task_kind("vgr-reader", False) == "harness"
    assert task_kind("python", False) == "user_other"
    # a user process may call itself kworker; the flag decides
    assert task_kind("kworker", False) == "user_other"


def test_cpu_by_task_counts_what_each_kind_used_between_two_snapshots():
    before = {(10, 10): ("kworker/u8:1-loop0", True, 100), (20, 21): ("python", False, 50),
              (30, 30): ("gone", False, 999)}
    after = {(10, 10): ("kworker/u8:1-loop0", True, 350), (20, 21): ("python", False, 60),
             (40, 40): ("ksoftirqd/0", True, 20), (50, 50): ("vgr-reader", False, 900)}
    assert cpu_by_task(before, after, ticks_per_s=100) == {
        "cpu_s_kworker": 2.5, "cpu_s_ksoftirqd": 0.2, "cpu_s_kswapd": 0.0,
        "cpu_s_kthread_other": 0.0, "cpu_s_user_other": 0.1}


def test_task_times_reads_comm_kernel_flag_and_ticks_from_proc(tmp_path):
    # proc(5): pid (comm) state ppid ... flags(9) ... utime(14) stime(15)
    def stat(pid, tid, comm, flags, utime, stime):
        path = tmp_path / str(pid) / "task" / str(tid) / "stat"
        path.parent.mkdir(parents=True)
        fields = ["S", "1", "0", "0", "0", "-1", str(flags), "0", "0", "0", "0",
                  str(utime), str(stime), "0", "0", "20", "0", "1", "0", "5"]
        path.write_text(f"{pid} ({comm}) " + " ".join(fields) + "\n")
    stat(14, 14, "ksoftirqd/0", sched_trace.PF_KTHREAD | 0x40, 3, 30)
    stat(700, 701, "a (b) c", 0x400000, 11, 4)       # a comm with spaces and parens
    assert task_times(tmp_path) == {(14, 14): ("ksoftirqd/0", True, 33),
                                    (700, 701): ("a (b) c", False, 15)}


def test_untraced_blocks_yield_nothing_and_touch_nothing(tmp_path):
    with sched_trace.reader_trace(False, tracefs=tmp_path) as result:
        pass
    assert result == {} and list(tmp_path.iterdir()) == []
    with sched_trace.cpu_use(False) as used:
        pass
    assert used == {}


def test_validate_s_sched_note_counts_the_traced_runs_moves_as_the_csv_has_them(tmp_path):
    """validate's note on the scheduler test: its traced runs' moves (either
    level) summed from the CSV (one row a run, its 1 Hz class), and the
    three ways a move is made sharing them; over the level-2 runs, a
    harness-task wakeup's moves by the other CPU, as the CSV sums them,
    and over those naming thread groups, by harness task; a line a
    sitting; nothing without the file."""
    import pandas as pd
    from model import validate
    assert validate.sched_note(tmp_path, validate.read_states_runs(tmp_path)) == []
    path = validate.DATA_DIR / validate.SCHED_TEST
    rows = pd.read_csv(path, low_memory=False)
    traced = rows[(rows["rate_hz"] == 1) & (rows["sched_trace"] > 0)]
    data = validate.DATA_DIR
    lines = validate.sched_note(data, validate.read_states_runs(data))
    text = " ".join(lines)
    assert f"{len(traced)} of its {rows['run'].nunique()} runs" in text
    assert sum(" stolen from" in line for line in lines) == rows["git_commit"].nunique()
    assert f"reader's {int(traced['sched_moves'].sum()):,} moves" in text
    shares = [float(x) for x in
              re.findall(r"([\d.]+)% (?:were placements|the load balancer|in task context)",
                         text)]
    assert len(shares) == 3 and abs(sum(shares) - 100) <= 0.2
    idle = traced[traced["sched_trace"] == 2]
    if not idle.empty:
        moved = [idle[f"sched_placed_harness_{o}"].sum() / idle[f"sched_wakeups_harness_{o}"].sum()
                 for o in ("otheridle", "otherbusy")]
        assert (f"({len(idle)} runs)" in text and f"at {moved[0]:.1%} with the other CPU idle, "
                f"{moved[1]:.1%} with it busy" in text)
    if "sched_wakeups_harness_leader" in traced:
        named = traced.dropna(subset=["sched_wakeups_harness_leader"])
        assert named.empty or f"thread group ({len(named)} runs)" in text


def test_sched_harness_tasks_share_the_harness_wakeups_by_thread_group_where_named():
    """Over the runs whose trace named the thread group (earlier rows lack
    the columns or leave them empty), each harness task's share of the
    wakeups over a harness task and how often such a wakeup moved the
    reader; a wakeup whose tgid was unknown counts in the total only."""
    import pandas as pd
    from model.validate import sched_harness_tasks
    old = {"sched_wakeups_harness": 100}
    assert sched_harness_tasks(pd.DataFrame([old])) == []
    assert sched_harness_tasks(pd.DataFrame([old | {"sched_wakeups_harness_leader": None}])) == []
    new = [{"sched_wakeups_harness": w, "sched_wakeups_harness_thread": t,
            "sched_wakeups_harness_leader": w - t - 1, "sched_placed_harness_thread": pt,
            "sched_placed_harness_leader": pl} for w, t, pt, pl in ((100, 80, 40, 1),
                                                                    (100, 60, 20, 18))]
    text = " ".join(sched_harness_tasks(pd.DataFrame([old, *new])))
    assert "(2 runs), of 200 wakeups" in text
    assert "states thread held the reader's CPU at 70.0% (60.0%-80.0% run by run)" in text
    # first threads: 19 + 39 of 200 wakeups, moving it at 1 + 18 of them
    assert "first thread at 29.0%;" in text
    assert "moved the reader at 42.9% over a states thread, 32.8% over a first thread" in text


def test_sched_idle_busy_splits_the_idle_placements_by_busy_share_where_traced():
    """Over the runs whose trace split them (earlier rows lack the columns
    or leave them empty), machine by machine, the wakeups over a harness
    task with the other CPU idle and the share that moved the reader,
    under and over the cutoff; run by run, the share over it and its
    Spearman with the moves."""
    import pandas as pd
    from model.validate import sched_idle_busy
    old = {"sched_wakeups_harness": 100}
    assert sched_idle_busy(pd.DataFrame([old])) == []
    split = [{"sched_wakeups_harness_otheridle_busylow": wl,
              "sched_placed_harness_otheridle_busylow": pl,
              "sched_wakeups_harness_otheridle_busyhigh": wh,
              "sched_placed_harness_otheridle_busyhigh": ph}
             for wl, pl, wh, ph in ((600, 540, 0, 0), (400, 360, 1000, 10))]
    split = [run | {"moves_per_s": m, "cpu_model": "Xeon", "kernel_release": "6.18"}
             for run, m in zip(split, (40.0, 2.0))]
    text = " ".join(sched_idle_busy(pd.DataFrame([old, *split])))
    assert "on Xeon, 6.18 (2 runs): at 90.0% of 1,000 under SIS_UTIL's cutoff, 1.0% of 1,000 "\
        "over it." in text
    # the share over the cutoff 0 and 1000/1400 (71%), the moves falling as it rises
    assert "over the cutoff was 0%-71%, its Spearman with the moves a second -1.00" in text
    assert "none of 0 over it" in " ".join(sched_idle_busy(pd.DataFrame(split[:1])))
    # on two machines, a line each, the run-by-run share over all of them
    lines = sched_idle_busy(pd.DataFrame([split[0], split[1] | {"cpu_model": "EPYC"}]))
    assert [line.split(":")[0] for line in lines[1:3]] == [" on Xeon, 6.18 (1 run)",
                                                          " on EPYC, 6.18 (1 run)"]
    assert lines[3].startswith("Run by run (2 runs)")


def test_sched_sittings_split_the_runs_by_commit_and_set_stolen_runs_apart():
    """Two lines a sitting (its rows' git_commit, in the order they came)
    under its machine's (cpu_model and kernel): its runs, median moves,
    pooled zeroed fraction, the moves' Spearman with the fraction within
    it; the runs the host stole from and, where it has both arms, its
    traced runs against its untraced; the sittings' Kruskal-Wallis; the
    others' CPU against the moves over the runs not stolen from alone."""
    import pandas as pd
    from model.validate import sched_sittings
    runs = [{"git_commit": c * 40, "date_utc": f"2026-12-0{d}T1{i}:00:00Z",
             "cpu_model": "Xeon", "kernel_release": "6.18", "sched_trace": tr,
             "moves_per_s": m, "zeroed": z, "calls": 100, "calls_zeroed": 100 * z,
             "cpu_steal_during": st, "cpu_busy_others_during": o}
            for c, d, rows in (("b", 7, ((1, 0.1, 0.0, 0.5, 2), (2, 0.2, 0.0, 0.4, 0),
                                         (3, 0.3, 0.3, 0.1, 2))),
                               ("a", 6, ((10, 0.9, 0.0, 0.3, 0), (20, 0.8, 0.0, 0.2, 0),
                                         (30, 1.0, 0.0, 0.1, 0))))
            for i, (m, z, st, o, tr) in enumerate(rows)]
    lines = sched_sittings(pd.DataFrame(runs))
    assert lines[3] == " on Xeon, 6.18:"
    assert lines[4] == ("  bbbbbbb from 2026-12-07T10:00: 3 runs, moves 2.0/s (1.0-3.0), "
                        "zeroed 0.200, Spearman 1.00 (p 0);")
    # its traced runs (1 and 3 moves, 0.1 and 0.3 zeroed) against its untraced (2, 0.2)
    assert lines[5] == ("    1 stolen from; traced and untraced moves 2.0 and 2.0/s (p 1.00), "
                        "zeroed 0.200 and 0.200 (p 1.00)")
    assert "zeroed 0.900, Spearman 0.50" in lines[6] and lines[7] == "    0 stolen from"
    # a sitting traced at level 2: its idle-other wakeups' share that moved the reader,
    # and where split by busy share, the share of them over the cutoff
    level2 = [r | {"sched_wakeups_harness_otheridle": 10, "sched_placed_harness_otheridle": 4}
              if r["git_commit"].startswith("b") else r for r in runs]
    assert sched_sittings(pd.DataFrame(level2))[5].startswith("    1 stolen from; idle 40.0%; ")
    split = [r | {"sched_wakeups_harness_otheridle_busylow": 3,
                  "sched_wakeups_harness_otheridle_busyhigh": 1} for r in level2]
    assert sched_sittings(pd.DataFrame(split))[5].startswith(
        "    1 stolen from; idle 40.0% (25% over); traced")
    # another machine's sitting: under a line of its own
    other = [r | {"cpu_model": "EPYC"} if r["git_commit"].startswith("a") else r for r in runs]
    assert [line for line in sched_sittings(pd.DataFrame(other)) if line.startswith(" on")] == \
        [" on Xeon, 6.18:", " on EPYC, 6.18:"]
    text = " ".join(lines)
    # the stolen run (others 0.1, 3 moves) left out: others' CPU falls as the moves rise
    assert "Over the 5 runs" in text and "with the moves a second -1.00" in text

def test_sched_contexts_share_the_wakeups_and_moves_by_what_ran_there():
    """Over the traced runs that recorded it (a first sitting's rows lack
    the columns), each kind's share of the wakeups and of the moves."""
    import pandas as pd
    from model.validate import sched_contexts
    kinds = ("idle", "kworker", "harness", "stopper", "other")
    old = {"sched_wakeups": 100, "sched_moves": 10, "moves_per_s": 1.0}
    new = [{"sched_wakeups": 100, "sched_moves": 10, "moves_per_s": m,
            **{f"sched_wakeups_{k}": w for k, w in zip(kinds, (50, kw, 50 - kw, 0, 0))},
            **{f"sched_moves_{k}": v for k, v in zip(kinds, (1, 6, 3, 0, 0))}}
           for m, kw in ((5.0, 10), (9.0, 30))]
    assert sched_contexts(pd.DataFrame([old])) == []
    text = " ".join(sched_contexts(pd.DataFrame([old, *new])))
    assert "In the 2 traced runs" in text
    assert "wakeups found there a harness task 30.0%, a kworker 20.0%, idle 50.0%, other 0.0%" in text
    assert "moves were made over a harness task 30.0%, a kworker 60.0%, idle 10.0%" in text
    # of the 60 wakeups with a caller there 6 moved it; of the 40 with a kworker, 12
    assert "moved it at 10.0% a harness task, 30.0% a kworker, 2.0% idle" in text
    # run by run: a caller at 40% and 20% of the wakeups, moving it at 7.5% and 15%
    assert ("a harness task was there at 20.0%-40.0%" in text
            and "over one were 7.5%-15.0% of those wakeups" in text)
    assert "(Spearman 1.00) more than the first (-1.00)" in text
