"""The C harness, its output parser and a reduced host measurement."""
import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from measure import fastdisk, host, sched_trace
from measure.burner import burning
from measure.harness_output import (HarnessOutputError, Record, TapResult, parse, parse_line,
                                    reader_moves)
from measure.provenance import COLUMNS, open_csv, write_csv_atomic

HAVE_CC = shutil.which("gcc") is not None and shutil.which("make") is not None
needs_cc = pytest.mark.skipif(not HAVE_CC, reason="needs gcc and make")


# --- parser ---------------------------------------------------------------

def test_parse_sample_converts_numbers_and_na():
    rec = parse_line("sample exp=callcost mode=vdso size_bytes=4 threads=1 thread=0 "
                     "sample=3 calls=1000 ns_per_call=21.40")
    assert isinstance(rec, Record) and rec.kind == "sample" and rec.exp == "callcost"
    assert rec.fields["size_bytes"] == 4 and rec.fields["ns_per_call"] == pytest.approx(21.4)
    assert rec.fields["mode"] == "vdso"
    rec = parse_line("sample exp=fork check=mlock_inherit parent_vmlck_kib=na")
    assert rec.fields["parent_vmlck_kib"] is None


def test_parse_skip_tap_and_commentary():
    assert parse_line("skip exp=fault kind=map_locked reason=EPERM").kind == "skip"
    assert parse_line("# memcg /sys/fs/cgroup/x") is None
    assert parse_line("TAP version 13") is None and parse_line("1..7") is None
    tap = parse_line("ok 3 droppable: reads back as zero # SKIP MAP_DROPPABLE unsupported")
    assert isinstance(tap, TapResult) and tap.ok and tap.skip == "MAP_DROPPABLE unsupported"
    tap = parse_line("not ok 4 reseed: refilled")
    assert not tap.ok and tap.skip is None and tap.number == 4


@pytest.mark.parametrize("line, complaint", [
    ("garbage here", "not a harness line"),
    ("sample exp=callcost mode=vdso size_bytes", "bad field"),
    ("sample exp=callcost mode= size_bytes=4", "bad field"),
    ("sample exp=callcost Mode=vdso", "bad field"),
    ("sample mode=vdso", "missing exp"),
    ("sample exp=nosuch a=1", "unknown or missing exp"),
    ("sample exp=fault kind=anon pages=1 pages=2", "given twice"),
    ("sample exp=fault kind=anon pages=1 sample=0", "lacks ns_per_page"),
    ("skip exp=fault kind=anon", "without reason"),
])
def test_parse_rejects_malformed_lines_in_one_line(line, complaint):
    with pytest.raises(HarnessOutputError) as err:
        parse(f"# fine\n{line}\n", source="run")
    message = str(err.value)
    assert complaint in message and "\n" not in message and message.startswith("run:2:")


STATES_LINE = (
    "sample exp=states sample=0 class=1 rate_hz=0.05 threads=28 class_pages=1 "
    "class_pages_shared=0 calls=87 calls_zeroed=27 calls_zeroed_absent=1 key_lives=66 "
    "key_lives_dropped=27 p_drop_key_life=0.4091 warm_call_ns_p50=176 zeroed_call_ns_p50=2304 "
    "pattern=poisson layout=grouped per_page=28 pages=3 run_s=60 key_life_s=10 pressure=churn "
    "scope=memcg limit_mib=256 churn_bytes_per_s=2279461526 hog_mib=0 spike_mib=0 "
    "usage_at_limit_frac=0.987 failcnt=94166 memcg_oom_kills=0 caller=exited reader=exited "
    "hog=none outcome=ok pgscan_file=10 pgsteal_file=10 pgactivate=3 first_zeroed_s=na")


def test_parse_states_line():
    rec = parse_line(STATES_LINE)
    assert rec.exp == "states" and rec.fields["rate_hz"] == pytest.approx(0.05)
    assert rec.fields["calls_zeroed"] == 27 and rec.fields["first_zeroed_s"] is None
    assert rec.fields["pressure"] == "churn" and rec.fields["churn_bytes_per_s"] == 2279461526
    with pytest.raises(HarnessOutputError, match="lacks key_lives_dropped"):
        parse_line(STATES_LINE.replace("key_lives_dropped=27 ", ""))


def test_csv_writer_is_atomic_and_demands_provenance(tmp_path):
    target = tmp_path / "x.csv"
    with pytest.raises(ValueError, match="provenance column 'where'"):
        write_csv_atomic(target, [{"ns_per_call": 1}])
    assert not target.exists() and not list(tmp_path.iterdir())
    row = dict.fromkeys(COLUMNS, "v") | {"ns_per_call": 1.5, "note": None}
    write_csv_atomic(target, [row])
    assert list(csv.DictReader(target.open()))[0]["ns_per_call"] == "1.5"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_side_rows_of_moves_are_kept_compressed_and_read_back_as_written(tmp_path):
    """A states run's reader moves go to a gzip file (GitHub refuses files
    over 100 MB); the same rows give the same bytes (no time stamp in the
    gzip header), read back as the plain CSV's rows, by the csv module and
    by pandas; other side rows stay plain."""
    path = host.side_path(tmp_path, "states", "moves")
    assert path.name == "states_moves.csv.gz"
    assert host.side_path(tmp_path, "pressure_walk", "reclaim").name == "pressure_walk_reclaim.csv"
    rows = [dict.fromkeys(COLUMNS, "v") | {"run": 0, "t_s": t, "cpu": t % 2} for t in range(5)]
    write_csv_atomic(path, rows)
    first = path.read_bytes()
    assert first[:2] == b"\x1f\x8b"
    write_csv_atomic(path, rows)
    assert path.read_bytes() == first
    write_csv_atomic(tmp_path / "plain.csv", rows)
    with open_csv(path) as f, open_csv(tmp_path / "plain.csv") as g:
        assert f.read() == g.read()
    assert host.rows_by_command(path)["v"][4]["cpu"] == 0
    import pandas as pd
    assert pd.read_csv(path)["t_s"].tolist() == list(range(5))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.csv", "states_moves.csv.gz"]


@pytest.mark.parametrize("files, setup", [
    ({"sys/kernel/mm/lru_gen/enabled": "0x0007\n", "sys/fs/cgroup/cgroup.controllers":
      "cpu io memory pids\n", "proc/meminfo": "MemTotal: 8 kB\nSwapTotal:     1024 kB\n"},
     {"lru": "mglru", "cgroup": "v2", "swap_kib": 1024}),
    ({"sys/kernel/mm/lru_gen/enabled": "0x0000\n", "sys/fs/cgroup/memory/memory.limit_in_bytes":
      "9223372036854771712\n", "proc/meminfo": "SwapTotal:           0 kB\n"},
     {"lru": "classic", "cgroup": "v1", "swap_kib": 0}),
    ({"sys/fs/cgroup/cgroup.controllers": "cpu pids\n"},
     {"lru": "classic", "cgroup": "none", "swap_kib": ""}),
])
def test_host_rows_say_which_lru_cgroup_and_swap_they_ran_on(tmp_path, files, setup):
    """MGLRU only where lru_gen is enabled (built in but 0x0000 is the
    classic LRU), as the guests' init decides; v2 only with its memory
    controller; no CONFIG_LRU_GEN at all reads as classic."""
    from measure.provenance import memory_setup
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert memory_setup(tmp_path) == setup


# --- the C harness ------------------------------------------------------

@pytest.fixture(scope="module")
def harness():
    if not HAVE_CC:
        pytest.skip("needs gcc and make")
    return host.build_harness()


@needs_cc
def test_selfcheck_is_tap_with_ok_or_skip_only(harness):
    result = subprocess.run([str(harness)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    records, taps = parse(result.stdout)
    assert not records and taps
    assert f"1..{len(taps)}" in result.stdout
    assert [t.number for t in taps] == list(range(1, len(taps) + 1))
    assert all(t.ok or t.skip for t in taps), result.stdout


@needs_cc
def test_static_build_runs_the_selfcheck(harness):
    static = harness.with_name("vgetrandom-harness-static")
    result = subprocess.run([str(static)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "not ok" not in result.stdout


@needs_cc
@pytest.mark.parametrize("args, complaint", [
    (["callcost", "--sizes", "4,x"], "--sizes"),
    (["callcost", "--bogus", "1"], "unknown option"),
    (["pressure", "--kind", "weird"], "--kind"),
    (["pressure", "--touch", "warm"], "--touch"),
    (["pressure", "--tlb-flush", "sweep"], "needs --touch hot or write"),
    (["pressure", "--touch", "write", "--kind", "file"], "writable --kind"),
    (["pressure", "--touch", "write", "--tlb-flush", "sweep", "--readers", "2"], "--readers 1"),
    (["pressure", "--readers", "0"], "--readers"),
    (["states", "--classes", "1000"], "RATE_HZ:THREADS"),
    (["states", "--classes", "0.001:4"], "rate outside"),
    (["states", "--classes", "10:600"], "threads"),
    (["states", "--classes", "10:300,1:300"], "at most 512"),
    (["states", "--pattern", "bursty"], "--pattern"),
    (["states", "--layout", "random"], "--layout"),
    (["states", "--per-page", "29"], "--per-page"),
    (["states", "--run-s", "10", "--key-life-s", "60"], "--key-life-s"),
    (["states", "--spike-mib", "8", "--spike-period-s", "1", "--spike-hold-ms", "1000"],
     "--spike-hold-ms"),
    (["pressure", "--swap", "yes"], "--swap"),
    (["states", "--swap", "maybe"], "--swap"),
    (["states", "--placement", "cpu1"], "--placement"),
    (["states", "--placement", "same", "--reader-hop-ms", "10"], "--reader-hop-ms needs"),
    (["states", "--reader-hop-ms", "-1"], "--reader-hop-ms"),
    (["states", "--tlb-flush-ms", "-1"], "--tlb-flush-ms"),
    (["states", "--probe", "2"], "--probe"),
    (["idlecall", "--call-code", "inline"], "--call-code"),
    (["idlecall", "--call-code", "shared"], "--call-code shared (companions to share it"),
    (["states", "--classes", ",".join(["1:1"] * 17)], "--classes"),
    (["states", "--damon", "vaddr2"], "--damon"),
    (["states", "--reclaim-mib", "4", "--limit-mib", "0"], "--reclaim-mib needs a memcg"),
    (["states", "--churn-dev", "/dev/null"], "--churn-dev needs --churn-mib"),
    (["states", "--classes", "1:1:vdso"], "third field can only be syscall"),
    (["states", "--classes", "1:1:syscall", "--churn-mib", "8"], "with no pressure"),
    (["idlecall", "--modes", "vdso,vdso"], "each once"),
    (["idlecall", "--modes", "warm"], "each once"),
    (["idlecall", "--modes", "vdso,"], "each once"),
    (["idlecall", "--modes", ",syscall"], "each once"),
    (["idlecall", "--modes", ""], "each once"),
    (["idlecall", "--modes", "vdso," * 20], "each once"),
    (["idlecall", "--thread", "3"], "--thread"),
    (["idlecall", "--fork", "2"], "--fork"),
    (["idlecall", "--companion-check", "1"], "--companion-check"),
    (["idlecall", "--touch-buf", "2"], "--touch-buf"),
    (["idlecall", "--companion", "vdso:1:1", "--companion-check", "2"], "--companion-check"),
    (["idlecall", "--companion", "vdso:1000:28:far"], "--companion"),
    (["idlecall", "--companion", "syscall:1000:28:next"], "--companion"),
    (["nosuch"], "unknown subcommand"),
])
def test_bad_options_are_one_line_errors(harness, args, complaint):
    result = subprocess.run([str(harness), *args], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2 and complaint in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@needs_cc
@pytest.mark.parametrize("thread, stack_kib", [(1, 8192), (2, 64)])
def test_idlecall_threads_get_the_stacks_asked_for(harness, thread, stack_kib):
    """--thread 1 runs idlecall in a created thread with pthread's default
    stack (8 MiB, RLIMIT_STACK here), --thread 2 it and its companions on
    the states threads' 64 KiB stacks (and its frame fits in one): the
    process's maps hold one such stack for the timed thread and each of
    its 3 companions."""
    if not os.path.exists("/proc/self/maps"):
        pytest.skip("needs /proc/PID/maps")
    proc = subprocess.Popen([str(harness), "idlecall", "--gaps-ms", "0,1500", "--calls", "1",
                             "--modes", "vdso", "--companion", "vdso:1000:3",
                             "--thread", str(thread)], stdout=subprocess.PIPE, text=True)
    try:
        deadline, stacks = time.monotonic() + 1.2, 0
        while stacks < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
            spans = [line.split()[:2] for line in Path(f"/proc/{proc.pid}/maps").open()]
            stacks = sum(1 for span, perms in spans if perms == "rw-p" and
                         int(span.split("-")[1], 16) - int(span.split("-")[0], 16)
                         == stack_kib << 10)
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0 and stacks == 4
    records, _ = parse(out)
    assert len(records) == 2 and {r.fields["thread"] for r in records} == {thread}


@needs_cc
def test_idlecall_forks_and_lays_companions_out_as_asked(harness):
    """--fork 1 runs the command in a forked child, whose rows say so and
    come out once each (the parent's buffer flushed before the fork);
    --companion vdso:HZ:THREADS:next puts the companions' states on the
    pages after the timed state's, and they call."""
    result = subprocess.run([str(harness), "idlecall", "--gaps-ms", "0,10", "--calls", "2",
                             "--modes", "vdso", "--companion", "vdso:1000:3:next",
                             "--fork", "1"], capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, result.stderr
    records, _ = parse(result.stdout)
    assert [(r.fields["gap_ms"], r.fields["sample"]) for r in records] == [
        (0, 0), (0, 1), (10, 0), (10, 1)]
    assert {(r.fields["fork"], r.fields["companion"]) for r in records} == {
        (1, "vdso:1000:3:next")}
    assert sum(r.fields["companion_calls"] for r in records if r.fields["gap_ms"] == 10) > 0


@needs_cc
def test_idlecall_companions_check_as_the_states_threads_do(harness):
    """--companion-check 1: the companions call with the states threads'
    work around each call, and still call at their rate; the rows say so."""
    result = subprocess.run([str(harness), "idlecall", "--gaps-ms", "0,50", "--calls", "2",
                             "--modes", "vdso", "--companion", "vdso:1000:3",
                             "--companion-check", "1"], capture_output=True, text=True,
                            timeout=20)
    assert result.returncode == 0, result.stderr
    records, _ = parse(result.stdout)
    assert {r.fields["companion_check"] for r in records} == {1}
    # 3 companions at 1000 Hz over two sleeps of 50 ms: about 300 calls
    assert 100 < sum(r.fields["companion_calls"] for r in records if r.fields["gap_ms"] == 50) \
        < 1000


@needs_cc
def test_idlecall_touches_the_buffer_when_asked(harness):
    """--touch-buf 1 writes the call's buffer before the clock starts; the
    rows say so, and the call still returns its bytes."""
    for touch in ("0", "1"):
        result = subprocess.run([str(harness), "idlecall", "--gaps-ms", "0", "--calls", "2",
                                 "--modes", "vdso,syscall", "--size-bytes", "256",
                                 "--touch-buf", touch], capture_output=True, text=True,
                                timeout=20)
        assert result.returncode == 0, result.stderr
        records, _ = parse(result.stdout)
        assert len(records) == 4 and {r.fields["touch_buf"] for r in records} == {int(touch)}


@needs_cc
@pytest.mark.parametrize("code, companion", [("own", "none"), ("own", "vdso:1000:3"),
                                             ("shared", "vdso:1000:3"),
                                             ("shared", "syscall:1000:3")])
def test_idlecall_times_the_call_in_a_function_when_asked(harness, code, companion):
    """--call-code own|shared times each mode's call in timed_call(); the
    rows say so, the calls return their bytes, and with shared the
    companions, calling through it, still call at their rate."""
    mode = companion.split(":")[0] if companion != "none" else "vdso"
    result = subprocess.run([str(harness), "idlecall", "--gaps-ms", "0,50", "--calls", "2",
                             "--modes", mode, "--companion", companion, "--call-code", code],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, result.stderr
    records, _ = parse(result.stdout)
    assert len(records) == 4 and {r.fields["call_code"] for r in records} == {code}
    assert all(r.fields["ns_per_call"] > 0 for r in records)
    calls = sum(r.fields["companion_calls"] for r in records if r.fields["gap_ms"] == 50)
    assert (100 < calls < 1000) if companion != "none" else calls == 0


def memcg_usable():
    v2 = Path("/sys/fs/cgroup/cgroup.controllers")
    return os.geteuid() == 0 and (Path("/sys/fs/cgroup/memory/cgroup.procs").exists() or
                                  (v2.exists() and "memory" in v2.read_text()))


def our_cgroups(pid):
    return [p for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/memory")
            for p in Path(root).glob(f"vgetrandom-harness.{pid}.*")]


@needs_cc
@pytest.mark.skipif(not memcg_usable(), reason="needs root and a memory cgroup")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_pressure_run_removes_its_cgroup(harness, sig):
    proc = subprocess.Popen([str(harness), "pressure", "--limit-mib", "64", "--droppable-mib",
                             "8", "--hog-mib", "8", "--hold-ms", "20000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not our_cgroups(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert our_cgroups(proc.pid), "the harness never created its cgroup"
        time.sleep(0.3)     # let the holder and the hog settle inside it
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + sig and "cgroups removed" in err
    assert not our_cgroups(proc.pid)


def states_stdout(harness, *args, timeout=30) -> str:
    result = subprocess.run([str(harness), "states", *args], capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_states(harness, *args, timeout=30, stdout=None):
    records, _ = parse(stdout or states_stdout(harness, *args, timeout=timeout))
    if records and records[0].kind == "skip":
        pytest.skip(f"states: {records[0].fields['reason']}")
    return [r.fields for r in records]


@needs_cc
@pytest.mark.parametrize("layout, per_page, pages, shared", [
    ("grouped", "0", [1, 1], [0, 0]),        # each class on a page of its own
    ("interleaved", "0", [1, 1], [1, 1]),    # both classes on one page
    ("grouped", "1", [3, 2], [0, 0]),        # every thread alone on its page
    ("interleaved", "2", [3, 2], [2, 2]),    # pairs of one busy and one idle thread, then 1 busy
])
def test_states_layout_without_a_memcg(harness, layout, per_page, pages, shared):
    """Global scope (no memcg, as in a guest without cgroups): the layout is as asked."""
    rows = run_states(harness, "--classes", "50:3,1:2", "--layout", layout, "--per-page",
                      per_page, "--run-s", "1", "--key-life-s", "1", "--settle-s", "0",
                      "--limit-mib", "0")
    assert [r["class_pages"] for r in rows] == pages
    assert [r["class_pages_shared"] for r in rows] == shared
    assert all(r["scope"] == "global" and r["failcnt"] is None and r["limit_bytes"] is None
               for r in rows)
    busy = rows[0]
    assert busy["calls"] > 0 and busy["calls_zeroed"] == 0 and busy["call_errors"] == 0
    assert busy["key_lives"] == 3 and busy["key_lives_dropped"] == 0    # one life per thread


@needs_cc
def test_states_syscall_class_times_the_syscall_in_the_same_loop(harness):
    """A syscall class calls getrandom(2) (it costs more than the vDSO's
    batch) and claims no drop of the state it leaves idle."""
    rows = run_states(harness, "--classes", "50:2,50:2:syscall", "--run-s", "2",
                      "--key-life-s", "1", "--settle-s", "0", "--limit-mib", "0")
    assert [r["call"] for r in rows] == ["vdso", "syscall"]
    vdso, syscall = rows
    assert syscall["calls"] > 100 and syscall["call_errors"] == 0
    assert syscall["p_drop_key_life"] is None and vdso["p_drop_key_life"] == 0
    assert syscall["calls_zeroed"] == 0 and syscall["kernel_reseeds"] == 0
    assert syscall["warm_call_ns_p50"] > vdso["warm_call_ns_p50"]
    assert "reseed_call_ns_mean" in vdso


@needs_cc
def test_states_counts_the_calls_that_reseed_when_the_kernel_rng_moves_on(harness):
    """RNDRESEEDCRNG (CAP_SYS_ADMIN) reseeds the kernel's RNG mid-run: each
    thread's next call reseeds its state, counted and timed apart from the
    warm calls (before the fix no reseed was ever counted)."""
    import fcntl
    rndreseedcrng = 0x5207      # _IO('R', 0x07), include/uapi/linux/random.h
    proc = subprocess.Popen([str(harness), "states", "--classes", "20:3", "--run-s", "3",
                             "--key-life-s", "1", "--settle-s", "0", "--limit-mib", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        fd = os.open("/dev/urandom", os.O_RDONLY)
        try:
            fcntl.ioctl(fd, rndreseedcrng)
        except OSError as e:
            pytest.skip(f"RNDRESEEDCRNG: {e.strerror}")
        finally:
            os.close(fd)
    finally:
        out = proc.communicate(timeout=30)[0]
    (row,) = run_states(harness, stdout=out)
    assert row["kernel_reseeds"] >= 3 and row["call_errors"] == 0
    assert row["reseed_call_ns_mean"] > row["warm_call_ns_mean"]


@needs_cc
def test_states_periodic_threads_share_their_deadlines(harness):
    """periodic: 4 threads at 20 Hz for 2 s make 40 calls each, none skipped."""
    rows = run_states(harness, "--classes", "20:4", "--pattern", "periodic", "--run-s", "2",
                      "--key-life-s", "1", "--settle-s", "0", "--limit-mib", "0")
    assert rows[0]["calls"] == 4 * 40 and rows[0]["deadlines_skipped"] == 0


@needs_cc
@pytest.mark.parametrize("placement, on_reader", [("same", "all"), ("split", "none")])
def test_states_placement_pins_the_callers_beside_or_away_from_the_reader(harness, placement,
                                                                           on_reader):
    """--placement same: every call (and every refault) is made on the CPU
    the churn reader reads on; split: none is.  (The counts are what an
    unpinned run records.)  The pinned reader never moves off CPU 0."""
    out = states_stdout(harness, "--classes", "100:4,1:4", "--run-s", "2", "--key-life-s", "1",
                        "--settle-s", "1", "--limit-mib", "64", "--churn-mib", "96",
                        "--placement", placement)
    rows = run_states(harness, stdout=out)
    assert all(r["placement"] == placement and r["reader"] == "exited" for r in rows)
    busy = rows[0]
    assert busy["calls"] > 100
    assert busy["calls_on_reader_cpu"] == (busy["calls"] if on_reader == "all" else 0)
    assert all(r["calls_zeroed_on_reader_cpu"] <= r["calls_zeroed"] for r in rows)
    for r in rows:
        assert 0 <= r["refaults_on_reader_cpu"] <= r["refaults"]
        # a refault is the first of its page-mates' zeroed calls on an absent page
        assert r["refaults"] <= r["calls_zeroed_absent"]
        assert (r["refaults"] > 0) == (r["calls_zeroed_absent"] > 0)
        assert r["refaults_on_reader_cpu"] == (r["refaults"] if on_reader == "all" else 0)
    assert [m["cpu"] for m in reader_moves(out)] == [0]


@needs_cc
def test_states_reader_hop_sets_how_often_the_reader_moves(harness):
    """--reader-hop-ms 100: the reader moves to the next CPU every 100 ms
    (about 10 moves a second on any CPU count), and the run says so."""
    if os.cpu_count() < 2:
        pytest.skip("one CPU: nowhere to hop to")
    out = states_stdout(harness, "--classes", "10:4", "--run-s", "2", "--key-life-s", "1",
                        "--settle-s", "1", "--limit-mib", "64", "--churn-mib", "96",
                        "--reader-hop-ms", "100")
    rows = run_states(harness, stdout=out)
    assert rows[0]["reader_hop_ms"] == 100 and rows[0]["reader"] == "exited"
    moves = reader_moves(out)
    cpus = [m["cpu"] for m in moves]
    assert all(a != b for a, b in zip(cpus, cpus[1:]))     # a move is a change of CPU
    # 3 s from the reader's start to the end of the window: 30 hops, give or take
    # the reads in flight at each deadline.
    assert 20 <= len(moves) <= 40


@needs_cc
@pytest.mark.skipif(os.geteuid() != 0 or not Path(sched_trace.TRACEFS).is_dir(),
                    reason="needs root and tracefs")
def idle_ticks() -> list[int]:
    """Each CPU's idle time so far, in USER_HZ ticks (proc(5): /proc/stat)."""
    return [int(line.split()[4]) for line in Path("/proc/stat").read_text().splitlines()
            if re.match(r"cpu\d", line)]


@pytest.mark.parametrize("level", [1, 2])
def test_sched_trace_counts_the_moves_a_hopping_reader_makes(harness, level):
    """The reader hopping every 100 ms (about 30 moves, as above), traced:
    the trace counts about as many moves as the harness saw, nearly all
    made by the migration stopper (each hop is the reader's own
    sched_setaffinity(), kernel/sched/core.c: affine_move_task());
    at level 2 a wakeup says whether the other CPU was idle once both have
    had an idle transition, which every CPU has that was idle a while
    (/proc/stat; CPUs kept busy by other work have none); the trace's
    instance is gone after, and tracefs is mounted as before."""
    if os.cpu_count() < 2:
        pytest.skip("one CPU: nowhere to hop to")
    was_mounted = Path(sched_trace.TRACEFS, "instances").is_dir()
    before = idle_ticks()
    with sched_trace.reader_trace(level) as counts:
        out = states_stdout(harness, "--classes", "10:4", "--run-s", "2", "--key-life-s", "1",
                            "--settle-s", "1", "--limit-mib", "64", "--churn-mib", "96",
                            "--reader-hop-ms", "100")
    seen = len(reader_moves(out))
    assert counts["sched_trace_lost"] == 0 and counts["sched_wakeups"] > 0
    assert seen - 3 <= counts["sched_moves"] <= seen + 10
    assert counts["sched_moves_stopper"] >= counts["sched_moves"] - 3
    crossed = {k: v for k, v in counts.items() if k.endswith(sched_trace.OTHER)}
    if level == 1:
        assert not crossed and "sched_idle_switches" not in counts
    else:
        woken = sum(v for k, v in crossed.items() if k.startswith("sched_wakeups_"))
        placed = sum(v for k, v in crossed.items() if k.startswith("sched_placed_"))
        assert woken <= counts["sched_wakeups"] and placed <= counts["sched_moves_wakeup"]
        told = [counts[f"sched_wakeups_harness_{who}"] for who in sched_trace.WHO]
        assert sum(told) <= counts["sched_wakeups_harness"]
        if min(a - b for a, b in zip(idle_ticks(), before)) >= 10:     # 100 ms each
            assert counts["sched_idle_switches"] > 0 and woken > 0
    assert Path(sched_trace.TRACEFS, "instances").is_dir() == was_mounted
    if was_mounted:
        assert not list(Path(sched_trace.TRACEFS, "instances").glob("vgetrandom-study-*"))


@needs_cc
def test_states_tlb_flush_flushes_every_period_of_the_window(harness):
    """--tlb-flush-ms 10: the caller's TLB is flushed 100 times a second
    over the counted window (2 s: 200, give or take a period at each end),
    and the run says so; without it the run prints neither field."""
    rows = run_states(harness, "--classes", "10:4", "--run-s", "2", "--key-life-s", "1",
                      "--settle-s", "1", "--limit-mib", "0", "--tlb-flush-ms", "10")
    assert rows[0]["tlb_flush_ms"] == 10 and 190 <= rows[0]["tlb_flushes"] <= 201
    assert rows[0]["calls"] > 0 and rows[0]["call_errors"] == 0
    plain = run_states(harness, "--classes", "10:4", "--run-s", "1", "--key-life-s", "1",
                       "--settle-s", "0", "--limit-mib", "0")
    assert "tlb_flush_ms" not in plain[0] and "tlb_flushes" not in plain[0]


@needs_cc
def test_states_probe_times_idlecall_s_thread_both_ways_beside_the_classes(harness):
    """--probe 1: two more threads call once a second over the counted
    window (3 s: 2 to 3 calls each, by where the half-second offset falls),
    their calls timed apart from the classes', whose rows stay as they are;
    without it the run prints no probe field."""
    rows = run_states(harness, "--classes", "50:2,1:1", "--run-s", "3", "--key-life-s", "1",
                      "--settle-s", "1", "--limit-mib", "0", "--probe", "1")
    for r in rows:
        assert r["probe"] == 1 and r["probe_errors"] == 0
        for how in ("inline", "function"):
            assert 2 <= r[f"probe_{how}_calls"] <= 3
            assert r[f"probe_{how}_call_ns_mean"] > 0 and r[f"probe_{how}_call_ns_p50"] > 0
    assert [r["threads"] for r in rows] == [2, 1] and rows[1]["calls"] > 0
    plain = run_states(harness, "--classes", "10:4", "--run-s", "1", "--key-life-s", "1",
                       "--settle-s", "0", "--limit-mib", "0")
    assert not any(k.startswith("probe") for k in plain[0])


@needs_cc
def test_states_split_prices_bins_every_warm_call_once(harness):
    """--split-prices 1: each class's warm calls, binned by the gap since
    their page's last call, add up to its warm calls (here every call: no
    pressure, so none finds its state zeroed, and over 2 s the kernel's
    RNG may move on, a reseed, for a few), the means positive where a bin
    has calls; timer-locked threads of one page call microseconds apart,
    so most of a 4-thread page's calls come within 50 us of a page-mate's;
    with no reader no call is beside it; without the option no such field."""
    rows = run_states(harness, "--classes", "20:4,5:2:syscall", "--run-s", "2",
                      "--key-life-s", "1", "--settle-s", "1", "--limit-mib", "0",
                      "--pattern", "periodic", "--split-prices", "1")
    bins = ("50us", "500us", "50ms", "500ms", "inf")
    for r in rows:
        binned = sum(r[f"warm_mate_{b}_calls"] for b in bins)
        assert binned == r["calls"] - r["calls_zeroed"] - r["kernel_reseeds"] > 0
        assert all((r[f"warm_mate_{b}_ns_mean"] is None) == (r[f"warm_mate_{b}_calls"] == 0)
                   for b in bins)
        assert r["warm_beside_reader_calls"] is None and r["warm_beside_reader_ns_mean"] is None
    assert rows[0]["warm_mate_50us_calls"] > rows[0]["calls"] / 2
    plain = run_states(harness, "--classes", "10:4", "--run-s", "1", "--key-life-s", "1",
                       "--settle-s", "0", "--limit-mib", "0")
    assert not any(k.startswith("warm_mate") or k.startswith("warm_beside") for k in plain[0])


@needs_cc
def test_states_split_prices_lets_a_syscall_class_run_under_pressure(harness):
    """A syscall class is refused under pressure (its price is the loop's
    without any), but taken with --split-prices 1, which prices it under
    the same pressure as the vDSO's classes: the memcg reached its limit,
    and its calls beside the reader are counted as the vDSO's are (all on
    CPU 0 with the reader, --placement same, so that some are: placed by
    the scheduler, two seconds of them may all miss the reader's CPU)."""
    rows = run_states(harness, "--classes", "50:2,50:2:syscall", "--run-s", "2",
                      "--key-life-s", "1", "--settle-s", "1", "--limit-mib", "64",
                      "--churn-mib", "96", "--placement", "same", "--split-prices", "1",
                      timeout=60)
    assert [r["call"] for r in rows] == ["vdso", "syscall"]
    for r in rows:
        assert r["calls"] > 0 and r["call_errors"] == 0 and r["failcnt"] > 0
    vdso, syscall = rows
    assert 0 <= vdso["warm_beside_reader_calls"] <= vdso["calls_on_reader_cpu"]
    assert 0 < syscall["warm_beside_reader_calls"] == syscall["calls_on_reader_cpu"]


@needs_cc
def test_states_without_a_reader_counts_no_call_beside_it(harness):
    rows = run_states(harness, "--classes", "20:2", "--run-s", "1", "--key-life-s", "1",
                      "--settle-s", "0", "--limit-mib", "0")
    assert rows[0]["calls_on_reader_cpu"] is None and rows[0]["placement"] == "any"


@needs_cc
def test_states_refuses_a_churn_file_in_memory(harness, tmp_path):
    shm = Path("/dev/shm")
    if not shm.is_dir():
        pytest.skip("no /dev/shm")
    result = subprocess.run([str(harness), "states", "--churn-mib", "4", "--churn-dir", str(shm),
                             "--run-s", "1", "--key-life-s", "1"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert "skip exp=states reason=churn_dir_in_memory" in result.stdout


@needs_cc
def test_states_refuses_a_churn_dev_that_is_not_a_block_device(harness):
    result = subprocess.run([str(harness), "states", "--churn-mib", "4", "--churn-dev", "/dev/null",
                             "--run-s", "1", "--key-life-s", "1"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert "skip exp=states reason=churn_dev_not_a_block_device" in result.stdout


@needs_cc
@pytest.mark.skipif(not memcg_usable(), reason="needs root and a memory cgroup")
def test_interrupted_states_run_removes_its_cgroup_and_children(harness):
    proc = subprocess.Popen([str(harness), "states", "--classes", "100:4", "--run-s", "60",
                             "--key-life-s", "60", "--settle-s", "1", "--limit-mib", "64",
                             "--hog-mib", "8", "--churn-mib", "16"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not our_cgroups(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert our_cgroups(proc.pid), "the harness never created its cgroup"
        time.sleep(1.0)     # caller, reader and hog running inside it
        children = [int(p) for p in our_cgroups(proc.pid)[0].joinpath("cgroup.procs")
                    .read_text().split()]
        assert len(children) == 3
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM and "cgroups removed" in err
    assert not our_cgroups(proc.pid)
    assert not [c for c in children if Path(f"/proc/{c}").exists()]


# --- a reduced host measurement ------------------------------------------

@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    if not HAVE_CC:
        pytest.skip("needs gcc and make")
    out = tmp_path_factory.mktemp("host")
    started = time.monotonic()
    rc = host.main(["--quick", "--no-lock", "--no-selftest", "--out", str(out)])
    assert rc == 0
    assert time.monotonic() - started < 60
    return out


def read(out, name, side=None):
    """An experiment's rows, or its side rows (host.side_path)."""
    path = out / f"{name}.csv" if side is None else host.side_path(out, name, side)
    if not path.exists():
        pytest.skip(f"{path.name}: not measured here (skipped by the harness)")
    with open_csv(path) as f:
        return list(csv.DictReader(f))


@needs_cc
def test_quick_run_writes_provenance_on_every_row(quick_run):
    files = sorted(p.name for p in [*quick_run.glob("*.csv"), *quick_run.glob("*.csv.gz")])
    assert {"callcost.csv", "fault.csv", "fork.csv", "memlock.csv", "selfcheck.csv"} <= set(files)
    for name in files:
        with open_csv(quick_run / name) as f:
            reader = csv.DictReader(f)
            assert tuple(reader.fieldnames[:len(COLUMNS)]) == COLUMNS, name
            for row in reader:
                assert row["where"] == "host" and row["kernel_release"] == os.uname().release
                assert row["date_utc"].endswith("Z") and row["command"]
                assert row["git_commit"] and row["cpu_model"] and row["glibc"]
                if name in ("callcost.csv", "fault.csv", "fork.csv", "memlock.csv"):
                    assert row["lru"] in ("classic", "mglru") and row["cgroup"], name


@needs_cc
def test_quick_run_vdso_is_cheaper_than_the_syscall(quick_run):
    rows = read(quick_run, "callcost")
    vdso = [float(r["ns_per_call"]) for r in rows if r["mode"] == "vdso" and r["size_bytes"] == "4"]
    sysc = [float(r["ns_per_call"]) for r in rows if r["mode"] == "syscall" and r["size_bytes"] == "4"]
    if not vdso:
        pytest.skip("no vDSO getrandom on this kernel")
    assert sorted(vdso)[len(vdso) // 2] < sorted(sysc)[len(sysc) // 2]
    assert all(0 < v < 1e6 for v in vdso + sysc)
    for r in rows:      # how busy the machine was, recorded with every timing
        assert 0 <= float(r["cpu_busy_before"]) <= 1
        assert 0 <= float(r["cpu_busy_others_during"]) <= 1
        assert 0 <= float(r["cpu_niced_during"]) <= 1 and 0 <= float(r["cpu_steal_during"]) <= 1
    assert {r["threads"] for r in rows} == {"1", str(os.cpu_count())}
    # Each harness invocation keeps its own run number (quick plan: 1, then all threads).
    assert {(r["run"], r["threads"]) for r in rows} == {("0", "1"), ("1", str(os.cpu_count()))}


def test_full_plan_repeats_callcost_runs_taking_turns():
    threads = [args[args.index("--threads") + 1] for args in host.full_plan().runs["callcost"]]
    assert threads == ["1", "0"] * host.CALLCOST_RUNS and host.CALLCOST_RUNS >= 3


@needs_cc
def test_quick_run_reseed_costs_more_than_a_warm_call(quick_run):
    rows = read(quick_run, "reseed")
    by_state = {s: [float(r["ns_per_call"]) for r in rows if r["state"] == s]
                for s in ("clock", "warm", "zeroed", "dropped")}
    assert min(by_state["zeroed"]) > max(by_state["warm"]) > 0
    assert min(by_state["dropped"]) > max(by_state["warm"])
    # What the vDSO meets: the page absent, its own read and write fault.
    unread = [float(r["ns_per_call"]) for r in rows if r["state"] == "dropped_unread"]
    assert unread and min(unread) > max(by_state["warm"])


@needs_cc
def test_quick_run_times_each_mode_after_each_gap_with_and_without_spinners(quick_run):
    every = read(quick_run, "idlecall")
    rows = [r for r in every if r["modes"] == "vdso,dropped,syscall"]
    # The vDSO alone: only its calls, the state last used one gap before,
    # labelled the first of repeated processes (--repeat 1); no other is.
    alone = [r for r in every if r["modes"] == "vdso"]
    assert len(alone) == 2 and {r["mode"] for r in alone} == {"vdso"}
    assert {r["repeat"] for r in alone} == {"1"}
    assert {r["repeat"] for r in every if r not in alone} == {"0"}
    # The syscall alone in a busy process, the state read first, in a
    # created thread: its two companions called all through each 10 ms
    # sleep (about 20 calls); nobody else's did, and no other call was
    # timed after a read or outside the main thread.
    busy = [r for r in every if r["companion"] != "none"]
    assert {(r["mode"], r["companion"], r["read_first"], r["abs_sleep"], r["thread"])
            for r in busy} == {("syscall", "syscall:1000:2", "1", "1", "1")}
    assert {(r["read_first"], r["abs_sleep"], r["thread"]) for r in rows + alone} == {
        ("0", "0", "0")}
    assert len(busy) == 2 and all(int(r["companion_calls"]) > 0 for r in busy)
    assert {r["companion_calls"] for r in rows + alone} == {"0"}
    assert len(rows) + len(alone) + len(busy) == len(every)
    cells = {(r["spin"], r["gap_ms"], r["mode"]) for r in rows}
    assert cells == {(s, g, m) for s in "01" for g in "01"
                     for m in ("vdso", "dropped", "syscall")}
    # Two calls of each mode per gap, the modes taking turns.
    assert len(rows) == len(cells) * 2
    ns = {m: sorted(float(r["ns_per_call"]) for r in rows if r["mode"] == m)
          for m in ("vdso", "dropped")}
    # A dropped state's call takes the two faults and the reseed.
    assert ns["dropped"][len(ns["dropped"]) // 2] > ns["vdso"][len(ns["vdso"]) // 2] > 0
    assert {r["rng_moved"] for r in every} <= {"0", "1"}


def test_full_plan_idle_calls_get_the_time_their_sleeps_take():
    plan = host.full_plan()
    for args in plan.runs["idlecall"]:
        gaps = [int(g) for g in args[args.index("--gaps-ms") + 1].split(",")]
        calls = int(args[args.index("--calls") + 1])
        modes = len(args[args.index("--modes") + 1].split(",")) if "--modes" in args else 3
        asleep_s = modes * calls * sum(gaps) / 1000
        assert asleep_s < 0.7 * host.run_timeout_s("idlecall", args, plan)
    assert host.run_timeout_s("callcost", plan.runs["callcost"][0], plan) == plan.timeout_s

    def calls_at_20_s(modes, *setting) -> int:
        """Calls after 20 s sleeps of runs of these modes with exactly
        these setting options (--companion, --read-first, --thread,
        --count-switches, --thread-cpu, --repeat) among their args."""
        return sum(int(args[args.index("--calls") + 1]) for args in plan.runs["idlecall"]
                   if args[args.index("--gaps-ms") + 1] == "20000"
                   and (args[args.index("--modes") + 1] if "--modes" in args else None) == modes
                   and [a for a in args
                        if a in ("--companion", "--read-first", "--thread",
                                 "--count-switches", "--thread-cpu", "--repeat")]
                   == [*setting])
    # The 20 s gap, the states runs' idle period, gets 30 calls of each mode
    # taking turns, and each mode alone (a vDSO call's state last used one
    # gap before) its own; the vDSO and the syscall alone again in a busy
    # process (its main thread, then a thread it created), and the vDSO
    # alone timed after a read of its state.
    assert calls_at_20_s(None) == 30
    assert calls_at_20_s("vdso") == 45
    assert calls_at_20_s("syscall") == calls_at_20_s("dropped") == 30
    assert calls_at_20_s("vdso,syscall") == 30
    assert calls_at_20_s("vdso", "--companion") == calls_at_20_s("syscall", "--companion") == 30
    assert calls_at_20_s("vdso", "--read-first") == 30
    assert calls_at_20_s("vdso", "--companion", "--thread") == 20
    assert calls_at_20_s("syscall", "--companion", "--thread") == 20
    # and the busy main thread's and every mode alone in IDLE_REPEATS
    # processes, 4 calls each; the processes between lone and busy in
    # BETWEEN_REPEATS each.
    between = 4 * host.BETWEEN_REPEATS * (len(host.BETWEEN_COMPANIONS) + 1)
    assert calls_at_20_s("vdso", "--companion", "--repeat") == 4 * host.IDLE_REPEATS + between
    assert calls_at_20_s("syscall", "--companion", "--repeat") == 4 * host.IDLE_REPEATS + between
    for mode in ("vdso", "syscall", "dropped"):
        assert calls_at_20_s(mode, "--repeat") == 4 * host.IDLE_REPEATS
    # and the busy main thread's counting its switches in SWITCH_REPEATS,
    # and as many more reading its CPU clock too.
    for mode in ("vdso", "syscall"):
        assert calls_at_20_s(mode, "--companion", "--count-switches", "--repeat") \
            == calls_at_20_s(mode, "--companion", "--count-switches", "--thread-cpu",
                             "--repeat") == 4 * host.SWITCH_REPEATS
    busy = [args for args in plan.runs["idlecall"] if "--companion" in args]
    assert {(args[args.index("--modes") + 1], args[args.index("--companion") + 1])
            for args in busy} == {("vdso", "vdso:1000:28"), ("syscall", "syscall:1000:28"),
                                  ("vdso", "vdso:1:27:shared"), ("vdso", "vdso:1000:27:shared"),
                                  ("vdso", "vdso:1000:28:next"),
                                  *((mode, f"{mode}:{c}") for mode in ("vdso", "syscall")
                                    for c in (*host.BETWEEN_COMPANIONS,
                                              host.NEAR_BUSY_COMPANION))}
    assert "idlecall" in host.TIMING
    # --resume matches a run by its command: no two runs may share one, and
    # each repeated setting is timed in IDLE_REPEATS processes (the lone
    # thread after 1 s in twice as many), every gap of the model's curves
    # (each mode alone and in the busy process's main thread) among them;
    # the lone and busy main thread's vDSO and syscall calls again counting
    # the thread's switches, in SWITCH_REPEATS processes, every gap of the
    # busy curves and the lone ones' up to 1 s; then the same reading the
    # thread's CPU clock too; last, the lone thread after 1 s in
    # 2 * SWITCH_REPEATS processes more each way, counted and not taking
    # turns process by process; then the busy process's created thread
    # with default stacks and with 64 KiB ones, taking turns in
    # IDLE_REPEATS processes each; then the processes between at
    # NEAR_BUSY_COMPANION; last, TURNS_REPEATS processes more of it, of the
    # setting below it and of the busy one, the three taking turns at the
    # short gaps and 1 s; last, the stack test's default arm again, in a
    # forked child, with the companions' states in one mapping, and all
    # three with 64 KiB stacks, taking turns in IDLE_REPEATS processes;
    # last, that default arm and the all-three one each with its
    # companions plain and checking as the states threads do
    # (--companion-check 1), taking turns in IDLE_REPEATS processes; last,
    # the default arm with the call's buffer touched first and not.
    runs = plan.runs["idlecall"]
    assert len({tuple(args) for args in runs}) == len(runs)
    setting = Counter(tuple(args[:args.index("--repeat")]) for args in runs if "--repeat" in args)
    switches = {key: n for key, n in setting.items() if "--count-switches" in key}
    lone_1_s_counted = {key for key in switches if "1000" in key and "--companion" not in key
                        and "--thread-cpu" not in key}
    assert {switches[key] for key in lone_1_s_counted} == {3 * host.SWITCH_REPEATS}
    assert {n for key, n in switches.items() if key not in lone_1_s_counted} \
        == {host.SWITCH_REPEATS}
    touch = runs[-2 * host.IDLE_REPEATS:]
    assert [args[args.index("--thread") + 1:] for args in touch] == [
        ["1", "--repeat", str(k)] if i == 0 else ["1", "--touch-buf", "1", "--repeat", str(k)]
        for k in range(3 * host.IDLE_REPEATS + 1, 4 * host.IDLE_REPEATS + 1) for i in (0, 1)]
    runs = runs[:-2 * host.IDLE_REPEATS]
    check = runs[-4 * host.IDLE_REPEATS:]
    assert [(args[args.index("--companion") + 1], args[args.index("--thread") + 1],
             "--fork" in args, "--companion-check" in args) for args in check] == [
        (f"vdso:{host.BUSY_COMPANION}", "1", False, False),
        (f"vdso:{host.BUSY_COMPANION}", "1", False, True),
        (f"vdso:{host.BUSY_COMPANION}:next", "2", True, False),
        (f"vdso:{host.BUSY_COMPANION}:next", "2", True, True)] * host.IDLE_REPEATS
    runs = runs[:-4 * host.IDLE_REPEATS]
    loop = runs[-4 * host.IDLE_REPEATS:]
    assert [(args[args.index("--companion") + 1], args[args.index("--thread") + 1],
             "--fork" in args) for args in loop] == [
        (f"vdso:{host.BUSY_COMPANION}", "1", False), (f"vdso:{host.BUSY_COMPANION}", "1", True),
        (f"vdso:{host.BUSY_COMPANION}:next", "1", False),
        (f"vdso:{host.BUSY_COMPANION}:next", "2", True)] * host.IDLE_REPEATS
    runs = runs[:-4 * host.IDLE_REPEATS]
    taking_turns = 3 * 2 * 2 * host.TURNS_REPEATS
    three = [args[args.index("--companion") + 1].split(":", 1)[1] for args in runs[-taking_turns:]]
    assert three == [c for _ in range(host.TURNS_REPEATS)
                     for c in (host.BETWEEN_COMPANIONS[-1], host.NEAR_BUSY_COMPANION,
                               host.BUSY_COMPANION) for _ in range(4)]
    runs = runs[:-taking_turns]
    near_busy = 6 * host.BETWEEN_REPEATS
    stacks = runs[-near_busy - 2 * host.IDLE_REPEATS:-near_busy]
    assert [args[args.index("--thread") + 1] for args in stacks] == ["1", "2"] * host.IDLE_REPEATS
    assert {tuple(args[:args.index("--thread")]) for args in stacks} == {
        ("--gaps-ms", "0,1000", "--calls", "10", "--spin", "0", "--modes", "vdso", "--companion",
         f"vdso:{host.BUSY_COMPANION}", "--read-first", "1", "--abs-sleep", "1")}
    assert all(host.NEAR_BUSY_COMPANION in args[args.index("--companion") + 1]
               for args in runs[-near_busy:])
    turns = runs[-near_busy - 2 * host.IDLE_REPEATS - 4 * 2 * host.SWITCH_REPEATS:
                 -near_busy - 2 * host.IDLE_REPEATS]
    assert [("--count-switches" in args) for args in turns] \
        == [False, False, True, True] * 2 * host.SWITCH_REPEATS
    assert {tuple(a for a in args if a not in ("--count-switches", "1")
                  and not a.isdigit()) for args in turns} == {
        ("--gaps-ms", "--calls", "--spin", "--modes", mode, "--repeat")
        for mode in ("vdso", "syscall")}
    for cpu_clock in (False, True):
        assert {(key[key.index("--gaps-ms") + 1], key[key.index("--modes") + 1],
                 "--companion" in key) for key in switches
                if ("--thread-cpu" in key) == cpu_clock} == {
            (gaps, mode, busy) for mode in ("vdso", "syscall") for busy in (False, True)
            for gaps in ("0,1,10,100", "1000", "20000")[:3 if busy else 2]}
    repeated = {key: n for key, n in setting.items() if key not in switches}
    more = {key for key in repeated if "--companion" in key
            and key[key.index("--companion") + 1].split(":", 1)[1]
            in (host.BETWEEN_COMPANIONS[-1], host.NEAR_BUSY_COMPANION, host.BUSY_COMPANION)
            and key[key.index("--gaps-ms") + 1] in ("0,1,10,100", "1000")
            and "--thread" not in key}
    assert len(more) == 3 * 2 * 2
    lone_1_s = {key for key in repeated if "1000" in key and "--companion" not in key}
    assert {key[key.index("--modes") + 1] for key in lone_1_s} == {"vdso", "syscall", "dropped"}
    assert {repeated[key] for key in lone_1_s} == {
        host.IDLE_REPEATS, 2 * host.IDLE_REPEATS + 2 * host.SWITCH_REPEATS}
    between = {key for key in repeated if "--companion" in key
               and key[key.index("--companion") + 1].split(":", 1)[1]
               in (*host.BETWEEN_COMPANIONS, host.NEAR_BUSY_COMPANION)}
    assert {key[key.index("--gaps-ms") + 1] for key in between} == {"0,1,10,100", "1000", "20000"}
    assert {repeated[key] for key in between - more} == {host.BETWEEN_REPEATS}
    assert {repeated[key] for key in between & more} \
        == {host.BETWEEN_REPEATS + host.TURNS_REPEATS}
    assert {repeated[key] for key in more - between} == {host.IDLE_REPEATS + host.TURNS_REPEATS}
    # the stack test's default arm was timed again beside the loop's
    # other differences and beside the companions' check, the all-three
    # arm beside the check
    default_stacks = {key for key in repeated if "--abs-sleep" in key and "--thread" in key
                      and key[key.index("--thread") + 1] == "1" and "--fork" not in key
                      and key[key.index("--companion") + 1] == f"vdso:{host.BUSY_COMPANION}"
                      and key[key.index("--gaps-ms") + 1] == "0,1000"
                      and "--companion-check" not in key and "--touch-buf" not in key}
    assert [repeated[key] for key in default_stacks] == [4 * host.IDLE_REPEATS]
    all_three = {key for key in repeated if "--fork" in key and "--thread" in key
                 and key[key.index("--thread") + 1] == "2" and "--companion-check" not in key}
    assert [repeated[key] for key in all_three] == [2 * host.IDLE_REPEATS]
    assert {n for key, n in repeated.items()
            if key not in lone_1_s | between | more | default_stacks | all_three} \
        == {host.IDLE_REPEATS}
    curves = {(key[key.index("--gaps-ms") + 1], key[key.index("--modes") + 1],
               "--companion" in key) for key in repeated if "--thread" not in key}
    for mode, busy in (("vdso", False), ("syscall", False), ("dropped", False),
                       ("vdso", True), ("syscall", True)):
        assert {gaps for gaps, m, b in curves if (m, b) == (mode, busy)} \
            == {"0,1,10,100", "1000", "20000"}
    spins = {args[args.index("--spin") + 1] for args in plan.runs["idlecall"]}
    assert spins == {"0", "1"}


def test_full_plan_clocks_single_calls_in_a_file_of_their_own():
    """idlecall_clock runs idlecall with the thread's CPU clock read just
    around each call (--thread-cpu 2, its switches counted), the lone
    thread each way and the busy main thread's vDSO, CLOCK_REPEATS
    processes each taking turns, into idlecall_clock.csv: the clock read
    warms the call's path, so its rows are not idlecall's curves."""
    runs = host.full_plan().runs["idlecall_clock"]
    assert "idlecall_clock" in host.TIMING and host.SUBCOMMAND["idlecall_clock"] == "idlecall"
    assert all(args[args.index("--thread-cpu") + 1] == "2"
               and args[args.index("--count-switches") + 1] == "1" for args in runs)
    settings = [(args[args.index("--modes") + 1], "--companion" in args) for args in runs]
    assert settings == [("vdso", False), ("syscall", False), ("vdso", True)] \
        * host.CLOCK_REPEATS
    assert [args[args.index("--repeat") + 1] for args in runs] == [
        str(k) for k in range(1, host.CLOCK_REPEATS + 1) for _ in range(3)]
    assert not any("--thread-cpu" in args and args[args.index("--thread-cpu") + 1] == "2"
                   for args in host.full_plan().runs["idlecall"])


@needs_cc
def test_quick_run_measures_the_vdso_s_read_then_write_faults(quick_run):
    rows = read(quick_run, "fault")
    kinds = {r["kind"] for r in rows}
    assert {"droppable_read", "anon_rw", "droppable_rw", "anon_refault_rw",
            "droppable_refault_rw", "droppable_refault_read"} <= kinds
    assert all(float(r["ns_per_page"]) > 0 for r in rows)


@needs_cc
def test_resume_keeps_runs_already_measured_and_measures_the_rest(quick_run, tmp_path):
    """An interrupted campaign: only the first callcost run's rows are in the
    file.  --resume measures the second and leaves the first as it was."""
    rows = read(quick_run, "callcost")
    first = [r for r in rows if r["run"] == "0"]
    out = tmp_path / "host"
    out.mkdir()
    with (out / "callcost.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(first)
    assert host.main(["--quick", "--no-lock", "--only", "callcost", "--resume",
                      "--out", str(out)]) == 0
    again = list(csv.DictReader((out / "callcost.csv").open()))
    assert [r for r in again if r["run"] == "0"] == first
    assert {r["run"] for r in again} == {"0", "1"}
    # Everything there: a second resume measures nothing and changes nothing.
    before = (out / "callcost.csv").read_bytes()
    assert host.main(["--quick", "--no-lock", "--only", "callcost", "--resume",
                      "--out", str(out)]) == 0
    assert (out / "callcost.csv").read_bytes() == before


@needs_cc
def test_quick_run_pressure_fractions_are_fractions(quick_run):
    rows = read(quick_run, "pressure")
    for r in rows:
        if r["drop_fraction"]:
            assert 0.0 <= float(r["drop_fraction"]) <= 1.0
            assert int(r["dropped_pages"]) <= int(r["pages"])
    below = [r for r in rows if int(r["droppable_mib"]) + int(r["hog_mib"]) < int(r["limit_mib"]) // 2]
    assert below and all(float(r["drop_fraction"]) == 0.0 for r in below)


@needs_cc
def test_quick_run_states_under_churn(quick_run):
    """The quick states run: a memcg held at its limit by page-cache churn, proven."""
    rows = read(quick_run, "states")
    assert {r["class"] for r in rows} == {"0", "1"} and {r["regime"] for r in rows} == {"churn"}
    for r in rows:
        calls, zeroed = int(r["calls"]), int(r["calls_zeroed"])
        assert 0 < calls and 0 <= int(r["calls_zeroed_absent"]) <= zeroed <= calls
        assert 0 <= int(r["key_lives_dropped"]) <= int(r["key_lives"])
        assert r["outcome"] == "ok" and r["caller"] == "exited" and int(r["call_errors"]) == 0
        assert int(r["failcnt"]) > 0 and float(r["usage_at_limit_frac"]) > 0   # the limit was hit
        assert float(r["churn_bytes_per_s"]) > 0 and r["pressure"] == "churn"
        assert int(r["usage_max_bytes"]) <= int(r["limit_bytes"])
        assert 0 <= float(r["cpu_busy_before"]) <= 1    # timing-sensitive: busy recorded


@needs_cc
def test_quick_run_states_keeps_the_reader_s_moves(quick_run):
    """Every states run's reader moves, in time order, tied to the run's rows."""
    runs = {r["run"] for r in read(quick_run, "states")}
    moves = read(quick_run, "states", "moves")
    assert moves and {m["run"] for m in moves} == runs
    assert all(m["command"] and int(m["cpu"]) < os.cpu_count() for m in moves)
    times = [float(m["t_s"]) for m in moves]
    assert times == sorted(times) and times[0] < 0     # the first read is before the window
    cpus = [m["cpu"] for m in moves]
    assert all(a != b for a, b in zip(cpus, cpus[1:]))  # a move is a change of CPU


@needs_cc
def test_quick_run_pressure_tlb_variants(quick_run):
    rows = read(quick_run, "pressure_tlb")
    by_touch = {r["touch"]: r for r in rows}
    assert set(by_touch) == {"hot", "write"} and {r["tlb_flush"] for r in rows} == {"sweep"}
    assert by_touch["hot"]["write_refaults"] == ""          # na: nothing is written
    assert int(by_touch["write"]["write_refaults"]) >= 0
    assert all(int(r["sweeps"]) >= 1 for r in rows)


def test_full_plan_states_campaign_covers_the_issue():
    """Both call patterns, rates 0.05 Hz to 1 kHz, churn and hog pressure and a
    control, repeated with their own seeds; held under the CPU lock as timing."""
    runs = host.full_plan().runs["states"]
    opts = [dict(zip(args[::2], args[1::2])) for _, args in runs]
    assert {o["--pattern"] for o in opts} == {"poisson", "periodic"}
    rates = {float(c.split(":")[0]) for o in opts for c in o["--classes"].split(",")}
    assert min(rates) == 0.05 and max(rates) == 1000
    regimes = {cols["regime"] for cols, _ in runs}
    assert {"control", "churn", "hog_churn", "spike_churn"} <= regimes
    churn = [o for (cols, _), o in zip(runs, opts) if cols["regime"] == "churn"
             and o.get("--layout", "grouped") == "grouped" and o.get("--per-page") is None]
    assert len({(o["--pattern"], o["--seed"]) for o in churn}) == len(churn) >= 6
    assert all(len(args) == len(set(args[::2])) * 2 for _, args in runs)   # no option twice
    assert "states" in host.TIMING


def test_committed_states_runs_keep_their_numbers_as_sittings_are_added():
    """A run's number is its place in the plan (validate keys the model's
    seeds by it), so later sittings go after the campaign: every committed
    row's command is still the plan's run of that number, and the later
    sittings' seeds are new ones of their case."""
    runs = host.full_plan().runs["states"]
    with open(Path(host.REPO) / "data" / "host" / "states.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows
    for row in rows:
        _, args = runs[int(row["run"])]
        assert row["command"].endswith(" ".join(args)), row["run"]
    campaign = host.states_runs(more=[])
    later = runs[len(campaign):]
    assert len(later) == sum(len(seeds) for *_, seeds in host.STATE_MORE_SEEDS)
    assert not {tuple(args) for _, args in later} & {tuple(args) for _, args in campaign}


def test_full_plan_placement_test_takes_every_arm_in_turn():
    """Each seed and regime runs every placement, so a sitting's drift falls
    on all arms alike; the runs differ from the campaign's only by --placement."""
    runs = host.full_plan().runs["states_placement"]
    first = len(host.PLACEMENT_REGIMES) * len(host.PLACEMENT_ARMS) * 4
    opts = [dict(zip(args[::2], args[1::2])) for _, args in runs]
    for i in range(0, first, len(host.PLACEMENT_ARMS)):
        turn = opts[i:i + len(host.PLACEMENT_ARMS)]
        assert [o["--placement"] for o in turn] == list(host.PLACEMENT_ARMS)
        assert len({(o["--seed"], o["--spike-mib"] if "--spike-mib" in o else "") for o in turn}) == 1
    cols, args = runs[0]
    same = host.state_args(cols["regime"], "periodic", int(opts[0]["--seed"]))
    assert args == same + ["--placement", "any"]
    assert "states_placement" in host.TIMING
    # The later sittings: one regime's split arm each, seeds of their own.
    later = [(cols["regime"], o["--placement"], o["--seed"])
             for (cols, _), o in zip(runs[first:], opts[first:])]
    assert [(r, a) for r, a, _ in later] == [("spike_churn", "split")] * 28 \
        + [("churn", "split")] * 24
    assert len({seed for *_, seed in later}) == len(later)
    assert not {seed for *_, seed in later} & {o["--seed"] for o in opts[:first]}


def test_full_plan_reader_test_reruns_the_campaign_s_unpinned_timer_locked_runs():
    """The reader test's runs are the campaign's periodic runs, unpinned,
    seeds of their own: only the seed differs."""
    runs = host.full_plan().runs["states_reader"]
    assert len(runs) == sum(len(seeds) * len(regimes) for regimes, seeds in host.READER_SITTINGS)
    seeds = [int(dict(zip(args[::2], args[1::2]))["--seed"]) for _, args in runs]
    assert len(set(zip(seeds, (c["regime"] for c, _ in runs)))) == len(runs)
    for columns, args in runs:
        opts = dict(zip(args[::2], args[1::2]))
        assert "--placement" not in opts and opts["--pattern"] == "periodic"
        assert any(int(opts["--seed"]) in seeds and columns["regime"] in regimes
                   for regimes, seeds in host.READER_SITTINGS)
        assert args == host.state_args(columns["regime"], "periodic", int(opts["--seed"]))
    assert "states_reader" in host.TIMING


def earlier_states_seeds(name):
    """The seeds of every states test the full plan lists before `name`
    (in the order the tests were added; some took later sittings since)."""
    runs = host.full_plan().runs
    tests = [t for t in runs if t.startswith("states")]
    return {int(dict(zip(args[::2], args[1::2]))["--seed"])
            for t in tests[:tests.index(name)] for _, args in runs[t]}


def assert_sittings_take_turns(arm_of_run: list, sittings) -> None:
    """In each sitting of (arms, seeds), in the plan's order, the arms take
    turns from the first run, each as often; the sittings cover every run."""
    at = 0
    for arms, seeds in sittings:
        sitting = arm_of_run[at:at + len(seeds)]
        assert sitting[:len(arms)] == list(arms)
        assert {sitting.count(a) for a in arms} == {len(seeds) // len(arms)}
        at += len(seeds)
    assert at == len(arm_of_run)


def test_full_plan_mobility_test_takes_turns_with_seeds_of_its_own():
    """The mobility test's runs are the reader test's spike_churn run with
    a burner beside it: arms take turns, every seed once and none of the
    reader test's, so --resume (which matches the harness command) tells
    the arms apart."""
    runs = host.full_plan().runs["states_mobility"]
    assert_sittings_take_turns([c["burn_duty"] for c, _ in runs], host.MOBILITY_SITTINGS)
    assert all(set(arms) <= set(host.MOBILITY_DUTIES) for arms, _ in host.MOBILITY_SITTINGS)
    # The later sittings: the 0.5 arm alone, after its 1 Hz page missed.
    assert [arms for arms, _ in host.MOBILITY_SITTINGS[2:]] == [(0.5,)]
    seeds = [int(dict(zip(args[::2], args[1::2]))["--seed"]) for _, args in runs]
    assert len(set(seeds)) == len(runs) and not earlier_states_seeds("states_mobility") & set(seeds)
    for (columns, args), seed in zip(runs, seeds):
        assert args == host.state_args("spike_churn", "periodic", seed)
    assert "states_mobility" in host.TIMING


def test_full_plan_hop_test_takes_turns_with_seeds_of_its_own():
    """The hop test's runs are the mobility test's spike_churn run with the
    reader hopping every 1000, 100, 10 ms or not at all: arms take turns,
    every seed once and none of an earlier test's."""
    runs = host.full_plan().runs["states_hop"]
    opts = [dict(zip(args[::2], args[1::2])) for _, args in runs]
    hops = [int(o.get("--reader-hop-ms", 0)) for o in opts]
    assert hops[:len(host.HOP_ARMS_MS)] == list(host.HOP_ARMS_MS)
    assert {hops.count(h) for h in host.HOP_ARMS_MS} == {len(runs) // len(host.HOP_ARMS_MS)}
    seeds = [int(o["--seed"]) for o in opts]
    assert len(set(seeds)) == len(runs) and not earlier_states_seeds("states_hop") & set(seeds)
    for (columns, args), seed, hop in zip(runs, seeds, hops):
        extra = ["--reader-hop-ms", str(hop)] if hop else []
        assert args == host.state_args("spike_churn", "periodic", seed, *extra)
    assert "states_hop" in host.TIMING and host.ARMS["states_hop"] == "reader_hop_ms"


def poisson_arms_options(test, sittings):
    """A test of Poisson regimes taking turns in each sitting of (arms,
    seeds): its runs' harness options, after checking that in each sitting
    the arms take turns evenly, every seed once and none of an earlier
    states test's, each run the regime's own options."""
    runs = host.full_plan().runs[test]
    assert_sittings_take_turns([columns["regime"] for columns, _ in runs], sittings)
    opts = [dict(zip(args[::2], args[1::2])) for _, args in runs]
    seeds = [int(o["--seed"]) for o in opts]
    assert len(set(seeds)) == len(runs) and not earlier_states_seeds(test) & set(seeds)
    for (columns, args), seed in zip(runs, seeds):
        assert args == host.state_args(columns["regime"], "poisson", seed)
    assert test in host.TIMING and host.ARMS[test] == "churn_mib_s"
    return runs, opts


def later_sittings_rates(opts, sittings) -> list[set]:
    """The --churn-mib-s values each sitting after the first asked for, in
    the plan's order (one each, for a sitting of one arm)."""
    at, rates = len(sittings[0][1]), []
    for _, seeds in sittings[1:]:
        rates.append({o.get("--churn-mib-s") for o in opts[at:at + len(seeds)]})
        at += len(seeds)
    return rates


def test_full_plan_churn_rate_test_takes_turns_with_seeds_of_its_own():
    """The churn-rate test's runs are the campaign's churn Poisson run,
    unpaced or paced at 768 or 384 MiB/s: arms take turns, then three
    sittings of the 384 MiB/s arm alone; every seed once and none of an
    earlier states test's."""
    _, opts = poisson_arms_options("states_churn", host.CHURN_RATE_SITTINGS)
    assert [o.get("--churn-mib-s") for o in opts[:3]] == [None, "768", "384"]
    assert later_sittings_rates(opts, host.CHURN_RATE_SITTINGS) == [{"384"}, {"384"}, {"384"}]


def test_full_plan_tlb_flush_test_takes_turns_with_thirteen_idle_pages():
    """The TLB-flush test's runs are the churn-rate test's 384 MiB/s run
    with thirteen 0.05 Hz pages, a class each, without and with the TLB
    flushed every 10 ms: arms take turns, every seed once and none of an
    earlier states test's."""
    runs = host.full_plan().runs["states_tlbflush"]
    assert_sittings_take_turns([c["tlb_flush_ms"] for c, _ in runs], host.TLB_FLUSH_SITTINGS)
    opts = [dict(zip(args[::2], args[1::2])) for _, args in runs]
    seeds = [int(o["--seed"]) for o in opts]
    assert len(set(seeds)) == len(runs) and not earlier_states_seeds("states_tlbflush") & set(seeds)
    for (columns, args), seed in zip(runs, seeds):
        extra = ["--tlb-flush-ms", str(columns["tlb_flush_ms"])] if columns["tlb_flush_ms"] else []
        assert args == host.state_args("churn_384", "poisson", seed, *extra,
                                       classes=host.TLB_FLUSH_CLASSES)
        assert columns["regime"] == "churn_384"
    rates = [c.split(":")[0] for c in host.TLB_FLUSH_CLASSES.split(",")]
    assert rates.count("0.05") == 13 and len(rates) == len(set(rates)) + 12
    assert "states_tlbflush" in host.TIMING and host.ARMS["states_tlbflush"] == "tlb_flush_ms"


def test_full_plan_quiet_test_runs_the_states_loop_without_pressure():
    """The quiet test's runs are the control regime (no reader, no hog),
    60 s: the campaign's four classes, the 1 Hz class alone, one 1 Hz
    thread alone and one beside the 1000 Hz class, each followed by its
    syscall twin, Poisson, then one 1 Hz thread on a fixed period both
    ways, in the memcg and with none, taking turns; later, one 1 Hz thread
    beside the 1000 Hz class in the memcg and with none, taking turns;
    every seed once and none of an earlier states test's."""
    runs = host.full_plan().runs["states_quiet"]
    opts = [dict(zip(args[::2], args[1::2])) for _, args in runs]
    turn = [("poisson", c, "256") for c in host.QUIET_CLASSES] \
        + [("periodic", "1:1", "256"), ("periodic", "1:1:syscall", "256"),
           ("periodic", "1:1", "0"), ("periodic", "1:1:syscall", "0")]
    again = [("poisson", "1000:28,1:1", "256"), ("poisson", "1000:28,1:1", "0")]
    assert [(o["--pattern"], o["--classes"], o["--limit-mib"]) for o in opts] \
        == turn * len(host.QUIET_SEEDS) + again * len(host.QUIET_AGAIN_SEEDS)
    assert len(set(map(str, runs))) == len(runs)
    assert host.QUIET_CLASSES[::2] == (host.STATE_CLASSES, "1:28", "1:1", "1000:28,1:1")
    assert host.QUIET_CLASSES[3] == "1:28:syscall"
    assert host.QUIET_CLASSES[-1] == "1000:28:syscall,1:1:syscall"
    seeds = {int(o["--seed"]) for o in opts}
    assert seeds == {*host.QUIET_SEEDS, *host.QUIET_AGAIN_SEEDS} \
        and not earlier_states_seeds("states_quiet") & seeds
    for (columns, args), o in zip(runs, opts):
        assert columns == {"regime": "control"} and host.STATE_REGIMES["control"] == []
        assert args == host.state_args("control", o["--pattern"], int(o["--seed"]), "--run-s",
                                       "60", "--limit-mib", o["--limit-mib"],
                                       classes=o["--classes"])
    assert "states_quiet" in host.TIMING and host.SUBCOMMAND["states_quiet"] == "states"


def test_full_plan_split_prices_test_takes_turns_under_churn_and_with_none():
    """The split-prices test: the campaign's classes and their syscall
    twin, Poisson and timer-locked, under the campaign's churn and with no
    pressure, 60 s, --split-prices 1; the eight arms take turns (the third
    sitting's two, churn Poisson both ways; the fourth's churn Poisson
    vDSO alone; the fifth's two, churn periodic both ways; the sixth's two,
    periodic vDSO with the reader paced on the fast disk at 2304 and 1472
    MiB/s; the seventh's, the 2304 MiB/s arm alone), every seed once and
    none of an earlier states test's."""
    runs = host.full_plan().runs["states_prices"]
    opts = [dict(zip(args[::2], args[1::2])) for _, args in runs]
    arms = [(c["regime"], o["--pattern"], o["--classes"]) for (c, _), o in zip(runs, opts)]
    assert len(set(host.SPLIT_PRICE_ARMS)) == 8
    assert_sittings_take_turns(arms, host.SPLIT_PRICE_SITTINGS)
    seeds = [int(o["--seed"]) for o in opts]
    assert len(set(seeds)) == len(runs) and not earlier_states_seeds("states_prices") & set(seeds)
    for (regime, pattern, classes), (columns, args), seed in zip(arms, runs, seeds):
        assert columns == {"regime": regime}
        assert host.disk_columns(args) == ({"churn_disk": host.FAST_DISK}
                                           if regime in host.FAST_CHURN_ARMS else {})
        assert classes.split(",")[0].startswith("1000:28")
        assert args == host.state_args(regime, pattern, seed, "--run-s", "60",
                                       "--split-prices", "1", classes=classes)
    assert {c for _, _, c in arms} == {host.STATE_CLASSES, host.syscall_twin(host.STATE_CLASSES)}
    assert set(arms[48:144]) == {("churn", "poisson", host.STATE_CLASSES),
                                 ("churn", "poisson", host.syscall_twin(host.STATE_CLASSES))}
    assert set(arms[144:180]) == {("churn", "periodic", host.STATE_CLASSES),
                                  ("churn", "periodic", host.syscall_twin(host.STATE_CLASSES))}
    assert arms[180:216] == [("churn_fast_2304", "periodic", host.STATE_CLASSES),
                             ("churn_fast_1472", "periodic", host.STATE_CLASSES)] * 18
    assert arms[216:] == [("churn_fast_2304", "periodic", host.STATE_CLASSES)] * 64
    assert "states_prices" in host.TIMING and host.SUBCOMMAND["states_prices"] == "states"


def test_full_plan_sched_test_traces_the_2304_arm_in_one_arm_of_two():
    """The scheduler test: the split-prices test's 2304 MiB/s timer-locked
    vDSO arm (its options as that test's), the reader's scheduler trace on
    and off taking turns in each of two sittings, then with every CPU's
    idle transitions (level 2, the fourth to seventh also naming each
    harness task's thread group) and off in a third to a seventh,
    every seed once and none of an earlier states test's; its runs name
    their arm in sched_trace."""
    runs = host.full_plan().runs["states_sched"]
    assert len(runs) == 176
    assert [c["sched_trace"] for c, _ in runs[64:]] == [2, 0] * 56
    assert_sittings_take_turns([c["sched_trace"] for c, _ in runs], host.SCHED_SITTINGS)
    opts = [dict(zip(args[::2], args[1::2])) for _, args in runs]
    seeds = [int(o["--seed"]) for o in opts]
    assert len(set(seeds)) == len(runs) and not earlier_states_seeds("states_sched") & set(seeds)
    for (columns, args), seed in zip(runs, seeds):
        assert columns["regime"] == "churn_fast_2304"
        assert host.disk_columns(args) == {"churn_disk": host.FAST_DISK}
        assert args == host.split_price_args("churn_fast_2304", "periodic", seed,
                                             host.STATE_CLASSES)
    assert "states_sched" in host.TIMING and host.SUBCOMMAND["states_sched"] == "states"
    assert host.ARMS["states_sched"] == "sched_trace"


def test_full_plan_probe_test_runs_the_quiet_loop_with_idlecall_s_thread_in_it():
    """The probe test's runs are the quiet test's later runs (one 1 Hz
    thread beside the 1000 Hz class, control regime, in the memcg, 60 s)
    with --probe 1, each seed once and none of an earlier states test's."""
    runs = host.full_plan().runs["states_probe"]
    seeds = [int(dict(zip(args[::2], args[1::2]))["--seed"]) for _, args in runs]
    assert seeds == list(host.PROBE_SEEDS) and not earlier_states_seeds("states_probe") & {*seeds}
    assert runs == [({"regime": "control"},
                     host.state_args("control", "poisson", seed, "--run-s", "60", "--probe", "1",
                                     classes=host.QUIET_AGAIN)) for seed in seeds]
    assert host.QUIET_AGAIN == "1000:28,1:1"
    assert "states_probe" in host.TIMING and host.SUBCOMMAND["states_probe"] == "states"


def test_full_plan_code_test_takes_turns_inline_and_in_a_function():
    """idlecall_code: in each of CODE_REPEATS processes, taking turns, the
    busy process's created thread timed as the states threads are, inline,
    own and shared; then the busy main thread and the lone thread each way
    after 1 s, inline and own; then the busy main thread each way after
    20 s, inline and own, CODE_LONG_REPEATS processes each, taking turns;
    into idlecall_code.csv, not idlecall's curves."""
    runs = host.full_plan().runs["idlecall_code"]
    first = len(runs) - 4 * host.CODE_LONG_REPEATS
    runs, later = runs[:first], runs[first:]
    assert "idlecall_code" in host.TIMING and host.SUBCOMMAND["idlecall_code"] == "idlecall"

    def arm(args):
        code = args[args.index("--call-code") + 1] if "--call-code" in args else "none"
        return ("created" if "--thread" in args else "busy" if "--companion" in args
                else "lone", args[args.index("--modes") + 1], code)
    turn = [("created", "vdso", c) for c in ("none", "own", "shared")]         + [(s, m, c) for s in ("busy", "lone") for m in ("vdso", "syscall")
           for c in ("none", "own")]
    assert [arm(a) for a in runs] == turn * host.CODE_REPEATS
    assert [a[a.index("--repeat") + 1] for a in runs] == [
        str(k) for k in range(1, host.CODE_REPEATS + 1) for _ in turn]
    assert all(a[:a.index("--repeat")] == host.as_states_thread("1", "", a[a.index("--thread") + 2:
                                                                          a.index("--repeat")])
               for a in runs if "--thread" in a)
    assert all(a[a.index("--gaps-ms") + 1] == "1000" and a[a.index("--calls") + 1] == "10"
               for a in runs if "--thread" not in a)
    assert [arm(a) for a in later] == [("busy", m, c) for m in ("vdso", "syscall")
                                       for c in ("none", "own")] * host.CODE_LONG_REPEATS
    assert all(a[a.index("--gaps-ms") + 1] == "20000" and a[a.index("--calls") + 1] == "4"
               for a in later)
    assert not any("--call-code" in a for a in host.full_plan().runs["idlecall"])


def test_full_plan_times_the_model_s_curves_again_in_a_function():
    """idlecall_curves: the lone thread (every mode), the busy process and
    the one of 14,000 calls a second (each way), each mode alone at the
    short gaps, after 1 s and after 20 s, timed in a function of its own
    (--call-code own), CURVE_REPEATS processes each, the settings taking
    turns; then a second sitting of as many processes more, those settings
    and the processes between taking turns; into idlecall_curves.csv, not
    idlecall's curves."""
    runs = host.full_plan().runs["idlecall_curves"]
    assert "idlecall_curves" in host.TIMING and host.SUBCOMMAND["idlecall_curves"] == "idlecall"
    assert all(a[a.index("--call-code") + 1] == "own" for a in runs)
    settings = [(a[a.index("--companion") + 1].split(":", 1)[1] if "--companion" in a else "",
                 a[a.index("--modes") + 1]) for a in runs]
    first = [("", m) for m in ("vdso", "syscall", "dropped")] \
        + [(c, m) for c in (host.BUSY_COMPANION, host.NEAR_BUSY_COMPANION)
           for m in ("vdso", "syscall")]
    second = first + [(c, m) for c in host.BETWEEN_COMPANIONS for m in ("vdso", "syscall")]
    n = host.CURVE_REPEATS
    assert settings == first * 3 * n + second * 3 * n
    gaps = [a[a.index("--gaps-ms") + 1] for a in runs]
    assert gaps == [g for turn in (first, second) for _ in range(n)
                    for g in ("0,1,10,100", "1000", "20000") for _ in turn]
    assert [a[a.index("--repeat") + 1] for a in runs] == [
        str(k) for k, turn in [(k, first) for k in range(1, n + 1)]
        + [(k, second) for k in range(n + 1, 2 * n + 1)] for _ in range(3 * len(turn))]
    # the companions call the timed mode's way, as idlecall.csv's did
    assert all(a[a.index("--companion") + 1].startswith(a[a.index("--modes") + 1] + ":")
               for a in runs if "--companion" in a)


def test_idlecall_files_of_their_own_are_summarized_by_point_not_by_row():
    """idlecall_code and idlecall_curves print one line per setting, mode,
    call code and gap after 0 ms (the median of its calls), not every row."""
    rows = [{"companion": c, "thread": 0, "mode": "vdso", "call_code": "own", "gap_ms": g,
             "ns_per_call": ns} for c in ("none", "vdso:500:28") for g in (0, 1000, 20000)
            for ns in (100, 300, 200)]
    for exp in ("idlecall_code", "idlecall_curves"):
        lines = host.summarize(exp, rows)
        assert len(lines) == 4 and all(line.startswith(exp) for line in lines)
        assert "lone" in lines[0] and "200 ns after 1 s" in lines[0]
        assert "vdso:500:28" in lines[3] and "after 20 s" in lines[3]


def test_states_prices_summary_prints_each_class_by_page_gap():
    """states_prices prints a line per class row: its warm mean, each page
    gap's mean and calls, and its mean beside the reader."""
    row = {"regime": "churn", "pattern": "periodic", "seed": 921, "rate_hz": 1, "call": "vdso",
           "warm_call_ns_mean": 120, "warm_mate_50us_calls": 27, "warm_mate_50us_ns_mean": 110,
           "warm_mate_inf_calls": 1, "warm_mate_inf_ns_mean": 400,
           "warm_beside_reader_ns_mean": 130}
    [line] = host.summarize("states_prices", [row])
    assert line.startswith("states_prices") and "<50us 110 ns (27)" in line
    assert "<inf 400 ns (1)" in line and "beside the reader 130 ns" in line


def test_sched_summary_splits_harness_wakeups_by_other_cpu_and_task_where_traced():
    """The scheduler test's summary sums, over the runs whose trace has
    them, the wakeups over a harness task and those that moved the reader,
    by the other CPU (level 2), by the harness task's thread group (level
    2 with record-tgid) and, with the other CPU idle, by the CPUs' recent
    busy share; a run without a split counts in neither."""
    kinds = ("wakeup", "softirq", "task", "idle", "stopper")
    base = {"regime": "churn_fast_2304", "rate_hz": 1, "calls": 10, "calls_zeroed": 5,
            "sched_moves": 3, "sched_trace_lost": 0} | {f"sched_moves_{k}": 0 for k in kinds}
    split = {f"sched_{w}_harness_{o}": n for w, o, n in
             (("wakeups", "otheridle", 10), ("placed", "otheridle", 9),
              ("wakeups", "otherbusy", 20), ("placed", "otherbusy", 1))}
    tgid = {f"sched_{w}_harness_{o}": n for w, o, n in
            (("wakeups", "leader", 4), ("placed", "leader", 2),
             ("wakeups", "thread", 26), ("placed", "thread", 8))}
    busy = {f"sched_{w}_harness_otheridle_{b}": n for w, b, n in
            (("wakeups", "busylow", 6), ("placed", "busylow", 5),
             ("wakeups", "busyhigh", 4), ("placed", "busyhigh", 1))}
    rows = [base | {"sched_trace": 1}, base | {"sched_trace": 2} | split,
            base | {"sched_trace": 2} | split | tgid | busy,
            base | {"sched_trace": 0, "sched_moves": ""}]
    lines = host.summarize("states_sched", rows)
    harness = [line for line in lines if "wakeups over a harness task" in line]
    assert harness == ["states_sched: wakeups over a harness task, otheridle: 18 of 20 moved "
                       "the reader (2 runs)",
                       "states_sched: wakeups over a harness task, otherbusy: 2 of 40 moved "
                       "the reader (2 runs)",
                       "states_sched: wakeups over a harness task, leader: 2 of 4 moved "
                       "the reader (1 runs)",
                       "states_sched: wakeups over a harness task, thread: 8 of 26 moved "
                       "the reader (1 runs)",
                       "states_sched: wakeups over a harness task, otheridle_busylow: 5 of 6 "
                       "moved the reader (1 runs)",
                       "states_sched: wakeups over a harness task, otheridle_busyhigh: 1 of 4 "
                       "moved the reader (1 runs)"]
    assert "9 reader moves traced in 3 runs" in " ".join(lines)


def test_full_plan_fast_churn_test_takes_turns_on_a_fast_disk_with_seeds_of_its_own():
    """The fast-churn test's runs are the campaign's churn Poisson run
    churning a tmpfs-backed disk, paced at 2304 or 1472 MiB/s: arms take
    turns, then a sitting of each arm alone (2304, then 1472 MiB/s); every
    seed once and none of an earlier states test's, and every run both asks
    for the fast disk (its column) and reads from it."""
    runs, opts = poisson_arms_options("states_fastchurn", host.FAST_CHURN_SITTINGS)
    assert [o["--churn-mib-s"] for o in opts[:2]] == ["2304", "1472"]
    assert later_sittings_rates(opts, host.FAST_CHURN_SITTINGS) == [{"2304"}, {"1472"}]
    for (columns, args), o in zip(runs, opts):
        assert host.disk_columns(args) == {"churn_disk": host.FAST_DISK}
        assert o["--churn-dir"] == str(fastdisk.MOUNT)
        assert host.reads_fast_disk(args)


def test_only_the_fast_churn_runs_mount_the_fast_disk():
    """run_experiment() mounts the fast disk for a run whose options churn
    it, and for no other run of the full plan: the runs of a fast-disk
    regime (the fast-churn test's, the split-prices test's sixth and
    seventh sittings, the scheduler test's), whose rows say so (disk_columns(), churn_disk) and
    no other's do."""
    fast_tests = set()
    for test, runs in host.full_plan().runs.items():
        for entry in runs:
            columns, args = entry if isinstance(entry, tuple) else ({}, entry)
            fast = columns.get("regime") in host.FAST_CHURN_ARMS
            assert host.reads_fast_disk(args) == fast, (test, args)
            assert host.disk_columns(args) == ({"churn_disk": host.FAST_DISK} if fast else {})
            assert "churn_disk" not in columns, (test, columns)
            fast_tests |= {test} if fast else set()
    assert fast_tests == {"states_fastchurn", "states_prices", "states_sched"}
    assert not host.reads_fast_disk(["--churn-dir", "/tmp"])


@pytest.mark.skipif(os.geteuid() != 0 or not Path("/dev/loop-control").exists()
                    or not shutil.which("mkfs.ext4"),
                    reason="needs root, loop devices and mkfs.ext4")
def test_fast_disk_is_a_disk_file_system_and_leaves_nothing_behind(tmp_path):
    """The harness refuses a churn directory in memory (tmpfs): the fast
    disk must be a real ext4 mount, and unmounted, detached and removed
    afterwards, also when the block fails."""
    mount = tmp_path / "fastdisk"
    before = subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout
    with fastdisk.fast_disk(True, mount=mount, image_mib=64) as where:
        assert where == mount and os.path.ismount(mount)
        assert os.statvfs(mount).f_blocks > 0
        fs = subprocess.run(["findmnt", "-no", "FSTYPE", str(mount)],
                            capture_output=True, text=True).stdout.strip()
        assert fs == "ext4"
    with pytest.raises(RuntimeError, match="boom"):
        with fastdisk.fast_disk(True, mount=mount, image_mib=64):
            raise RuntimeError("boom")
    assert not mount.exists()
    assert subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout == before
    assert not list(Path("/dev/shm").glob("study-fastdisk.*"))
    with fastdisk.fast_disk(False) as nothing:
        assert nothing is None


def test_fast_disk_refuses_a_mount_point_in_use(tmp_path):
    """A mount point already mounted (another run's, or not ours) is a one-line error."""
    with pytest.raises(fastdisk.FastDiskError, match="already mounted"):
        with fastdisk.fast_disk(True, mount=Path("/proc")):
            pass


def test_burner_uses_the_cpu_it_is_given_and_leaves_no_process():
    with burning(0.0) as idle:
        pass
    assert idle == {"burn_cpu": 0.0}
    with burning(0.5) as half:
        time.sleep(1.5)
    # Measured by rusage, so a busy machine can only lower it: beside two
    # busy workers, niced, it got 0.096 of a CPU; run this test on idle CPUs.
    assert 0.2 < half["burn_cpu"] <= 0.55
    assert subprocess.run(["pgrep", "-f", "measure.burner"], capture_output=True).returncode == 1


@pytest.mark.parametrize("duty", ["1.5", "-0.1", "nan", "x"])
def test_burner_rejects_a_duty_that_is_not_a_fraction(duty):
    r = subprocess.run([sys.executable, "-m", "measure.burner", duty], capture_output=True,
                       text=True, cwd=host.REPO)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1
    assert r.stderr.startswith("error: ")


@needs_cc
def test_quick_run_fork_and_memlock_facts(quick_run):
    fork = {r["check"]: r for r in read(quick_run, "fork")}
    if "droppable_wiped" in fork:
        assert fork["droppable_wiped"]["child_nonzero_bytes"] == "0"
        assert int(fork["droppable_wiped"]["parent_nonzero_bytes"]) > 0
    if "mlock_inherit" in fork:
        assert int(fork["mlock_inherit"]["parent_vmlck_kib"]) > 0
    for r in read(quick_run, "memlock"):
        assert int(r["pages_locked"]) * 4096 <= int(r["limit_bytes"])
        assert int(r["states_locked"]) == int(r["pages_locked"]) * int(r["states_per_page"])


# --- the kernel selftest peer --------------------------------------------

def test_bench_single_output_is_read_and_compared(tmp_path):
    from measure import selftest
    fake = tmp_path / "vdso_test_getrandom"
    fake.write_text("#!/bin/sh\n"
                    "echo '   vdso: 25000000 times in 0.500000000 seconds'\n"
                    "echo '   libc: 25000000 times in 10.000000000 seconds'\n"
                    "echo 'syscall: 25000000 times in 10.250000000 seconds'\n")
    fake.chmod(0o755)
    bench = selftest.bench_single(fake)
    assert bench["vdso"]["ns_per_call"] == pytest.approx(20.0)
    assert bench["syscall"]["ns_per_call"] == pytest.approx(410.0)
    assert selftest.agreement(20.0, 22.0) == pytest.approx(0.10)
    fake.write_text("#!/bin/sh\necho 'nothing useful'\n")
    with pytest.raises(selftest.SelftestError, match="unreadable output"):
        selftest.bench_single(fake)


def test_openssl_speed_output_is_read():
    from measure import openssl_speed
    text = ("+DT:ChaCha20:1:16\n+R:14664833:ChaCha20:0.600000\n+H:16\n"
            "+F:25:ChaCha20:391062213.33\n")
    r = openssl_speed.parse(text, 16)
    assert r["calls"] == 14664833 and r["bytes_per_s"] == 391062213
    assert r["ns_per_call"] == pytest.approx(16 / 391062213.33 * 1e9, abs=0.01)
    with pytest.raises(openssl_speed.OpensslError, match="unreadable output for 16 bytes"):
        openssl_speed.parse("+H:16\n", 16)


@needs_cc
def test_quick_run_chacha20_at_the_callcost_sizes(quick_run):
    rows = read(quick_run, "chacha20")
    sizes = {int(s) for args in host.quick_plan().runs["callcost"]
             for s in args[args.index("--sizes") + 1].split(",")}
    assert {int(r["size_bytes"]) for r in rows} == sizes
    assert all(float(r["bytes_per_s"]) > 0 and r["openssl"] for r in rows)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_commit_is_dirty_for_code_but_not_for_data_being_measured(tmp_path):
    from measure.provenance import git_commit
    git = lambda *a: subprocess.run(["git", "-C", str(tmp_path), *a], check=True,  # noqa: E731
                                    capture_output=True)
    git("init", "-q")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("a\n")
    (tmp_path / "code.py").write_text("pass\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
    clean = git_commit(tmp_path)
    assert len(clean) == 40
    (tmp_path / "data" / "x.csv").write_text("b\n")
    assert git_commit(tmp_path) == clean
    (tmp_path / "code.py").write_text("pass  # changed\n")
    assert git_commit(tmp_path) == clean + "-dirty"


def test_unknown_experiment_is_refused(capsys):
    assert host.main(["--only", "nosuch", "--no-lock"]) == 2
    assert "unknown experiment 'nosuch'" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("STUDY_SLOW") != "1", reason="slow: set STUDY_SLOW=1")
def test_selftest_builds_from_the_debian_tree_and_runs():
    from measure import selftest
    bench = selftest.bench_single(selftest.build_selftest(), timeout_s=300)
    assert 0 < bench["vdso"]["ns_per_call"] < bench["syscall"]["ns_per_call"]


def test_quick_run_pressure_walk_traces_the_memcg_s_reclaim_calls(quick_run):
    rows, calls = read(quick_run, "pressure_walk"), read(quick_run, "pressure_walk_reclaim")
    assert {r["command"] for r in calls} <= {r["command"] for r in rows}
    assert all(r["trace_lost"] == "0" for r in rows + calls)
    scanned = [c for c in calls if int(c["nr_scanned"])]
    assert scanned, "a region over the limit was reclaimed without a traced call"
    for c in scanned:
        # shrink_inactive_list()'s batches happen inside their call.
        assert 0 < int(c["batch_ns"]) <= int(c["duration_ns"])
        assert int(c["nr_ref_keep"]) + int(c["nr_activate_file"]) \
            + int(c["nr_reclaimed"]) <= int(c["nr_scanned"])
    # Tracing leaves the events as it found them.
    enable = Path("/sys/kernel/tracing/events/vmscan/mm_vmscan_lru_isolate/enable")
    assert not enable.exists() or enable.read_text().strip() == "0"
