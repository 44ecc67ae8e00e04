"""The C harness, its output parser and a reduced host measurement."""
import csv
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from measure import host
from measure.harness_output import HarnessOutputError, Record, TapResult, parse, parse_line
from measure.provenance import COLUMNS, write_csv_atomic

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


def test_csv_writer_is_atomic_and_demands_provenance(tmp_path):
    target = tmp_path / "x.csv"
    with pytest.raises(ValueError, match="provenance column 'where'"):
        write_csv_atomic(target, [{"ns_per_call": 1}])
    assert not target.exists() and not list(tmp_path.iterdir())
    row = dict.fromkeys(COLUMNS, "v") | {"ns_per_call": 1.5, "note": None}
    write_csv_atomic(target, [row])
    assert list(csv.DictReader(target.open()))[0]["ns_per_call"] == "1.5"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


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
    (["nosuch"], "unknown subcommand"),
])
def test_bad_options_are_one_line_errors(harness, args, complaint):
    result = subprocess.run([str(harness), *args], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2 and complaint in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


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


def read(out, name):
    path = out / f"{name}.csv"
    if not path.exists():
        pytest.skip(f"{name}: not measured here (skipped by the harness)")
    return list(csv.DictReader(path.open()))


@needs_cc
def test_quick_run_writes_provenance_on_every_row(quick_run):
    files = sorted(p.name for p in quick_run.glob("*.csv"))
    assert {"callcost.csv", "fault.csv", "fork.csv", "memlock.csv", "selfcheck.csv"} <= set(files)
    for name in files:
        with (quick_run / name).open() as f:
            reader = csv.DictReader(f)
            assert tuple(reader.fieldnames[:len(COLUMNS)]) == COLUMNS, name
            for row in reader:
                assert row["where"] == "host" and row["kernel_release"] == os.uname().release
                assert row["date_utc"].endswith("Z") and row["command"]
                assert row["git_commit"] and row["cpu_model"] and row["glibc"]


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
