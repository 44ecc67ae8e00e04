"""Scenario checking and the command line: one-line errors, nothing half-written."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import model
from model import params
from model.scenario import ScenarioError, from_dict

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "model", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("raw, message", [
    ({"workload": {"threds_per_process": 4}}, "unknown key 'workload.threds_per_process'"),
    ({"memory": {}}, "unknown section [memory]"),
    ({"workload": {"processes": "four"}}, "workload.processes = 'four': expected a number"),
    ({"machine": {"ram_bytes": -4096}}, "machine.ram_bytes = -4096: negative"),
    ({"pressure": {"profile": "flood"}}, "pressure.profile = 'flood': expected one of"),
    ({"machine": {"ram_bytes": "4 GB"}}, "machine.ram_bytes = '4 GB': expected bytes"),
    ({"workload": {"calls_per_s": [[10, 0]]}}, "weights > 0"),
    ({"workload": {"processes": 1.5}}, "expected a whole number"),
])
def test_bad_scenarios_name_the_key_and_value(raw, message):
    with pytest.raises(ScenarioError) as e:
        from_dict(raw)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_sizes_with_units_and_overrides():
    sc = model.load("server", {"machine.ram_bytes": "2 GiB", "workload.fork_per_s": 1})
    assert sc.machine.ram_bytes == 2 << 30 and sc.workload.fork_per_s == 1.0
    assert ("machine.ram_bytes", "2 GiB") in sc.overrides
    with pytest.raises(ScenarioError, match="unknown parameter 'machine.rams'"):
        sc.with_overrides({"machine.rams": 1})


def test_every_parameter_states_its_source():
    for name, _default, source in params.describe():
        assert source.strip(), f"{name} has no source"


def test_default_scenarios_load():
    for path in sorted(model.scenario.SCENARIO_DIR.glob("*.toml")):
        assert model.load(path.stem).description


def test_run_prints_a_table_per_design_and_writes_results(tmp_path):
    out = tmp_path / "results"
    p = cli("run", "server", "--design", "droppable", "--design", "syscall",
            "--seed", "3", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert "server / droppable / seed 3" in p.stdout
    assert "server / syscall / seed 3" in p.stdout
    assert "P(state dropped in its key life)" in p.stdout
    written = sorted(f.name for f in (out / "server" / "seed3").iterdir())
    assert written == ["costs.csv", "metrics.csv", "oom_events.csv", "timeseries.csv"]
    assert f"wrote {out / 'server' / 'seed3'}/ (metrics.csv" in p.stdout
    # What the model bills at a rate is an expectation, and says so.
    assert "reseeds: key expiry, expected" in p.stdout


def test_a_second_run_with_another_design_keeps_the_first(tmp_path):
    out = tmp_path / "results"
    first = cli("run", "server", "--design", "mlock", "--out", str(out))
    second = cli("run", "server", "--design", "syscall", "--out", str(out))
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert "kept the rows of mlock from an earlier run" in second.stdout
    for part in ("metrics", "timeseries"):
        frame = pd.read_csv(out / "server" / "seed0" / f"{part}.csv")
        assert list(frame["design"].unique()) == ["syscall", "mlock"], part   # designs order
    # Rerunning a design replaces its rows, it does not add a second copy.
    again = cli("run", "server", "--design", "mlock", "--out", str(out))
    metrics = pd.read_csv(out / "server" / "seed0" / "metrics.csv")
    assert again.returncode == 0 and metrics.groupby("design").size().nunique() == 1
    # Rows computed with other costs are not mixed in: they go, and the run says so.
    other = cli("run", "server", "--design", "exempt", "--what-if", "reseed_ns=1",
                "--out", str(out))
    assert "dropped those of syscall, mlock, run with other costs" in other.stdout
    assert set(pd.read_csv(out / "server" / "seed0" / "metrics.csv")["design"]) == {"exempt"}


def test_progress_never_changes_a_number():
    """`run` follows simulated time with a SimPy process of its own."""
    from model.calibration import load_costs
    from model.cli import simulate_with_progress
    from model.sim.simulation import simulate
    scenario = model.load("spikes", {"run.duration_s": 120})
    costs = load_costs()
    plain = simulate(scenario, "droppable", seed=4, costs=costs)
    followed = simulate_with_progress(scenario, "droppable", 4, costs)
    for part in ("metrics", "timeseries", "oom_events"):
        pd.testing.assert_frame_equal(getattr(plain, part), getattr(followed, part),
                                      check_exact=True)


def test_study_help_quotes_the_readmes_times():
    from model import cli as model_cli
    readme = (ROOT / "README.md").read_text()
    assert f"| {model_cli.STUDY_TIME} |" in readme
    assert f"| {model_cli.FULL_TIME} |" in readme
    help_ = " ".join(cli("study", "--help").stdout.split())
    assert model_cli.STUDY_TIME in help_ and model_cli.FULL_TIME in help_


@pytest.mark.parametrize("args, message", [
    (("run", "server", "--design", "madvise"), "error: unknown design 'madvise'"),
    (("run", "no-such-scenario"), "error: no-such-scenario: no such scenario"),
    (("frobnicate",), "error: unknown command 'frobnicate'"),
])
def test_cli_errors_are_one_line_and_write_nothing(tmp_path, args, message):
    out = tmp_path / "results"
    p = cli(*args, "--out", str(out)) if args[0] == "run" else cli(*args)
    assert p.returncode == 2
    assert p.stderr.strip().startswith(message), p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_malformed_toml_is_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[workload\nprocesses = 1\n")
    p = cli("run", str(bad), "--out", str(tmp_path / "r"))
    assert p.returncode == 2 and "not valid TOML" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_interrupted_run_leaves_no_partial_results(tmp_path):
    """A run killed mid-way by SIGINT leaves no results directory behind."""
    import signal
    import time
    out = tmp_path / "results"
    # `python -m model`, with word once its imports are done: on a loaded
    # machine they alone can outlast a fixed wait, and a SIGINT there is
    # Python's, not the command's.
    start = ("import sys; import model.cli; from model.__main__ import main; "
             "print('imported', flush=True); sys.exit(main(sys.argv[1:]))")
    proc = subprocess.Popen([sys.executable, "-c", start, "run", "bench", "--out", str(out)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "imported"
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert not (out / "bench").exists() or not any((out / "bench").iterdir())
    leftovers = list(out.rglob("*")) if out.exists() else []
    assert not [p for p in leftovers if p.is_file()]


# -- bounds: a slip of the keyboard is one line, at once ------------------------------

@pytest.mark.parametrize("raw, message", [
    ({"workload": {"threads_per_process": 10**12}},
     "workload.threads_per_process = 1000000000000: too large (maximum 4,194,304"),
    ({"run": {"duration_s": 0}}, "run.duration_s = 0: too small"),
    ({"workload": {"processes": 100, "threads_per_process": 100_000}},
     "= 10,000,000 threads: more than a machine can run"),
    ({"run": {"duration_s": 2e6, "probe_interval_s": 1}},
     "= 2,000,000 probes: simulating them would take about 6.12 GiB of memory"),
    ({"workload": {"region_bytes": "64 TiB"}}, "region pages: simulating them would take"),
    ({"state": {"state_bytes": 5000}}, "state.state_bytes = 5000: larger than state.page_bytes"),
    ({"pressure": {"anon_hot_fraction": 1.5}}, "too large (maximum 1.0"),
    ({"workload": {"calls_per_s": [[float("inf"), 1]]}}, "must be finite"),
])
def test_sizes_are_bounded_and_the_error_names_the_cost(raw, message):
    with pytest.raises(ScenarioError) as e:
        from_dict(raw)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_every_size_parameter_has_an_upper_bound():
    for section, cls in params.SECTIONS.items():
        for f in dataclasses.fields(cls):
            size = f.name.endswith(("_bytes", "_bytes_per_s")) or f.name in (
                "processes", "threads_per_process", "child_threads", "duration_s")
            if size and not isinstance(f.default, tuple):
                assert f.metadata["maximum"] is not None, f"{section}.{f.name}"


def test_a_trillion_threads_is_refused_at_once(tmp_path):
    """It used to hang in the thread-creation loop, grow to 7.6 GB and ignore Ctrl-C."""
    huge = tmp_path / "huge.toml"
    huge.write_text("[workload]\nthreads_per_process = 1000000000000\n")
    p = cli("run", str(huge), "--out", str(tmp_path / "r"))
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "of memory to simulate" in p.stderr, p.stderr


def test_one_ctrl_c_stops_a_run_that_is_starting_millions_of_threads(tmp_path):
    """SimPy holds a Ctrl-C raised in one server's thread-creation loop until
    the other servers' loops are done; the run must stop at once."""
    import signal
    big = tmp_path / "big.toml"
    big.write_text('[workload]\nprocesses = 4\nthreads_per_process = 1000000\n'
                   '[machine]\nram_bytes = "64 GiB"\n')
    proc = subprocess.Popen([sys.executable, "-m", "model", "run", str(big), "--design",
                             "syscall", "--out", str(tmp_path / "r")], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def rss_mib() -> int:
        status = Path(f"/proc/{proc.pid}/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0]) // 1024 if "VmRSS:" in status else 0
    try:
        deadline = time.monotonic() + 120
        while rss_mib() < 300:                  # ~140 MiB imported, then threads
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and err == "interrupted: nothing written\n", err
    assert time.monotonic() - sent < 3, "Ctrl-C waited for the other servers' loops"
    assert not (tmp_path / "r").exists()


def test_empty_scenario_file_is_refused(tmp_path):
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing here\n")
    p = cli("run", str(empty), "--out", str(tmp_path / "r"))
    assert p.returncode == 2 and p.stderr.startswith(f"error: {empty}: empty scenario file")
    assert p.stderr.count("\n") == 1 and not (tmp_path / "r").exists()


# -- outputs: refused before any work -------------------------------------------------

@pytest.fixture
def read_only_dir(tmp_path):
    """A directory nobody may create entries in, root included (chattr +i)."""
    d = tmp_path / "ro"
    d.mkdir()
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(d)], capture_output=True).returncode:
            pytest.skip("chattr +i not supported here")
        yield d
        subprocess.run(["chattr", "-i", str(d)], check=True)
    else:
        d.chmod(0o555)
        yield d
        d.chmod(0o755)


SWEEP = """[sweep]
scenario = "server"
designs = ["syscall"]
[overrides]
"run.duration_s" = 5
"""


@pytest.mark.parametrize("where", ["under-a-file", "read-only"])
@pytest.mark.parametrize("command", ["run", "study", "figures", "report", "validate", "sweep"])
def test_unwritable_out_is_refused_before_any_work(tmp_path, read_only_dir, command, where):
    (tmp_path / "a-file").write_text("")
    out = tmp_path / "a-file" / "out" if where == "under-a-file" else read_only_dir / "out"
    if command == "report":
        out = out / "report.txt"
    args = {"run": ["run", "server"], "sweep": ["sweep", str(tmp_path / "s.toml")]}.get(
        command, [command])
    (tmp_path / "s.toml").write_text(SWEEP)
    started = time.monotonic()
    p = cli(*args, "--out", str(out))
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith(f"error: --out {out}: ") and p.stderr.count("\n") == 1, p.stderr
    assert p.stdout == ""                      # no table, no progress: no work began
    assert time.monotonic() - started < 30
    assert not out.exists()
