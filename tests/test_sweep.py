"""model.sweep: same numbers on any executor, resume, bad grids, failures, stopping."""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model import replicate
from model.sim.designs import DESIGNS
from model.sim.placement import DROP
from model.sweep import SweepError, load_spec, run_sweep

ROOT = Path(__file__).resolve().parents[1]

# Seconds per sweep: one server process of 8 threads for 20 simulated seconds.
TINY = """
[sweep]
name = "t"
scenario = "server"
designs = ["syscall", "droppable", "mlock"]
base_seed = 5

[overrides]
"run.duration_s" = 20
"workload.processes" = 1
"workload.threads_per_process" = 8

[grid]
{grid}

[replications]
{reps}
"""
GRID = '"pressure.file_stream_bytes_per_s" = ["0 MiB", "64 MiB"]'
REPS = "min = 3\nmax = 3"


def write_spec(tmp_path: Path, grid: str = GRID, reps: str = REPS, name="t.toml") -> Path:
    path = tmp_path / name
    path.write_text(TINY.format(grid=grid, reps=reps))
    return path


def frames(result):
    return {n: getattr(result, n) for n in ("runs", "summary", "paired", "points")}


def assert_same(a, b):
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=name)


def test_seeds_are_common_across_designs_and_points(tmp_path):
    result = run_sweep(write_spec(tmp_path), out=tmp_path / "out")
    seeds = result.runs.groupby("replication")["seed"].unique()
    assert all(len(s) == 1 for s in seeds)           # one seed per replication
    assert seeds.map(lambda s: s[0]).is_unique       # and a different one for each
    spec = load_spec(write_spec(tmp_path))
    assert spec.seeds() == [int(s) for s in np.random.SeedSequence(5).generate_state(3)]
    # Every (point, design) ran every replication and every metric row is filled.
    counts = result.runs.groupby(["point", "design", "metric"]).size()
    assert (counts == 3).all()


def test_same_numbers_with_one_two_workers_and_dask(tmp_path):
    spec = write_spec(tmp_path)
    one = run_sweep(spec, workers=1, out=tmp_path / "w1")
    two = run_sweep(spec, workers=2, out=tmp_path / "w2")
    assert two.cache_hits == 0 and two.executed == one.executed == 18
    assert_same(frames(one), frames(two))

    from distributed import LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        on_dask = run_sweep(spec, dask_address=cluster.scheduler_address,
                            out=tmp_path / "dask")
    assert on_dask.executed == 18
    assert_same(frames(one), frames(on_dask))
    for name in ("runs.csv", "summary.csv", "paired.csv"):
        assert (tmp_path / "w1" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes()


def test_interrupted_sweep_resumes_without_redoing_finished_runs(tmp_path):
    spec = write_spec(tmp_path)
    finished = []

    def interrupt_after_seven(task, outcome, from_cache):
        finished.append(task.key)
        if len(finished) == 7:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, workers=2, out=tmp_path / "out", on_run=interrupt_after_seven)
    assert not (tmp_path / "out" / "runs.csv").exists()
    assert not list((tmp_path / "out").rglob("*.tmp"))

    redone = []
    resumed = run_sweep(spec, workers=2, out=tmp_path / "out",
                        on_run=lambda t, o, hit: None if hit else redone.append(t.key))
    assert resumed.cache_hits == 7 and resumed.executed == 11
    assert not set(redone) & set(finished)
    assert_same(frames(resumed), frames(run_sweep(spec, out=tmp_path / "fresh")))


def test_cache_key_follows_the_scenario(tmp_path):
    run_sweep(write_spec(tmp_path), out=tmp_path / "out")
    wider = write_spec(tmp_path, grid='"pressure.file_stream_bytes_per_s" = '
                                      '["0 MiB", "64 MiB", "32 MiB"]')
    result = run_sweep(wider, out=tmp_path / "out")
    assert result.cache_hits == 18 and result.executed == 9


@pytest.mark.parametrize("grid, reps, message", [
    ('"pressure.no_such_knob" = [1, 2]', REPS, "unknown parameter 'pressure.no_such_knob'"),
    ('"pressure.file_stream_bytes_per_s" = []', REPS,
     "grid 'pressure.file_stream_bytes_per_s': empty range"),
    ('"workload.processes" = [1, -2]', REPS, "workload.processes = -2"),
    (GRID, "min = 3\nmax = 2", "replications.max = 2"),
    (GRID, 'min = 3\nmetric = "states_dropped"', "relative_half_width"),
])
def test_bad_sweep_file_is_one_line_error(tmp_path, grid, reps, message):
    spec = write_spec(tmp_path, grid=grid, reps=reps)
    with pytest.raises(SweepError) as info:
        load_spec(spec)
    assert message in str(info.value)
    proc = subprocess.run([sys.executable, "-m", "model", "sweep", str(spec), "--no-progress",
                           "--out", str(tmp_path / "out")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], \
        proc.stderr
    assert not (tmp_path / "out").exists()


def test_failed_run_does_not_sink_the_sweep(tmp_path, capsys):
    # A memcg limit above the machine's RAM passes the file check but the
    # simulation refuses it: every run at that point fails, the others go on.
    spec = write_spec(tmp_path, grid='"memcg.limit_bytes" = [0, "64 GiB"]')
    result = run_sweep(spec, workers=2, out=tmp_path / "out")
    assert len(result.failures) == 9
    assert set(result.failures["point"]) == {1}
    assert "memcg.limit_bytes" in result.failures["error"].iloc[0]
    err = capsys.readouterr().err
    assert err.count("run failed: t point 1 (memcg.limit_bytes='64 GiB')") == 9
    ok = result.summary[result.summary["point"] == 0]
    assert (ok["n"] == 3).all() and (ok["n_failed"] == 0).all()
    assert result.summary[result.summary["point"] == 1].empty
    assert list(result.points["runs_failed"]) == [0, 9]
    assert (tmp_path / "out" / "failures.csv").exists()
    # Failures are not cached: a rerun tries exactly those again.
    again = run_sweep(spec, out=tmp_path / "out")
    assert again.cache_hits == 9 and again.executed == 9


def test_cli_runs_a_sweep_and_prints_the_headline(tmp_path):
    spec = write_spec(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "model", "sweep", str(spec), "--workers", "1",
                           "--no-progress", "--out", str(tmp_path / "out")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "18 runs executed, 0 from cache, 0 failed" in proc.stdout
    # One unit for every level of a key: 0 is "0 MiB/s" beside "64 MiB/s", not 0.0.
    assert "file_stream_bytes_per_s=0 MiB/s" in proc.stdout
    assert "file_stream_bytes_per_s=64 MiB/s" in proc.stdout
    # No pressure, no drop: droppable (and only it) gets the rare-event line,
    # bounded by 3 replications, not by the key lives they hold.
    rare = [l for l in proc.stdout.splitlines() if "no drop in 3 replications" in l]
    assert len(rare) == 2 and all(l.split()[0] == "droppable" for l in rare), proc.stdout
    assert f"P < {1 - 0.05 ** (1 / 3):.4g}" in rare[0]
    assert f"takes {replicate.units_to_bound(1e-5):,} replications" in proc.stdout
    assert "CPU-hours" in proc.stdout
    for name in ("runs", "summary", "paired", "points", "failures"):
        assert (tmp_path / "out" / f"{name}.csv").exists()


def test_progress_total_is_known_at_the_start(tmp_path, monkeypatch):
    """Every point's first batch is counted at once (not 0 -> 9 -> 18); only a
    batch the stopping rule adds later grows the total."""
    from model import progress, sweep
    seen = []

    class Recorder(progress.Progress):
        def __init__(self, total, *args, **kwargs):
            super().__init__(total, *args, **kwargs)
            seen.append(("start", total))

        def grow(self, n):
            seen.append(("grow", self.done, n))
            super().grow(n)

    monkeypatch.setattr(sweep, "Progress", Recorder)
    spec = write_spec(tmp_path, reps='min = 3\nmax = 6\nbatch = 3\n'
                                     'metric = "calls_syscall"\nabsolute_half_width = 1e-9')
    run_sweep(spec, out=tmp_path / "out")
    assert seen[0] == ("start", 2 * 3 * 3)
    # Each point's second batch is planned once its own first 9 runs are done.
    assert [g[1:] for g in seen[1:]] == [(9, 9), (18, 9)]


def test_stopping_rule_stops_early_when_the_ci_is_tight(tmp_path):
    # With 8 threads, calls served by the syscall vary by tens of per cent
    # between seeds (and are 0 for the vDSO designs, a CI of width 0): a
    # target of twice the mean is met at once, a 1e-9 one never is.
    loose = write_spec(tmp_path, reps='min = 3\nmax = 9\nbatch = 3\n'
                                      'metric = "calls_syscall"\nrelative_half_width = 2.0',
                       name="loose.toml")
    result = run_sweep(loose, out=tmp_path / "loose")
    assert list(result.points["replications"]) == [3, 3]
    assert list(result.points["stopped"]) == ["ci", "ci"]
    tight = write_spec(tmp_path, reps='min = 3\nmax = 9\nbatch = 3\n'
                                      'metric = "calls_syscall"\nabsolute_half_width = 1e-9',
                       name="tight.toml")
    result = run_sweep(tight, out=tmp_path / "tight")
    assert list(result.points["replications"]) == [9, 9]
    assert list(result.points["stopped"]) == ["max", "max"]
    assert (result.summary["n"] == 9).all()


def test_t_interval_and_paired_difference_match_scipy():
    from scipy import stats
    x = np.array([1.0, 2.0, 4.0, 7.0])
    mean, low, high = replicate.t_interval(x)
    ref_low, ref_high = stats.t.interval(0.95, 3, loc=x.mean(), scale=stats.sem(x))
    assert mean == 3.5 and math.isclose(low, ref_low) and math.isclose(high, ref_high)
    runs = pd.DataFrame({
        "point": 0, "metric": "m", "replication": [0, 1, 2, 0, 1, 2],
        "design": ["a", "a", "a", "ref", "ref", "ref"],
        "value": [3.0, 5.0, 10.0, 1.0, 2.0, 4.0]})
    row = replicate.paired(runs, ["point"], "ref").iloc[0]
    assert row["design"] == "a" and row["n_pairs"] == 3
    assert math.isclose(row["mean_diff"], 11 / 3)
    assert math.isclose(row["p_value"], stats.ttest_rel([3, 5, 10], [1, 2, 4]).pvalue)


def test_tail_metrics_are_bootstrapped_reproducibly():
    rng = np.random.default_rng(1)
    x = rng.lognormal(size=25)
    first = replicate.interval("reclaim_stall_p99_ms", x)
    assert first[3] == "bootstrap"
    assert first == replicate.interval("reclaim_stall_p99_ms", x)
    assert first[1] < first[0] < first[2]
    assert replicate.interval("reclaim_stalls", x)[3] == "t"


@pytest.mark.slow
@pytest.mark.timeout(3600)     # 2,580 uncached runs: about 18 min on two shared cores
@pytest.mark.skipif(os.environ.get("STUDY_SLOW") != "1", reason="STUDY_SLOW=1 runs it")
def test_q3_sweep_spans_no_drops_to_drops(tmp_path):
    """The whole Q3 sweep, cache off (its wall time is bench/sweep_bench.py's figure).

    Which peak drops states moves with the model, so nothing here names a
    level: the sweep must start below any drop, find drops somewhere, and
    where drops stop again at a higher peak, the OOM killer must be why.
    """
    spec = load_spec("q3-pressure")
    assert len(spec.points()) >= 5 and spec.min_replications >= 30
    assert spec.designs == tuple(DESIGNS)
    result = run_sweep(spec, workers=2, out=tmp_path / "q3", cache=False, progress=False)
    assert result.failures.empty
    mean = result.summary.pivot_table(index=["design", "point"], columns="metric",
                                      values="mean")
    drop = mean.loc["droppable"].sort_index()
    p = drop["p_state_dropped_in_key_life"]
    assert p.iloc[0] == 0, "the lowest peak already drops states: extend the grid down"
    assert (p > 0).any(), "no peak drops a state: the sweep no longer reaches the drops"
    # A key life with a drop needs a dropped state; not the converse: a state
    # dropped after its thread's last call in the run costs no key life.
    assert (drop.loc[p > 0, "states_dropped"] > 0).all()
    past = p.index > p[p > 0].index[0]
    assert (drop.loc[past & (p == 0).to_numpy(), "oom_kills"] > 0).all(), \
        "drops stop at a higher peak without an OOM kill"
    kept = [d for d in DESIGNS if DESIGNS[d].placement.reclaim != DROP]
    assert (mean.loc[kept, "p_state_dropped_in_key_life"] == 0).all()


def test_ctrl_c_leaves_no_half_written_file_and_resume_finishes(tmp_path):
    """SIGINT to the CLI midway: exit 130, finished runs cached, nothing half-written."""
    import signal
    import time
    spec = write_spec(tmp_path, reps="min = 40\nmax = 40")
    # Runs long enough that SIGINT lands mid-sweep, even on idle cores.
    spec.write_text(spec.read_text().replace('"run.duration_s" = 20', '"run.duration_s" = 300'))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "model", "sweep", str(spec), "--workers", "2",
           "--no-progress", "--out", str(out)]
    # As a terminal starts it: SIGINT at its default, even where this test
    # runs in the background of a shell without job control (which ignores it).
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while len(list(out.rglob("*.json"))) < 10:
            assert proc.poll() is None, "the sweep ended before it could be interrupted"
            assert time.monotonic() < deadline, "no run finished within 60 s"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    cached = len(list((out / "cache").rglob("*.json")))
    assert 10 <= cached < 240
    assert not list(out.rglob("*.tmp")) and not (out / "runs.csv").exists()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{240 - cached} runs executed, {cached} from cache, 0 failed" in done.stdout


def _die_on_mlock_replication_1(task):
    """Stands in for model.workers.run_task: the worker dies under one run."""
    from model import workers
    if task.design == "mlock" and task.replication == 1 and task.point == 0:
        os._exit(9)
    return workers._real_run_task(task)


@pytest.mark.skipif(__import__("multiprocessing").get_start_method() != "fork",
                    reason="the stand-in reaches the workers only through fork()")
def test_a_worker_that_dies_fails_its_run_only(tmp_path, monkeypatch):
    from model import workers
    monkeypatch.setattr(workers, "_real_run_task", workers.run_task, raising=False)
    monkeypatch.setattr(workers, "run_task", _die_on_mlock_replication_1)
    result = run_sweep(write_spec(tmp_path), workers=2, out=tmp_path / "out")
    failed = result.failures
    assert len(failed) == 1, failed
    assert failed.iloc[0][["point", "design", "replication"]].tolist() == [0, "mlock", 1]
    assert "worker process died" in failed.iloc[0]["error"]
    assert result.runs[["point", "design", "replication"]].drop_duplicates().shape[0] == 17


# -- the executors: capped, reachable, and never orphaned ---------------------------------

def _children(pid: int) -> set[int]:
    kids = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            kids |= {int(k) for k in (task / "children").read_text().split()}
        except FileNotFoundError:   # the thread ended between the listing and the read
            continue
    return kids


def _alive(pid: int) -> bool:
    """Running or sleeping: a zombie waiting for init to reap it is dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_sigkill_of_a_sweep_leaves_no_worker_behind(tmp_path):
    """Workers die with their parent (PR_SET_PDEATHSIG), not orphaned at 100 MB each."""
    import time
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "model", "sweep",
                             str(write_spec(tmp_path, reps="min = 40\nmax = 40")),
                             "--workers", "2", "--no-progress", "--out", str(out)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(workers := _children(proc.pid)) < 2 or not list(out.rglob("*.json")):
            assert proc.poll() is None and time.monotonic() < deadline, "no worker ran"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [w for w in workers if _alive(w)], "workers outlived the killed sweep"


def test_workers_are_capped_at_a_few_per_cpu(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "model", "sweep",
                           str(write_spec(tmp_path, reps="min = 1\nmax = 1")),
                           "--workers", "100000", "--no-progress", "--out", str(tmp_path / "o")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    cap = 4 * os.cpu_count()
    assert proc.stderr == f"note: --workers 100000 capped at {cap} (4 per CPU, " \
                          f"{os.cpu_count()} CPUs)\n"


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("address, message", [
    (f"tcp://127.0.0.1:{_free_port()}", "Connection refused"),
    ("tcp://192.0.2.1:8786", ""),                       # TEST-NET-1: refused or silent
    ("tcp://host:notaport", "not a scheduler address"),
    ("not an address", "not a scheduler address"),
    ("tcp://no-such-host.invalid:8786", ""),
])
def test_unreachable_dask_scheduler_is_one_line_within_seconds(tmp_path, address, message):
    import time
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "model", "sweep", str(write_spec(tmp_path)),
                           "--dask", address, "--no-progress", "--out", str(tmp_path / "o")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert time.monotonic() - started < 20
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: --dask {address}: {message}"), proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr


def test_rare_event_bounds_over_units_not_key_lives():
    """No event in n units bounds P at 1 - 0.05^(1/n) however many key lives
    each unit held; the units needed for 1e-5 are the least n that do."""
    zero = replicate.rare_event([0.0] * 30, [1000.0] * 30, 1e-5)
    many = replicate.rare_event([0.0] * 30, [1e6] * 30, 1e-5)
    assert zero["upper95"] == many["upper95"] == pytest.approx(1 - 0.05 ** (1 / 30))
    assert zero["verdict"] == "open" and zero["p_low"] == 0.0
    n = zero["units_needed"]
    assert replicate.clopper_pearson_upper(0, n) < 1e-5 <= replicate.clopper_pearson_upper(0, n - 1)
    assert zero["key_lives_needed"] == n * 1000.0
    assert replicate.rare_event([0.0] * 30, [10.0] * 30, 0.2)["verdict"] == "bounded"


def test_rare_event_interval_stays_within_zero_and_one():
    for fractions in ([0.0] * 9 + [1.0], [0.0, 0.9, 1.0, 1.0], [1e-4, 0.0, 0.0, 2e-4, 0.0]):
        got = replicate.rare_event(fractions, [100.0] * len(fractions), 1e-5)
        assert 0.0 <= got["p_low"] <= got["p_mean"] <= got["p_high"] <= 1.0, got
        assert got["units_needed"] is None
    above = replicate.rare_event([0.2, 0.3, 0.25, 0.22], [100.0] * 4, 1e-5)
    assert above["verdict"] == "above"
    # Clustered drops: fractions vary far more than independent key lives would.
    assert replicate.rare_event([0.0] * 9 + [1.0], [100.0] * 10, 1e-5)["design_effect"] > 10


def test_every_assumption_has_a_plausible_range_the_scenarios_accept():
    from model import sensitivity
    from model.scenario import load
    names = sensitivity.assumptions()
    assert "pressure.anon_hot_fraction" in names and "workload.calls_per_s" in names
    assert set(names) <= set(sensitivity.RANGES)
    for name in names:
        r = sensitivity.RANGES[name]
        for end in (r.low, r.high):
            load("spikes").with_overrides({name: end})     # raises if out of bounds


def test_sensitivity_varies_each_applicable_assumption_at_both_ends(tmp_path):
    from model import sensitivity
    from model.scenario import load
    sc = load("spikes", {"run.duration_s": 20, "workload.processes": 1,
                         "workload.threads_per_process": 4})
    s = sensitivity.run(sc, replications=2, factorial=2, out_root=tmp_path)
    skipped = set(s.skipped["assumption"])
    assert {"pressure.leak_start_max_s", "workload.heap_hot_fraction"} <= skipped
    varied = set(sensitivity.assumptions()) - skipped
    assert set(s.ranking) == varied
    assert len(s.oat) == (1 + 2 * len(varied)) * len(sensitivity.METRICS)
    assert (s.oat["n"] == 2).all()
    assert set(s.oat[s.oat["assumption"] != ""]["end"]) == {"low", "high"}
    assert "not varied: pressure.leak_start_max_s: no leak" in sensitivity.text(s)


@pytest.mark.parametrize("args, message", [
    (["--set", "pressure.nonsense=1"], "nonsense"),
    (["--set", "novalue"], "expected KEY=VALUE"),
    (["--replications", "1"], "--replications 1"),
])
def test_sensitivity_cli_bad_input_is_one_line(tmp_path, args, message):
    proc = subprocess.run([sys.executable, "-m", "model", "sensitivity", "spikes", *args,
                           "--out", str(tmp_path / "s")], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr


def test_q3_bound_runs_what_bounds_1e5_on_q3_pressures_scenario():
    bound, pressure = load_spec("q3-bound"), load_spec("q3-pressure")
    assert bound.min_replications == bound.max_replications == replicate.units_to_bound(1e-5)
    assert bound.designs == ("droppable",) and bound.base_seed == pressure.base_seed
    assert bound.scenario == pressure.scenario
    (key, peaks), = bound.grid
    assert set(peaks) <= set(dict(pressure.grid)[key])


def test_sensitivity_ranks_by_how_far_either_end_moves_from_the_scenario():
    """Both ends of x leave the band of drops (0.3 -> 0, 0.001): x moves P as
    far as y does, though its ends lie close together."""
    from model import sensitivity
    rows = [{"assumption": a, "end": e, "metric": m, "mean": v}
            for a, ends in (("", {"base": 0.3}), ("x", {"low": 0.0, "high": 0.001}),
                            ("y", {"low": 0.1, "high": 0.35}), ("z", {"low": 0.3, "high": 0.31}))
            for e, v in ends.items() for m, _ in sensitivity.METRICS]
    oat = pd.DataFrame(rows)
    assert sensitivity._rank(oat) == ["x", "y", "z"]
    assert sensitivity._spans(oat, "x")[0] == pytest.approx(0.3)
