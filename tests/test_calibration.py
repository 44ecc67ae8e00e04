"""Calibration from data/host, refusal, what-ifs, validation and the back-test."""
import importlib.util
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import model
from model import calibration, cli, hostcosts, validate
from model.calibration import CalibrationError, load_costs, parse_what_if
from model.sim.costs import Linear, SizeCurve
from model.fits import median_ci

REPO = Path(__file__).resolve().parent.parent
HOST = REPO / "data" / "host"
PROVENANCE = {"where": "host", "kernel_release": "6.18.0-test", "variant": "none",
              "cpu_model": "test cpu", "glibc": "glibc 2.36", "date_utc": "2026-11-26T00:00:00Z",
              "git_commit": "0" * 40, "command": "synthetic"}


# --- synthetic data ----------------------------------------------------------------

def _write(dirpath: Path, name: str, rows: list[dict]) -> Path:
    path = dirpath / "host" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([{**PROVENANCE, **r} for r in rows]).to_csv(path, index=False)
    return path


def vdso_ns(size):
    return 20.0 * (size / 4) ** 0.5


def syscall_ns(size):
    return 500.0 + 2.0 * size


def synthetic(tmp_path: Path, limits=(256, 128)) -> Path:
    """Files with known answers: the fits must give them back."""
    sizes = (4, 16, 32, 64, 256, 1024, 4096)
    calls = [{"mode": mode, "size_bytes": s, "threads": t, "thread": 0, "sample": i,
              "calls": 1000, "ns_per_call": f(s) * (2 if t == 2 else 1) * (1 + 0.01 * (i - 2))}
             for mode, f in (("vdso", vdso_ns), ("syscall", syscall_ns))
             for t in (1, 2) for s in sizes for i in range(5)]
    _write(tmp_path, "callcost.csv", calls)
    reseed = [{"state": st, "size_bytes": 4, "sample": i, "rounds": 100, "ns_per_call": v + i}
              for st, v in (("warm", 40.0), ("zeroed", 640.0), ("dropped", 3840.0),
                            ("dropped_unread", 4640.0),
                            ("clock", 20.0)) for i in range(5)]
    _write(tmp_path, "reseed.csv", reseed)
    faults = [{"kind": k, "pages": 256, "sample": i, "ns_per_page": v + i - 2}
              for k, v in (("anon", 3000.0), ("droppable", 3200.0), ("mlock2_onfault", 4000.0),
                           ("mlock", 1400.0), ("map_locked", 3900.0),
                           ("anon_refault_rw", 3800.0), ("droppable_refault_rw", 4000.0),
                           ("mlock2_onfault_rw", 4800.0), ("droppable_refault_read", 800.0))
              for i in range(5)]
    _write(tmp_path, "fault.csv", faults)
    _write(tmp_path, "states_trace.csv", [{"page": 1, "rate_hz": 1.0, "off_lru_s": w}
                                          for w in (0.0, 0.0, 0.25, 1.5)])
    # hog_fill_ns = 2800 ns per hog page + 1500 ns per page scanned, exactly.
    pressure = []
    for limit in limits:
        for touch in ("cold", "hot"):
            for hog in (limit // 2, limit - 8 + 2):     # D = 8 MiB: under, then just over
                over = 8 + hog > limit
                scanned = 4096 if over else 0
                pressure += [{"kind": "droppable", "touch": touch, "limit_mib": limit,
                              "droppable_mib": 8, "hog_mib": hog, "sample": i, "pages": 2048,
                              "dropped_pages": 2048 if over else 0,
                              "drop_fraction": 1.0 if over else 0.0,
                              "hog_fill_ns": 2800 * hog * 256 + 1500 * (scanned + 512 * i),
                              "holder": "exited", "hog": "exited", "outcome": "ok",
                              "pgscan_file": scanned + 512 * i * over}
                             for i in range(2)]
    _write(tmp_path, "pressure.csv", pressure)
    # Traced reclaim calls: 600 ns a page at one limit, 900 at the other,
    # weighted by the pages each call scanned; a call that scanned nothing
    # takes time but walks nothing.
    _write(tmp_path, "pressure_walk_reclaim.csv", [
        {"command": f"vgetrandom-harness pressure --limit-mib {limit} --hog-mib 9",
         "nr_scanned": pages, "duration_ns": ns * pages or 5000}
        for limit, ns in zip(limits, (600, 900)) for pages in (1000, 3000, 0)])
    # A thread calling alone once a gap (the modes not taking turns, so no
    # call after the longest sleep for `model costs`), at gaps no Q6 rate
    # has: 5 calls a gap, each mode's mean IDLE_NS + 1.
    _write(tmp_path, "idlecall.csv", [
        {**r, "modes": r["mode"]}
        for gap, ns in IDLE_NS.items()
        for r in _idle_rows(0, gap, {m: ns[m] for m in ("vdso", "syscall", "dropped")}, calls=5)
        + (_idle_rows(0, gap, {"vdso": ns["reseeded"]}, calls=5, moved=1)
           if "reseeded" in ns else [])])
    return tmp_path


# idlecall.csv's means less 1, by gap_ms and mode (reseeded: the vDSO's calls
# whose key had expired).
IDLE_NS = {0: {"vdso": 100, "syscall": 600, "dropped": 5000},
           2: {"vdso": 200, "syscall": 1100, "dropped": 6000},
           200: {"vdso": 1100, "syscall": 3600, "dropped": 25000},
           5000: {"vdso": 1300, "syscall": 4100, "dropped": 26000, "reseeded": 4300}}


# --- fits ---------------------------------------------------------------------------

def test_size_curve_goes_through_its_points_and_is_a_power_law_between():
    curve = SizeCurve((4, 16, 64), (10.0, 20.0, 80.0))
    assert [curve(s) for s in (4, 16, 64)] == pytest.approx([10, 20, 80])
    assert curve(8) == pytest.approx(10 * 2 ** 0.5)
    assert curve(1) == 10 and curve(128) == pytest.approx(160)
    with pytest.raises(ValueError):
        SizeCurve((4,), (1.0,))


def test_median_ci_holds_the_median():
    m = median_ci([5, 1, 4, 2, 3, 9, 7, 8, 6, 10])
    assert m.value == 5.5 and m.low <= 5.5 <= m.high and m.n == 10


def test_synthetic_files_give_back_known_costs(tmp_path):
    costs = load_costs(data_dir=synthetic(tmp_path))
    assert not costs.what_if
    for size in (4, 16, 64, 4096):
        assert costs.vdso(size) == pytest.approx(vdso_ns(size), rel=1e-9)
        assert costs.syscall(size) == pytest.approx(syscall_ns(size), rel=1e-9)
    assert costs.call_by_threads["vdso", 2](4) == pytest.approx(2 * vdso_ns(4))
    assert costs.reseed_ns == pytest.approx(600.0)
    assert costs.lru_add_wait_s == (0.0, 0.0, 0.25, 1.5)
    assert costs.fault_ns == pytest.approx({"anon": 3000, "droppable": 3200,
                                            "unevictable": 4000})
    assert costs.state_fault_ns == pytest.approx({"anon": 3800, "droppable": 4000,
                                                  "unevictable": 4800})
    assert costs.mlock_ns_per_page == pytest.approx(1400)
    assert costs.scan_ns_per_page == pytest.approx(1500, rel=1e-6)
    assert costs.kswapd_pages_per_s == pytest.approx(1e9 / 1500, rel=1e-6)
    assert costs.walk_ns_per_page == pytest.approx(750)
    assert "callcost.csv mode=vdso threads=1" in costs.sources["vdso"]
    assert "kind=mlock2_onfault" in costs.sources["fault_ns.unevictable"]
    assert "kind=droppable_refault_rw" in costs.sources["state_fault_ns.droppable"]


def test_a_call_after_a_gap_costs_what_the_thread_timed_alone_paid_more(tmp_path):
    """after_gap: each mode's mean alone at each gap less its mean at gap 0;
    the reseed, the vDSO's reseeding calls less its key-current ones less
    reseed_ns, and at shorter gaps the syscall's extra scaled to meet it."""
    data = synthetic(tmp_path)
    costs = load_costs(data_dir=data)
    g = costs.after_gap
    assert g["vdso"].gaps_s == (0.0, 0.002, 0.2, 5.0)
    assert g["vdso"].extra_ns == pytest.approx((0, 100, 1000, 1200))
    assert g["syscall"].extra_ns == pytest.approx((0, 500, 3000, 3500))
    assert g["zeroed"].extra_ns == pytest.approx((0, 1000, 20000, 21000))
    assert g["reseed"](5.0) == pytest.approx(3000 - 600)
    assert g["reseed"](0.2) == pytest.approx(3000 * 2400 / 3500)
    # Straight in log(gap) between gaps, in gap from 0 to the first, flat past the last.
    assert g["vdso"](0.02) == pytest.approx(100 + 900 / 2)
    assert g["vdso"](0.001) == pytest.approx(50)
    assert g["vdso"](600.0) == pytest.approx(1200)
    # A periodic thread pays its one gap's; a Poisson one the mean over its
    # exponential gaps, and over the gaps a drop falls in, their sum of two.
    assert g["syscall"].mean_over("periodic", 5.0) == pytest.approx(3000)
    draws = np.random.default_rng(1).exponential(0.2, (2, 400_000))
    assert g["syscall"].mean_over("poisson", 5.0) == pytest.approx(
        g["syscall"](draws[0]).mean(), rel=0.01)
    assert g["zeroed"].mean_over("poisson", 5.0, length_biased=True) == pytest.approx(
        g["zeroed"](draws.sum(axis=0)).mean(), rel=0.01)
    assert "idlecall.csv" in costs.sources["after_gap"] and "2 ms" in costs.sources["after_gap"]
    # By hand: one extra for every call after any gap; 0 charges every call back to back.
    flat = load_costs(data_dir=data, what_if={"after_gap": 0.0}).after_gap
    assert all(c(30.0) == 0 for c in flat.values()) and set(flat) == set(g)
    # Too few calls at gap 0 to set the others against: refused by name.
    _write(data, "idlecall.csv", [{**r, "modes": r["mode"]} for r in
                                  _idle_rows(0, 0, IDLE_NS[0], calls=4)
                                  + _idle_rows(0, 2, IDLE_NS[2], calls=5)])
    with pytest.raises(CalibrationError, match="idlecall.csv: mode vdso not timed alone at gap 0"):
        load_costs(data_dir=data)


def _curve_rows(ns: dict, code: str = "own", companion: str = "none", calls: int = 5):
    """idlecall_curves.csv's rows: each mode alone at each gap of `ns`
    (gap_ms -> {mode: mean less 1}), timed with --call-code `code`."""
    return [{**r, "modes": r["mode"], "call_code": code,
             "companion": companion if companion == "none" else f"{r['mode']}:{companion}"}
            for gap, by_mode in ns.items() for r in _idle_rows(0, gap, by_mode, calls)]


def test_the_model_s_curves_are_those_timed_in_a_function_where_measured(tmp_path):
    """Where idlecall_curves.csv timed them in a function of their own
    (--call-code own), the model's after_gap curves, the lone thread's and
    each process's, are its, and its rows timed otherwise are not read; the
    reseed's stays idlecall.csv's (inline, a difference within its runs)."""
    data = synthetic(tmp_path)
    inline = load_costs(data_dir=data)
    lone = {0: {"vdso": 100, "syscall": 600, "dropped": 5000},
            200: {"vdso": 400, "syscall": 3000, "dropped": 24000}}
    busy = {0: {"vdso": 90, "syscall": 500}, 200: {"vdso": 190, "syscall": 800}}
    _write(data, "idlecall_curves.csv",
           _curve_rows(lone) + _curve_rows(busy, companion="1000:28")
           + _curve_rows({g: {"vdso": 9 * v["vdso"]} for g, v in lone.items()}, code="none"))
    costs = load_costs(data_dir=data)
    g = costs.after_gap
    assert g["vdso"].gaps_s == (0.0, 0.2) and g["vdso"].extra_ns == pytest.approx((0, 300))
    assert g["syscall"].extra_ns == pytest.approx((0, 2400))
    assert g["zeroed"].extra_ns == pytest.approx((0, 19000))
    assert g["reseed"](5.0) == inline.after_gap["reseed"](5.0) == pytest.approx(3000 - 600)
    [(calls_per_s, there)] = costs.process_after_gap
    assert calls_per_s == 28_000 and there["vdso"].extra_ns == pytest.approx((0, 100))
    source = " ".join(costs.sources["after_gap"].split())
    assert "idlecall_curves.csv, each call timed in a function" in source
    assert "reseeded less key current (" in source and "idlecall.csv, timed inline" in source
    # A syscall no dearer after the reseed's first gap than back to back:
    # the reseed's curve has nothing to be scaled to, refused in one line.
    _write(data, "idlecall_curves.csv", _curve_rows({g: {**v, "syscall": 600}
                                                     for g, v in lone.items()}))
    with pytest.raises(CalibrationError, match="after_gap: the syscall costs nothing more"):
        load_costs(data_dir=data)
    # A mode the file did not time alone: refused by name, not taken from idlecall.csv.
    _write(data, "idlecall_curves.csv", _curve_rows({g: {m: v[m] for m in ("vdso", "syscall")}
                                                     for g, v in lone.items()}))
    with pytest.raises(CalibrationError,
                       match="idlecall_curves.csv: mode dropped not timed alone at gap 0"):
        load_costs(data_dir=data)


def test_the_walk_is_measured_on_the_limits_asked_for(tmp_path):
    data = synthetic(tmp_path)
    found, _ = calibration.measured(data, skip=[p for p in calibration.PARAMETERS
                                                if p != "walk_ns_per_page"], limits=(128,))
    assert found["walk_ns_per_page"].value == pytest.approx(900)
    assert "limit_mib in 128" in found["walk_ns_per_page"].source


def test_a_dropped_state_call_is_predicted_with_the_vdso_s_two_faults(tmp_path):
    """reseed (600) + read-then-write fault (4000) against dropped_unread - warm
    (4600); the read-first call against reseed + the write fault alone."""
    rows = {r["case"]: r for r in validate.reseed_cases(synthetic(tmp_path))}
    unread = rows["call on a dropped state, 4 B"]
    assert unread["measured"] == pytest.approx(4600) and unread["predicted"] == pytest.approx(4600)
    first = rows["call on a dropped state read first, 4 B"]
    assert first["measured"] == pytest.approx(3800)
    assert first["predicted"] == pytest.approx(600 + 4000 - 800)


def test_every_machine_measured_under_data_gets_the_call_and_reseed_hold_out(tmp_path):
    """A second machine laid out as data/ is (data/xeon/host) is held out by
    the same rule from its own rows, its cases named by its directory; the
    first machine's cases stay as they were."""
    data = synthetic(tmp_path / "data")
    other = synthetic(tmp_path / "data" / "other")
    path = other / "host" / "callcost.csv"
    frame = pd.read_csv(path)
    frame["ns_per_call"] *= 3
    frame.to_csv(path, index=False)
    own = validate.call_cases(data) + validate.reseed_cases(data)
    rows = validate.cost_cases(data)
    named = [r for r in rows if r["case"].endswith(f", {other / 'host'}")]
    assert [r for r in rows if r not in named] == own and len(named) == len(own)
    for mine, twin in zip(own, named):
        assert twin["case"] == f"{mine['case']}, {other / 'host'}"
        scale = 3 if mine["group"] == "call" else 1
        assert twin["measured"] == pytest.approx(scale * mine["measured"])
        assert twin["predicted"] == pytest.approx(scale * mine["predicted"])
    assert [r["group"] for r in rows] == sorted(r["group"] for r in rows)


@pytest.mark.skipif(not all((HOST / f).exists() for f in calibration.COLUMNS),
                    reason="data/host lacks a timing CSV (make calibrate writes them)")
def test_costs_from_committed_data_host():
    costs = load_costs()
    assert not costs.what_if
    assert 0 < costs.vdso(4) < costs.syscall(4)
    assert costs.reseed_ns > 0 and costs.scan_ns_per_page > 0
    assert all(v > 0 for v in costs.fault_ns.values())
    assert all("data/host/" in s for s in costs.sources.values())


# --- errors and refusal -----------------------------------------------------------------

def test_missing_file_is_one_line_naming_it(tmp_path):
    data = synthetic(tmp_path)
    (data / "host" / "fault.csv").unlink()
    with pytest.raises(CalibrationError, match=r"fault\.csv: no such file") as e:
        load_costs(data_dir=data)
    assert "\n" not in str(e.value)


def test_missing_column_names_file_and_column(tmp_path):
    data = synthetic(tmp_path)
    path = data / "host" / "callcost.csv"
    pd.read_csv(path).drop(columns=["ns_per_call"]).to_csv(path, index=False)
    with pytest.raises(CalibrationError, match=r"callcost\.csv: missing column 'ns_per_call'$"):
        load_costs(data_dir=data)


def test_a_non_number_names_the_row(tmp_path):
    data = synthetic(tmp_path)
    path = data / "host" / "fault.csv"
    frame = pd.read_csv(path).astype({"ns_per_page": object})
    frame.loc[3, "ns_per_page"] = "fast"
    frame.to_csv(path, index=False)
    with pytest.raises(CalibrationError, match=r"fault\.csv: column 'ns_per_page', row 5"):
        load_costs(data_dir=data)


def test_a_column_added_since_a_file_s_first_runs_reads_as_one_type(tmp_path):
    """A harness file keeps its old rows as they were when a later sitting
    adds a column (lru, cgroup, swap_kib): empty in the old rows, filled in
    the new.  Read whole, it is one column of strings and blanks, not one
    typed chunk by chunk (pandas' DtypeWarning, and floats beside strings)."""
    old, new = 300_000, 100_000      # more rows than pandas types in one chunk
    path = tmp_path / "states_moves.csv"
    pd.DataFrame({"where": "host", "run": np.arange(old + new) // 1000,
                  "lru": [""] * old + ["classic"] * new}).to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = calibration.read_table(path, columns=("where", "run", "lru"))
    assert frame["lru"].iloc[:old].isna().all()
    assert (frame["lru"].iloc[old:] == "classic").all()


def test_an_unmeasured_parameter_is_refused_by_name(tmp_path):
    data = synthetic(tmp_path)
    path = data / "host" / "fault.csv"
    frame = pd.read_csv(path)
    frame[frame["kind"] != "droppable"].to_csv(path, index=False)
    with pytest.raises(CalibrationError, match=r"no measurement for 'fault_ns\.droppable'"):
        load_costs(data_dir=data)
    costs = load_costs(data_dir=data, what_if={"fault_ns.droppable": 300})
    assert costs.what_if and costs.fault_ns["droppable"] == 300
    assert costs.sources["fault_ns.droppable"].startswith("what-if")
    assert "fault_ns.droppable" in costs.what_if_note()


def test_a_file_whose_parameters_are_all_what_ifs_is_not_needed(tmp_path):
    data = synthetic(tmp_path)
    (data / "host" / "reseed.csv").unlink()
    assert load_costs(data_dir=data, what_if={"reseed_ns": 500}).reseed_ns == 500


def test_what_if_keys_and_presets_are_checked():
    assert parse_what_if(["facts"])["syscall.base_ns"] == pytest.approx(484.5)
    assert parse_what_if(["reseed_ns=12"]) == {"reseed_ns": 12.0}
    with pytest.raises(CalibrationError, match="not a number"):
        parse_what_if(["reseed_ns=x"])
    with pytest.raises(CalibrationError, match="unknown cost parameter"):
        load_costs(what_if={"fault_ns.huge": 1})


def test_the_facts_preset_is_only_a_flagged_what_if(tmp_path):
    costs = load_costs(data_dir=synthetic(tmp_path), what_if=parse_what_if(["facts"]))
    assert costs.what_if and costs.vdso == Linear(22.5, 0.0)
    assert not costs.sources["reseed_ns"].startswith("what-if")
    assert "what-if" in costs.sources["vdso"]


# --- what-ifs are flagged in every output ------------------------------------------------

def test_what_if_is_flagged_in_metrics_table_and_results(tmp_path):
    costs = load_costs(data_dir=synthetic(tmp_path), what_if={"reseed_ns": 1.0})
    scenario = model.load("server", {"run.duration_s": 5.0})
    metrics = model.simulate(scenario, "droppable", seed=1, costs=costs).metrics
    assert metrics.set_index("metric").loc["what_if_costs", "value"] == 1.0
    assert "what-if costs, not measured: reseed_ns" in cli.format_table(metrics, "droppable",
                                                                         costs)
    frame = cli.run_scenario(str(model.scenario.SCENARIO_DIR / "memcg-drop.toml"),
                             ["droppable"], 1, tmp_path / "results", costs)
    assert (frame["metric"] == "what_if_costs").any()
    written = pd.read_csv(tmp_path / "results" / "memcg-drop" / "seed1" / "costs.csv")
    assert written.set_index("parameter").loc["reseed_ns", "source"].startswith("what-if")


def test_measured_costs_are_not_flagged(tmp_path):
    costs = load_costs(data_dir=synthetic(tmp_path))
    metrics = model.simulate(model.load("server", {"run.duration_s": 5.0}), "droppable",
                             seed=1, costs=costs).metrics
    assert metrics.set_index("metric").loc["what_if_costs", "value"] == 0.0


# --- the drop mechanism -------------------------------------------------------------

@pytest.mark.parametrize("hog_mib, dropped", [(100, 0.0), (200, 1.0)])
def test_cold_region_is_kept_under_the_limit_and_lost_whole_over_it(tmp_path, hog_mib, dropped):
    """As data/host/pressure.csv measured (cold, limit 256 MiB, 128 MiB droppable): a hog
    that leaves the sum under the limit drops nothing (115 MiB), one over it all (141 up)."""
    costs = load_costs(data_dir=synthetic(tmp_path))
    scenario = model.load("memcg-drop", {"pressure.anon_base_bytes": f"{hog_mib} MiB"})
    result = model.simulate(scenario, "droppable", seed=1, costs=costs, check_invariants=True)
    m = result.metrics.set_index("metric")["value"]
    assert m["region_drop_fraction"] == pytest.approx(dropped, abs=1e-3)
    if dropped:
        # Two looks per page and nothing counted as reclaimed, as measured.
        assert m["pgscan_direct"] == pytest.approx(2 * 32768, abs=16)
        assert m.get("pgsteal_direct", 0.0) == 0.0
    assert m["oom_kills"] == 0


@pytest.mark.parametrize("region_mib, hog_mib, victims", [
    (128, 141, ["region"]), (128, 256, ["region", "hog"]), (32, 237, ["hog"])])
def test_locked_region_is_never_dropped_and_the_larger_dies(tmp_path, region_mib, hog_mib,
                                                            victims):
    """data/host/pressure.csv kind=locked at 256 MiB: who the memcg OOM killer took."""
    costs = load_costs(data_dir=synthetic(tmp_path))
    scenario = model.load("memcg-drop", {"workload.region_bytes": f"{region_mib} MiB",
                                         "pressure.anon_base_bytes": f"{hog_mib} MiB"})
    result = model.simulate(scenario, "mlock", seed=1, costs=costs, check_invariants=True)
    assert result.metrics.set_index("metric")["value"]["region_drop_fraction"] == 0.0
    assert list(result.oom_events["victim"]) == victims


# --- validate ---------------------------------------------------------------------

def test_validate_prints_the_table_and_ends_with_the_error_line(tmp_path, capsys):
    data = synthetic(tmp_path)
    status = validate.main(["--data", str(data), "--seeds", "1", "--out", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert status == 0
    lines = out.rstrip("\n").split("\n")
    assert re.fullmatch(r"max relative error: \d+\.\d%", lines[-1]), lines[-1]
    assert "vdso 1 thr 16 B" in out and "cold L=128 D=8" in out
    assert "cold L=256" not in out          # the training limit is never predicted
    assert "target MET" in out or "target NOT MET" in out
    assert (tmp_path / "r" / "validation.csv").exists()


def test_validate_on_bad_data_is_one_line_and_status_2(tmp_path, capsys):
    data = synthetic(tmp_path)
    (data / "host" / "pressure.csv").unlink()
    assert validate.main(["--data", str(data), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "pressure.csv" in err and "\n" not in err


# --- the back-test --------------------------------------------------------------------

def _backtest_module():
    spec = importlib.util.spec_from_file_location("backtest", REPO / "tests/backtest/backtest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("index", [0, 1])
def test_backtest(index):
    """A change here is a change of model behaviour: see tests/backtest/README.md."""
    backtest = _backtest_module()
    case = backtest.CASES[index]
    pinned = pd.read_csv(REPO / "tests" / "backtest" / case[0])
    now = backtest.run(case)
    assert list(now.columns) == list(pinned.columns)
    key = ["scenario", "design", "seed", "replication", "metric"]
    merged = pinned.merge(now, on=key, how="outer", suffixes=("_pinned", "_now"),
                          indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    for _, row in merged.iterrows():
        assert math.isclose(row["value_now"], row["value_pinned"], rel_tol=1e-12,
                            abs_tol=1e-12), (row["design"], row["metric"], row["value_pinned"],
                                             row["value_now"])


def _guest_csv(dirpath: Path) -> Path:
    """A guest file in measure.kernels' long format: one row per observed value."""
    rows = []

    def sample(variant, design, run, args, fields):
        for line, f in enumerate(fields, 1):
            for metric, value in f.items():
                rows.append({**PROVENANCE, "where": "tcg-guest", "variant": variant,
                             "design": design, "run": run, "args": args, "record": "sample",
                             "exp": "pressure", "line": line, "metric": metric, "value": value,
                             "timing": "tcg_not_a_cost"})

    def setup(variant, design, run, args):
        rows.append({**PROVENANCE, "where": "tcg-guest", "variant": variant, "design": design,
                     "run": run, "args": args, "record": "run", "exp": "setup", "line": 0,
                     "metric": "rc", "value": 0, "timing": "tcg_not_a_cost"})

    common = {"touch": "cold", "limit_mib": 64, "droppable_mib": 16, "holder": "exited"}
    sample("baseline", "droppable", 1, "pressure --kind vdso",
           [{**common, "kind": "vdso", "hog_mib": 32, "drop_fraction": 0.0, "hog": "exited"}])
    sample("baseline", "droppable", 2, "pressure --kind vdso",
           [{**common, "kind": "vdso", "hog_mib": 80, "drop_fraction": 1.0, "hog": "oom_killed"}])
    sample("exempt", "exempt", 2, "pressure --kind vdso",
           [{**common, "kind": "vdso", "hog_mib": 80, "drop_fraction": 0.0, "hog": "oom_killed"}])
    sample("baseline", "droppable", 3, "pressure --kind droppable --limit-mib 4096",
           [{**common, "kind": "droppable", "limit_mib": 4096, "hog_mib": 448,
             "drop_fraction": 1.0, "hog": "exited"}])
    setup("baseline", "droppable", 4, "!mkswap /dev/ram0 >/dev/null && swapon /dev/ram0")
    sample("baseline", "droppable", 5, "pressure --kind droppable",
           [{**common, "kind": "droppable", "hog_mib": 80, "drop_fraction": 1.0,
             "hog": "exited"}])
    path = dirpath / "guests" / "baseline.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_guest_samples_are_predicted_with_their_variants_design(tmp_path):
    data = synthetic(tmp_path)
    _guest_csv(data)
    samples = validate.guest_samples(data)
    assert len(samples) == 5
    assert samples.set_index("run")["swap_on"].to_dict() == {1: False, 2: False, 3: False,
                                                             5: True}
    costs = load_costs(data_dir=data)
    rows, fates, notes = validate.guest_cases(data, costs, (1,))
    by_case = {r["case"]: r for r in rows}
    assert by_case["exempt vdso cold L=64 D=16 H=80"]["predicted"] == 0.0
    assert by_case["baseline vdso cold L=64 D=16 H=80"]["predicted"] == pytest.approx(1, abs=1e-3)
    assert by_case["baseline vdso cold L=64 D=16 H=32"]["predicted"] == 0.0
    assert by_case["baseline droppable cold L=64 D=16 H=80 swap"]["predicted"] == pytest.approx(
        1, abs=1e-3)                     # the harness's memcg has no swap
    assert any("not predicted (global)" in n for n in notes)


def test_a_page_still_off_the_lru_when_its_trace_ends_counts_its_wait_so_far():
    """A right-censored wait enters at its lower bound (the run's end less
    when the page faulted), not left out; one that joined keeps its own."""
    frame = pd.DataFrame({
        "command": ["vgetrandom-harness states --run-s 120 --seed 1"] * 3,
        "faulted_s": [20.0, 32.0, 50.0], "off_lru_s": [11.5, None, None],
        "outcome": ["dropped", "end", "dropped"]})
    assert list(calibration.traced_waits(frame)) == [11.5, 88.0]


def test_a_censored_wait_takes_the_length_of_the_longer_waits_that_ended():
    """Kaplan-Meier: the open 2 s wait's share goes to the ended 3, 4 and 5 s
    waits (the lower-bound reading would draw 2 s a fifth of the time)."""
    drawn = calibration.kaplan_meier_waits([1.0, 2.0, 3.0, 4.0, 5.0],
                                           [False, True, False, False, False])
    assert drawn == (1.0, 3.0, 4.0, 4.0, 5.0)


def test_a_wait_open_beyond_every_ended_wait_keeps_its_lower_bound():
    """Nothing is known beyond the longest ended wait: what outlasted it is
    drawn at its own bound, as before."""
    assert calibration.kaplan_meier_waits([20.0, 1.0, 10.0, 2.0],
                                          [True, False, True, False]) == (1.0, 2.0, 10.0, 20.0)


def test_an_open_wait_as_long_as_an_ended_one_is_counted_after_it():
    """At a tie the ended wait leaves the risk set first: the open 2 s wait
    then gives its share to the 3 s one, and a level the estimate reaches
    exactly (7/12 below) picks the wait that reaches it."""
    assert calibration.kaplan_meier_waits([1.0, 2.0, 2.0, 3.0],
                                          [False, True, False, False]) == (1.0, 2.0, 3.0, 3.0)
    assert calibration.kaplan_meier_waits([1, 2, 3, 4, 4, 5],
                                          [0, 1, 0, 0, 1, 0]) == (1.0, 3.0, 4.0, 4.0, 5.0, 5.0)


def test_the_pools_validate_draws_from_read_open_waits_as_censored(tmp_path):
    """lru_add_waits_by_regime() pools a placement's traces and draws an
    open wait from the longer ended ones: the 120 s trace's page still off
    the LRU 88 s after its fault takes the 300 s trace's 139 s wait."""
    host = tmp_path / "host"
    host.mkdir()
    rows = {"where": "host", "regime": "churn", "placement": "split", "outcome": "dropped"}
    pd.DataFrame([{**rows, "command": "vgetrandom-harness states --run-s 120",
                   "faulted_s": 32.0, "off_lru_s": None, "outcome": "end"},
                  {**rows, "command": "vgetrandom-harness states --run-s 120",
                   "faulted_s": 10.0, "off_lru_s": 12.0}]).to_csv(
        host / "states_trace_placement.csv", index=False)
    pd.DataFrame([{**rows, "command": "vgetrandom-harness states --run-s 300",
                   "faulted_s": 30.0, "off_lru_s": 139.0}]).to_csv(
        host / "states_trace_split_long.csv", index=False)
    assert calibration.lru_add_waits_by_regime(tmp_path) == {("churn", "split"): (12.0, 139.0,
                                                                                   139.0)}


def test_without_censored_waits_the_pool_is_the_waits_in_their_order():
    """The pools that had no open wait draw as before, bit for bit."""
    assert calibration.kaplan_meier_waits([3.0, 1.0, 2.0], [False] * 3) == (3.0, 1.0, 2.0)


def test_lru_add_waits_are_kept_by_the_regime_and_placement_they_were_traced_under(tmp_path):
    """validate predicts a states run with the waits of its own regime and
    placement: every refault of every committed trace in exactly one."""
    traced = calibration.lru_add_waits_by_regime(REPO / "data")
    traces = pd.concat([pd.read_csv(REPO / "data" / p) for p in calibration.LRU_TRACES
                        if (REPO / "data" / p).exists()], ignore_index=True)
    placement = traces.get("placement", pd.Series("any", index=traces.index)).fillna("any")
    assert set(traced) == set(zip(traces["regime"], placement))
    assert ("churn", "any") in traced and ("hog_churn", "any") in traced
    still_off = traces["off_lru_s"].isna() & (traces["outcome"] == "end")
    assert sum(len(w) for w in traced.values()) == traces["off_lru_s"].notna().sum() + still_off.sum()
    assert calibration.lru_add_waits_by_regime(synthetic(tmp_path)) == {}


# The reader on CPU 1 until 2 s, on CPU 0 until 2.5 s, then on CPU 1 again.
MOVES = pd.DataFrame({"t_s": [-1.0, 2.0, 2.5], "cpu": [1, 0, 1]})


def test_a_refault_away_from_the_reader_waits_for_its_return():
    """A refault on CPU 0 while the reader reads on CPU 1 joins when the
    reader next reads on CPU 0; on a CPU it never returns to, at least
    until the end.  None is beside the reader: those join at once."""
    back = calibration.reader_back_s(MOVES, ncpus=2, end_s=4.0, step_s=0.5)
    # grid -1.0 .. 3.5: CPU 0 is away at -1..1.5 and 2.5..3.5, CPU 1 at 2.0
    assert list(back) == pytest.approx([3.0, 2.5, 2.0, 1.5, 1.0, 0.5,      # CPU 0 back at 2.0
                                        1.5, 1.0, 0.5,                     # never again: end
                                        0.5])                              # CPU 1 back at 2.5


def test_an_unpinned_run_s_waits_mix_away_and_beside_in_the_run_s_share():
    """A quarter of the refaults away: a quarter of the waits are the
    reader's return capped by the other drains, the rest the waits beside."""
    waits = calibration.waits_from_moves(MOVES, 2, 4.0, away_share=0.25,
                                         beside=(0.0, 0.01), elsewhere=(0.2, 9.0))
    assert len(waits) == calibration.MIXED_WAITS
    away, beside = waits[:1000], waits[1000:]
    assert set(beside) == {0.0, 0.01}
    assert max(away) <= 3.0 and min(away) > 0.01 and 0.2 in away
    assert calibration.waits_from_moves(MOVES, 2, 4.0, 1.0, (0.0,), (9.0,))[-1] == \
        pytest.approx(3.0)                # the longest return, the drains never sooner


def test_states_runs_with_reader_moves_draw_their_own_waits(tmp_path):
    """validate: an unpinned run whose reader moves were kept gets waits of
    its own; one without keeps its regime's traced waits; a pinned one too."""
    traced = {("churn", "same"): (0.0,), ("churn", "split"): (5.0,), ("churn", "any"): (1.0,)}
    run = pd.DataFrame({"regime": ["churn"] * 2, "placement": ["any"] * 2, "refaults": [3, 1],
                        "refaults_on_reader_cpu": [1, 1], "calls": [10, 10],
                        "calls_on_reader_cpu": [5, 5], "ncpus": [2, 2], "run_s": [4, 4],
                        "pattern": ["poisson"] * 2})
    waits = validate.moves_waits(run, MOVES, traced)
    assert sum(w > 0 for w in waits) == calibration.MIXED_WAITS // 2    # 2 of 4 refaults away
    assert validate.moves_waits(run, None, traced) is None
    assert validate.moves_waits(run.assign(placement="split"), MOVES, traced) is None
    # a regime never traced pinned draws on every regime's pinned waits
    assert validate.moves_waits(run.assign(regime="hog_churn"), MOVES, traced) == waits


def test_the_report_says_how_the_cases_with_the_callers_cpu_recorded_fare():
    """Pinned runs and runs that kept the reader's moves are summed apart:
    the cases whose outcome's input was recorded."""
    def case(name, measured, predicted, known):
        error, kind, target = validate.states_error(measured, predicted)
        return {**validate._row("states", name, measured, predicted, error, f"zeroed/{kind}"),
                "target": target, "placement_known": known, "model_low": predicted,
                "model_high": predicted, "measured_low": measured, "measured_high": measured}
    rows = [case("churn periodic 1 Hz", 0.4, 0.8, False),
            case("churn periodic pinned same 1 Hz", 1.0, 1.0, True),
            case("churn periodic (reader's moves) 1 Hz", 0.6, 0.66, True)]
    text = validate.format_report(rows, [], calibration.load_costs(), data_dir=REPO / "data")
    assert "2 with the callers' CPU recorded" in text
    assert "max error 10.0%, 2/2 within target" in text
    assert text.rstrip().endswith("max relative error: 100.0%")   # every case counts there


def test_the_report_names_the_misses_the_model_s_own_noise_could_make():
    """A case whose seeds leave the prediction's standard error over a
    third of its target is counted, and listed among the misses with the
    seeds that would bring it under; a quiet case is not."""
    def case(name, measured, predicted, se, need):
        error, kind, target = validate.states_error(measured, predicted)
        return {**validate._row("states", name, measured, predicted, error, f"zeroed/{kind}"),
                "target": target, "model_low": predicted - se, "model_high": predicted + se,
                "measured_low": measured, "measured_high": measured, "seeds": 3,
                "model_se": se, "seeds_for_target": need}
    rows = [case("spike_churn periodic (burner 0.5) 1 Hz", 0.42, 0.72, 0.092, 58.0),
            case("churn periodic 1 Hz", 0.52, 0.50, 0.010, 3.0)]
    text = validate.format_report(rows, [], calibration.load_costs(), data_dir=REPO / "data")
    assert "1 of 2 with the model's own noise over 0.33 of their target" in text
    assert "they would need 58 seeds; 1 of them missed" in text
    assert "(burner 0.5) 1 Hz: +-0.092 over 3 seeds, 58 seeds to bring it under" in text
    assert "churn periodic 1 Hz: +-" not in text


def test_a_run_with_a_syscall_class_is_no_states_case_and_no_onset_page():
    """vdso_runs(): a run with any class calling getrandom(2) ("RATE:N:syscall",
    the twin that prices the syscall) goes whole, its vDSO classes too; the
    runs of vDSO classes stay as they were."""
    frame = pd.DataFrame({"run": [1, 1, 2, 2, 3],
                          "classes": ["1:28,0.05:28"] * 2 + ["1:28:syscall,0.05:28:syscall"] * 2
                          + ["1:28,0.05:28:syscall"],
                          "calls": [60, 3, 60, 3, 60]})
    kept = calibration.vdso_runs(frame)
    assert list(kept["run"]) == [1, 1] and list(kept["calls"]) == [60, 3]


def test_a_run_with_several_pages_of_a_rate_is_one_run_of_its_case():
    """by_run(): the TLB-flush test's thirteen 0.05 Hz pages a run are one
    run's calls, as the model counts them; a case of one page a run is
    left as it is."""
    case = pd.DataFrame({"run": [7, 7, 7, 8, 8, 8], "calls": [10, 12, 14, 10, 10, 10],
                         "calls_zeroed": [0, 2, 0, 0, 0, 0],
                         "date_utc": ["2026-12-03T17:43:06Z"] * 3 + ["2026-12-03T17:45:20Z"] * 3})
    runs = validate.by_run(case)
    assert list(runs["run"]) == [7, 8]
    assert list(runs["calls"]) == [36, 30] and list(runs["calls_zeroed"]) == [2, 0]
    assert list(runs["date_utc"]) == ["2026-12-03T17:43:06Z", "2026-12-03T17:45:20Z"]
    assert validate.losses(runs, pd.DataFrame({"zeroed_model": [1, 0]}))["runs_lost"] == 0.5
    one = case.drop_duplicates("run")
    assert validate.by_run(one) is one


def test_a_miss_is_split_into_whether_the_page_was_lost_and_what_a_loss_paid():
    """losses(): the kernel's share of runs with a zeroed call and their
    zeroed calls a run, the model's over its (run, seed)s; the report lists
    both for a missed case, and nothing for a case no run lost."""
    case = pd.DataFrame({"calls_zeroed": [0, 20, 0, 22], "calls": 160})
    model = pd.DataFrame({"zeroed_model": [0, 18, 0, 0, 0, 21]})
    got = validate.losses(case, model)
    assert got == {"runs_lost": 0.5, "runs_lost_model": 2 / 6,
                   "zeroed_per_loss": 21.0, "zeroed_per_loss_model": 19.5}
    never = validate.losses(case.assign(calls_zeroed=0), model.assign(zeroed_model=0))
    assert never["runs_lost"] == 0.0 and np.isnan(never["zeroed_per_loss"])

    def row(name, measured, predicted, lost):
        error, kind, target = validate.states_error(measured, predicted)
        return {**validate._row("states", name, measured, predicted, error, f"zeroed/{kind}"),
                "target": target, "model_low": predicted, "model_high": predicted,
                "measured_low": measured, "measured_high": measured, **lost}
    rows = [row("churn_384 poisson (reader's moves) 0.05 Hz", 0.063, 0.049, got),
            row("churn_768 poisson (reader's moves) 0.05 Hz", 0.079, 0.077, got)]
    text = validate.format_report(rows, [], calibration.load_costs(), data_dir=REPO / "data")
    assert ("churn_384 poisson (reader's moves) 0.05 Hz: 0.50 / 0.33 of runs, "
            "21.0 / 19.5 calls") in text
    assert "churn_768 poisson (reader's moves) 0.05 Hz: 0.50" not in text


def test_a_cpu_the_reader_never_reads_on_waits_until_the_end():
    back = calibration.reader_back_s(pd.DataFrame({"t_s": [0.0], "cpu": [0]}), ncpus=2,
                                     end_s=1.0, step_s=0.25)
    assert list(back) == [1.0, 0.75, 0.5, 0.25]


def test_the_placement_note_reads_the_placement_test_s_unpinned_arm_only():
    """The reader test's unpinned runs come after it in STATES_FILES: the
    note's 'unpinned' is the placement test's own arm."""
    test = pd.read_csv(REPO / "data" / "host" / "states_placement.csv")
    arm = test[(test["placement"] == "any") & (test["pattern"] == "periodic")
               & (test["rate_hz"] == 1.0)]
    text = " ".join(validate.placement_note(validate.read_states_runs(REPO / "data")))
    assert f"unpinned {arm['calls_zeroed'].sum() / arm['calls'].sum():.3f}" in text


@pytest.mark.parametrize("name, arm, label", [
    ("states_mobility.csv", "burn_duty",
     lambda g, duty: f"burner {duty:g} of a CPU (used {g['burn_cpu'].median():.2f})"),
    ("states_hop.csv", "reader_hop_ms",
     lambda g, hop: f"reader hops every {hop} ms" if hop else "scheduler moves the reader"),
])
def test_the_arms_note_gives_each_arm_its_own_runs(name, arm, label):
    """Per arm of the mobility and hop tests, the 1 Hz page as measured, and
    the model's pooled over the same runs (here a model that says what the
    kernel measured, so the two must read alike); the other test's runs,
    not simulated here, say so."""
    one = pd.read_csv(REPO / "data" / "host" / name)
    one = one[one["rate_hz"] == 1.0]
    states = validate.read_states_runs(REPO / "data")
    mine = states.frame[validate.from_file(states.frame, name) & (states.frame["rate_hz"] == 1.0)]
    counts = pd.DataFrame({"run": mine["run"], "rate_hz": 1.0, "seed": 1,
                           "zeroed_model": mine["calls_zeroed"], "calls_model": mine["calls"]})
    text = "\n".join(validate.arms_note(states, counts))
    for value, g in one.groupby(arm):
        frac = g["calls_zeroed"].sum() / g["calls"].sum()
        assert f"{label(g, value)}: {len(g)} runs, reader " in text
        assert f"zeroed {frac:.3f}, model {frac:.3f}" in text
    assert "model not run" in text


def test_the_report_says_how_many_activation_rates_fall_in_the_kernel_s_interval():
    """The refault rows carry the kernel's Poisson interval; the summary
    counts the predictions inside it, and they stay out of the target line."""
    def case(name, measured, predicted, low, high):
        return {**validate._row("refault", name, measured, predicted,
                                abs(predicted - measured), "of refaults"),
                "measured_low": low, "measured_high": high}
    rows = [case("churn 1 Hz unpinned: activated/refault", 0.0087, 0.011, 0.0054, 0.0134),
            case("spike_churn 1 Hz unpinned: activated/refault", 0.0099, 0.02, 0.0062, 0.015)]
    text = validate.format_report(rows, [], calibration.load_costs(), data_dir=REPO / "data")
    assert "1 of 2 predicted within the kernel's 95% Poisson interval" in text
    assert "no target (diagnostic)" in text


def test_the_reader_s_moves_a_second_count_the_window_only():
    """Its first row is its first read, before the window; moves while
    settling are not the window's either."""
    moves = pd.DataFrame({"t_s": [-10.2, -3.0, 0.0, 0.4, 1.9], "cpu": [0, 1, 0, 1, 0]})
    assert calibration.reader_moves_per_s(moves, 2.0) == 1.5


def test_a_full_moves_log_covers_only_its_own_time():
    """A reader hopping every 10 ms fills the harness's log before its run
    ends: its moves a second and its returns come from the time the log
    covers, not the silence after it (which reads as a reader that never
    moved again)."""
    n = calibration.READER_LOG
    moves = pd.DataFrame({"t_s": np.arange(n) * 0.01, "cpu": np.arange(n) % 2})
    assert calibration.moves_end_s(moves, 120.0) == pytest.approx((n - 1) * 0.01)
    assert calibration.reader_moves_per_s(moves, 120.0) == pytest.approx(100, rel=0.01)
    back = calibration.reader_back_s(moves, ncpus=2, end_s=120.0, step_s=0.005)
    assert back.max() <= 0.01 + 1e-9
    short = moves.iloc[:100]
    assert calibration.moves_end_s(short, 120.0) == 120.0
    assert calibration.reader_back_s(short, ncpus=2, end_s=120.0).max() > 100


# Readers of unpinned 1 Hz runs: one back on the other CPU 0.2 s after each
# call, one that never moves; the run they were kept in, and the waits
# traced pinned beside (same) and away from (split) the reader.
_T = np.arange(-10, 120) + 0.2
HOPPING = pd.DataFrame({"t_s": _T, "cpu": np.arange(len(_T)) % 2})
STILL = pd.DataFrame({"t_s": [-10.0], "cpu": [0]})
MOVES_RUN = {"regime": "churn", "placement": "any", "pattern": "periodic", "settle_s": 10.0,
             "run_s": 120.0, "rate_hz": 1.0, "ncpus": 2, "refaults": 10,
             "refaults_on_reader_cpu": 0, "calls": 120, "calls_on_reader_cpu": 0,
             "burn_duty": 0.0, "reader_hop_ms": 0}
TRACED = {(regime, arm): (wait,) for regime in ("churn", "spike_churn")
          for arm, wait in (("same", 0.0), ("split", 60.0))}


def regime_lenders(frame: pd.DataFrame, moves: dict) -> dict:
    """regime_lenders() as states_cases calls it: each run's own waits first."""
    own = {r: validate.moves_waits(run, moves[r], TRACED) for r, run in frame.groupby("run")}
    return validate.regime_lenders(frame, moves, TRACED, own)


def regime_pools(frame: pd.DataFrame, moves: dict) -> dict:
    """regime_moves_waits() as states_cases calls it."""
    return validate.regime_moves_waits(regime_lenders(frame, moves))


def test_a_run_without_moves_is_given_its_regime_s_measured_moves():
    """An unpinned run that kept no moves draws its waits from the runs of
    its regime that kept theirs, never from a run with a burner or a
    hopping reader beside it (those set the reader); a timer-locked one
    meets those moves at their runs' calls, a Poisson one at any time."""
    frame = pd.DataFrame([{**MOVES_RUN, "run": 1}, {**MOVES_RUN, "run": 2, "burn_duty": 0.5},
                          {**MOVES_RUN, "run": 3, "regime": "spike_churn"}])
    pooled = regime_pools(frame, {1: HOPPING, 2: STILL, 3: STILL})
    assert set(pooled) == {(r, p) for r in ("churn", "spike_churn")
                           for p in ("poisson", "periodic")}
    assert len(pooled["churn", "periodic"]) == calibration.MIXED_WAITS
    assert np.allclose(pooled["churn", "periodic"], 0.2)          # run 2's still reader left out
    assert max(pooled["churn", "poisson"]) > 0.9                  # any phase
    # a reader that never comes back: the drains traced away from it, or the run's end
    assert max(pooled["spike_churn", "periodic"]) == 60.0
    assert np.median(pooled["spike_churn", "periodic"]) == 60.0


def test_a_run_without_moves_names_the_machines_it_borrows_from():
    """validate's note for a run that kept no moves says whose runs lent
    theirs, by CPU and kernel build: a lender may be another machine."""
    frame = pd.DataFrame([{**MOVES_RUN, "run": r, "cpu_model": cpu, "kernel_release": "6.18.0"}
                          for r, cpu in ((1, "cpu a"), (2, "cpu b"), (3, "cpu b"))])
    lenders = regime_lenders(frame, {1: HOPPING, 2: HOPPING, 3: HOPPING})
    assert list(lenders["churn", "periodic"]) == [1, 2, 3]
    assert validate.lenders_said(frame, lenders["churn", "periodic"]) \
        == "3 runs: 1 on cpu a, 6.18.0, 2 on cpu b, 6.18.0"


def test_a_run_without_moves_takes_the_moves_of_its_own_call_pattern_where_kept():
    """The callers' pattern moves the reader too: once a Poisson run of the
    regime kept its moves, a Poisson run without them is given those alone,
    and the timer-locked pool stays what the timer-locked runs make it."""
    moves = {1: HOPPING, 2: STILL}
    alone = regime_pools(pd.DataFrame([{**MOVES_RUN, "run": 1}]), moves)
    mixed = regime_pools(pd.DataFrame([{**MOVES_RUN, "run": 1},
                                       {**MOVES_RUN, "run": 2, "pattern": "poisson"}]), moves)
    assert max(alone["churn", "poisson"]) <= 1.0 + 1e-9         # run 1's hops, at any phase
    assert np.median(mixed["churn", "poisson"]) == 60.0         # run 2's reader alone
    assert mixed["churn", "periodic"] == alone["churn", "periodic"]


def test_timer_locked_refaults_meet_the_reader_at_their_calls_only():
    """A reader hopping every second in step with 1 Hz calls is back on the
    callers' CPU the same time after every call (here 0.2 s): the waits at
    the calls are that, where a uniform grid would spread them over 0-1 s."""
    t = np.arange(-10, 120) + 0.2
    moves = pd.DataFrame({"t_s": t, "cpu": np.arange(len(t)) % 2})
    run = pd.DataFrame({"pattern": "periodic", "settle_s": 10.0, "run_s": 120.0,
                        "rate_hz": [1000.0, 1.0, 0.05]})
    at = validate.refault_instants(run)
    assert at[0] == -10.0 and at[-1] == 119.0 and np.allclose(np.diff(at), 1.0)
    back = calibration.reader_back_s(moves, ncpus=2, end_s=120.0, at=at)
    assert np.allclose(back, 0.2)
    uniform = calibration.reader_back_s(moves, ncpus=2, end_s=120.0)
    assert uniform.max() > 0.9
    assert validate.refault_instants(run.assign(pattern="poisson")) is None


def test_validate_runs_predicts_the_picked_runs_alone(tmp_path, capsys):
    """--runs KEY=VALUE: only the matching states runs, every class of each,
    and a last line that says whose error it is; no full validation.csv."""
    status = validate.main(["--runs", "regime=control", "--runs", "pattern=poisson",
                            "--runs", "file=states.csv",
                            "--seeds", "1", "--max-seeds", "1", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0
    cases = pd.read_csv(tmp_path / "validation-runs.csv")
    assert set(cases["group"]) == {"states"}
    assert list(cases["case"]) == [f"control poisson {r} Hz" for r in ("1000", "10", "1", "0.05")]
    assert out.rstrip("\n").split("\n")[-1].startswith(
        "max relative error of the runs with regime=control pattern=poisson file=states.csv "
        "alone: ")
    assert not (tmp_path / "validation.csv").exists()


def test_validate_runs_notes_the_scheduler_test_where_it_picks_its_runs():
    """--runs prints the scheduler test's note (no model run in it) when it
    picks any of that test's runs, and not otherwise."""
    states = validate.read_states_runs(REPO / "data")
    none = pd.DataFrame()
    sched = validate.picked_notes(REPO / "data", states, {"file": "states_sched.csv"}, none)
    assert sched == validate.sched_note(REPO / "data", states) and sched
    assert validate.picked_notes(REPO / "data", states, {"file": "states.csv"}, none) == []


def test_validate_runs_picks_whole_runs_by_file_and_number():
    frame = validate.read_states(REPO / "data")
    picked = validate.matching_runs(frame, {"file": "states_placement.csv", "run": "0"})
    assert picked == {validate.RUNS_PER_FILE}
    # a class's rate picks the runs that have one (every churn run has a
    # 0.05 Hz class), not its rows: the runs' other classes come along
    churn = set(frame.loc[frame["regime"] == "churn", "run"])
    assert validate.matching_runs(frame, {"rate_hz": "0.05", "regime": "churn"}) == churn
    with pytest.raises(CalibrationError, match="no states run matches"):
        validate.matching_runs(frame, {"rate_hz": "10", "classes": "1000:28,0.05:28"})
    # the mobility test's burner-0 runs share their case with the reader
    # test's: the case comes whole, so its row is the one a full run gives
    moves = validate.read_states_moves(REPO / "data", frame)
    frame["waits"] = np.where(frame["run"].isin(moves) & (frame["placement"] == "any"),
                              "moves", "regime's")
    mobility = validate.case_runs(frame, {"file": "states_mobility.csv", "burn_duty": "0"},
                                  list(validate.STATES_CASE_KEYS))
    files = {validate.STATES_FILES[r // validate.RUNS_PER_FILE] for r in mobility}
    assert files == {"states_mobility.csv", "states_reader.csv", "states_hop.csv"}
    assert set(frame.loc[frame["run"].isin(mobility), "burn_duty"]) == {0.0}


@pytest.mark.parametrize("term, says", [
    ("regim=churn", "--runs regim: not a column"), ("churn", "not KEY=VALUE"),
    ("limit_mib=big", "limit_mib is a number"), ("regime=nothing", "no states run matches")])
def test_validate_runs_refuses_a_bad_term_in_one_line(tmp_path, capsys, term, says):
    assert validate.main(["--runs", term, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and says in err and "\n" not in err
    assert not any(tmp_path.iterdir())


# --- python -m model costs: each machine's per-call costs ---------------------------------

def test_costs_command_gives_back_the_synthetic_costs_and_their_break_even(tmp_path):
    m = hostcosts.machine(synthetic(tmp_path), 16)
    assert (m.vdso, m.syscall) == (pytest.approx(vdso_ns(16)), pytest.approx(syscall_ns(16)))
    assert m.reseed == pytest.approx(600) and m.state_fault == pytest.approx(4000)
    # At the break-even fraction of dropped calls the vDSO's mean call costs
    # what the syscall does, as the model charges a call; below it, less.
    assert m.vdso + m.break_even * m.dropped == pytest.approx(m.syscall)
    assert m.vdso + m.break_even / 2 * m.dropped < m.syscall
    assert m.saved == pytest.approx(1 - vdso_ns(16) / syscall_ns(16))


@pytest.mark.skipif(not all((HOST / f).exists() for f in calibration.COLUMNS),
                    reason="data/host lacks a timing CSV (make calibrate writes them)")
def test_costs_command_shows_the_costs_the_model_runs_on():
    costs, m = load_costs(), hostcosts.machine(REPO / "data", 4)
    assert m.where == "data/host"
    assert (m.vdso, m.syscall, m.reseed, m.state_fault) == (
        costs.vdso(4), costs.syscall(4), costs.reseed_ns, costs.state_fault_ns["droppable"])


def test_costs_command_prints_each_machine_and_refuses_one_that_lacks_a_file(tmp_path, capsys):
    one, two = synthetic(tmp_path / "one"), synthetic(tmp_path / "two")
    assert hostcosts.main([str(one), str(two), "--bytes", "16"]) == 0
    out = capsys.readouterr().out
    assert f"{one}/host" in out and f"{two}/host" in out and "syscall, 16 B" in out
    (two / "host" / "fault.csv").unlink()
    assert hostcosts.main([str(one), str(two)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "fault.csv: no such file" in err and "\n" not in err
    assert hostcosts.main([str(one), "--bytes", "0"]) == 2
    assert "--bytes 0" in capsys.readouterr().err


def _idle_rows(spin: int, gap: int, ns: dict, calls: int = 3, moved: int = 0) -> list[dict]:
    return [{"mode": mode, "gap_ms": gap, "size_bytes": 16, "spin": spin, "sample": i,
             "ns_per_call": v + i - 1, "rng_moved": moved}
            for i in range(calls) for mode, v in ns.items()]


def test_costs_command_shows_a_call_after_the_longest_sleep(tmp_path, capsys):
    data = synthetic(tmp_path / "idle")
    _write(data, "idlecall.csv",
           _idle_rows(0, 1, {"vdso": 100, "dropped": 5000, "syscall": 600})
           + _idle_rows(0, 20000, {"vdso": 1500, "dropped": 21500, "syscall": 2500})
           + _idle_rows(1, 20000, {"vdso": 1, "dropped": 2, "syscall": 3}))
    idle = hostcosts.machine(data, 16).idle
    assert (idle.gap_ms, idle.size_bytes, idle.calls) == (20000, "16", 3)
    assert (idle.vdso.value, idle.dropped.value, idle.syscall.value) == (1500, 21500, 2500)
    assert idle.vdso.low <= 1500 <= idle.vdso.high and idle.vdso.n == 3
    assert idle.vdso_reseed is None
    assert idle.break_even == pytest.approx(1000 / 20000) and idle.saved == pytest.approx(0.4)
    # Where the syscall is cheaper already, no dropped call is affordable.
    assert hostcosts.break_even(700, 600, 4000) == 0
    plain = synthetic(tmp_path / "plain")
    assert hostcosts.main([str(plain), str(data)]) == 0
    out = capsys.readouterr().out
    assert "20 s, 16 B" in out and "not measured" in out and "5.0%" in out
    # A vDSO call that found the kernel's RNG moved on reseeded: it is
    # counted apart, and the vDSO's cost is its calls with the key current.
    _write(data, "idlecall.csv", _idle_rows(0, 20000, {"vdso": 1500, "dropped": 21500,
                                                       "syscall": 2500})
           + _idle_rows(0, 20000, {"vdso": 4000}, calls=5, moved=1))
    idle = hostcosts.machine(data, 16).idle
    assert idle.vdso.value == 1500 and idle.vdso_reseed.value == 4001
    assert idle.vdso_reseed.n == 5 and idle.saved == pytest.approx(0.4)
    _write(data, "idlecall.csv", _idle_rows(0, 20000, {"vdso": 1, "dropped": 2, "syscall": 3},
                                            moved=1))
    assert hostcosts.main([str(data)]) == 2
    assert "lacks a mode of vdso, dropped, syscall" in capsys.readouterr().err


def test_costs_command_shows_a_thread_calling_alone_once_a_sleep(tmp_path, capsys):
    """Rows from before idlecall's --modes (no modes) took turns; the vDSO
    and the syscall timed alone are a thread calling once a gap: their
    means, the vDSO's reseeding calls included, not the modes' medians."""
    data = synthetic(tmp_path / "alone")
    turns = _idle_rows(0, 20000, {"vdso": 1500, "dropped": 21500, "syscall": 2500})
    alone = ([{**r, "modes": "vdso"} for r in _idle_rows(0, 20000, {"vdso": 2000}, calls=4)]
             + [{**r, "modes": "vdso"} for r in _idle_rows(0, 20000, {"vdso": 6000}, calls=2,
                                                            moved=1)]
             + [{**r, "modes": "syscall"} for r in _idle_rows(0, 20000, {"syscall": 4000})]
             + [{**r, "modes": "dropped"} for r in _idle_rows(0, 20000, {"dropped": 30000})])
    _write(data, "idlecall.csv", turns + alone)
    idle = hostcosts.machine(data, 16).idle
    # The modes taking turns are as before: the alone calls are not theirs.
    assert (idle.vdso.value, idle.syscall.value, idle.calls) == (1500, 2500, 3)
    a = idle.alone
    assert (a.gap_ms, a.reseeded, a.vdso.n, a.syscall.n) == (20000, 2, 6, 3)
    vdso_mean = (1999 + 2000 + 2001 + 2002 + 5999 + 6000) / 6
    assert a.vdso.value == pytest.approx(vdso_mean) and a.syscall.value == pytest.approx(4000)
    assert a.vdso.low < vdso_mean < a.vdso.high
    assert a.saved == pytest.approx(1 - vdso_mean / 4000)
    # The dropped state's call alone after the same gap: its mean.
    assert a.dropped.value == pytest.approx(30000) and a.dropped.n == 3
    assert a.break_even == pytest.approx((4000 - vdso_mean) / (30000 - vdso_mean))
    assert hostcosts.main([str(data)]) == 0
    out = capsys.readouterr().out
    assert "every 20 s" in out and "2 of 6" in out and "none: " not in out
    # Dearer than the syscall: said so, not as a negative saving.
    _write(data, "idlecall.csv", turns + [{**r, "modes": "syscall"} for r in
                                          _idle_rows(0, 20000, {"syscall": 1000})]
           + alone[:6] + alone[-3:])
    assert hostcosts.machine(data, 16).idle.alone.saved < 0
    assert hostcosts.main([str(data)]) == 0
    assert "none: " in capsys.readouterr().out
    # Without every mode alone there is nothing to set the vDSO against.
    _write(data, "idlecall.csv", turns + alone[:6] + alone[-3:])
    assert hostcosts.machine(data, 16).idle.alone is None
    # Alone at a shorter gap too: the saving at each, shortest first; the
    # longest gap's is the thread calling once a sleep.
    short = [{**r, "gap_ms": 1} for r in alone]
    _write(data, "idlecall.csv", turns + short[:6] + short[-6:])
    idle = hostcosts.machine(data, 16).idle
    assert [a.gap_ms for a in idle.alone_by_gap] == [1] and idle.alone is None
    _write(data, "idlecall.csv", turns + alone + short)
    idle = hostcosts.machine(data, 16).idle
    assert [a.gap_ms for a in idle.alone_by_gap] == [1, 20000] and idle.alone.gap_ms == 20000
    assert hostcosts.main([str(data)]) == 0
    assert f"1 ms {1 - vdso_mean / 4000:.1%}, 20 s" in capsys.readouterr().out
    # In a busy process, its main thread's and a created thread's (idlecall
    # --companion, --thread 1), each way alone: a line each, by gap.
    busy = [{**r, "modes": r["mode"], "companion": f"{r['mode']}:1000:28", "thread": thread}
            for thread, ns in ((0, {"vdso": 3000, "syscall": 1000}),
                               (1, {"vdso": 1500, "syscall": 1000}))
            for r in _idle_rows(0, 20000, ns)]
    _write(data, "idlecall.csv", turns + alone + short + busy)
    idle = hostcosts.machine(data, 16).idle
    assert [(g, v.value, s.value) for g, v, s in idle.busy_by_gap] == [(20000, 3000, 1000)]
    assert [(g, v.value, s.value) for g, v, s in idle.busy_created_by_gap] == [
        (20000, 1500, 1000)]
    assert hostcosts.main([str(data)]) == 0
    out = capsys.readouterr().out
    assert "saved by the vdso in a busy process     20 s none: 200.0% more" in out
    assert "  in a thread it created (--thread 1)   20 s none: 50.0% more" in out


def test_costs_command_sets_the_models_price_after_a_gap_against_the_states_runs(tmp_path,
                                                                                 capsys):
    """`model costs` prints, where a machine has states runs, the vDSO's price
    after a class's gap as the harness times a call (its mean alone at 0 ms
    plus the mean extra over the class's gaps) beside the runs' median of
    their mean key-current call: the lone thread's (the model's after_gap),
    and each other way idlecall timed the vDSO at gap 0 and another."""
    data = synthetic(tmp_path / "states")
    assert hostcosts.price_against_states(data) is None
    _write(data, "states.csv", [
        {"pattern": "periodic", "rate_hz": 5.0, "warm_call_ns_mean": v} for v in (300, 500, 400)]
        + [{"pattern": "poisson", "rate_hz": 5.0, "warm_call_ns_mean": 900},
           {"pattern": "poisson", "rate_hz": 500.0, "warm_call_ns_mean": "na"}])
    prices = hostcosts.price_against_states(data).set_index(["pattern", "rate_hz"])
    assert len(prices) == 2         # a class with no warm call is left out
    periodic = prices.loc[("periodic", 5.0)]
    # The vDSO alone at 0 ms: mean 101 (IDLE_NS + 1); after 0.2 s, 1000 ns more.
    assert (periodic["runs"], periodic["measured_ns"]) == (3, 400)
    assert periodic["lone"] == pytest.approx(101 + 1000)
    curve = load_costs(data_dir=data).after_gap["vdso"]
    assert prices.loc[("poisson", 5.0), "lone"] == pytest.approx(
        101 + curve.mean_over("poisson", 5.0))
    assert hostcosts.main([str(data)]) == 0
    out = capsys.readouterr().out
    assert "against the states runs" in out and "2.75x" in out and "busy" not in out
    assert "busy" not in prices
    # A busy process's calls (idlecall --companion), and calls timed after a
    # read of the state (--read-first 1), each from its own rows; the lone
    # price, the model's, does not move.
    companion, lone = "vdso:1000:28", pd.read_csv(data / "host" / "idlecall.csv")
    timed = {("none", 1): (80, 1380), (companion, 0): (60, 160), (companion, 1): (50, 110)}
    _write(data, "idlecall.csv", lone.to_dict("records") + [
        {**r, "modes": r["mode"], "companion": c, "companion_calls": 30 * (c != "none"),
         "read_first": read} for (c, read), ns in timed.items()
        for gap, v in zip((0, 200), ns) for r in _idle_rows(0, gap, {"vdso": v}, 5)]
        + [{**r, "modes": "syscall", "companion": "syscall:1000:14", "read_first": 0}
           for gap, v in ((0, 500), (200, 700)) for r in _idle_rows(0, gap, {"syscall": v}, 5)])
    costs = load_costs(data_dir=data)
    assert costs.after_gap["vdso"] == curve
    # The model's busy curves: the busy rows' own, each over its own gap 0,
    # for processes calling as often as the slower companions, 14,000/s.
    [(busy_from, busy)] = costs.process_after_gap
    assert busy_from == 14_000 and set(busy) == {"vdso", "syscall"}
    assert busy["vdso"].extra_ns == pytest.approx((0, 100))
    assert busy["syscall"].extra_ns == pytest.approx((0, 200))
    assert set(costs.after_gap) == {"vdso", "syscall", "zeroed", "reseed"}
    idle = calibration.read_table(data / "host" / "idlecall.csv")
    (gap0, v0, s0), (gap, v, s) = hostcosts.busy_by_gap(
        idle[calibration.idle_setting(idle) == calibration.BUSY])
    assert (gap0, gap, v0.value, s0.value, v.value, s.value) == (0, 200, 61, 501, 161, 701)
    more = hostcosts.price_against_states(data)
    assert more.attrs["companions"] == {"busy": companion, "busy, read first": companion}
    more = more.set_index(["pattern", "rate_hz"])
    assert more["lone"].equals(prices["lone"])
    assert more.loc[("periodic", 5.0), ["busy", "lone, read first", "busy, read first"]].tolist() \
        == pytest.approx([61 + 100, 81 + 1300, 51 + 60])
    assert hostcosts.main([str(data)]) == 0
    out = capsys.readouterr().out
    words = " ".join(out.split())   # the prose is wrapped where it fits
    assert f"(--companion {companion})" in words and "read first" in out
    assert "161 ns  0.40x" in out and "1381 ns  3.45x" in out
    # The busy process timed in a thread it created (--thread 1): a setting
    # of its own, printed by gap; the model's busy curves stay the main
    # thread's.
    every = pd.read_csv(data / "host" / "idlecall.csv")
    created = {"vdso": (40, 540), "syscall": (450, 650)}
    _write(data, "idlecall.csv", every.to_dict("records") + [
        {**r, "modes": mode, "companion": f"{mode}:1000:28", "companion_calls": 30,
         "read_first": 0, "thread": 1}
        for mode, ns in created.items() for gap, v in zip((0, 200), ns)
        for r in _idle_rows(0, gap, {mode: v}, 5)])
    rows = calibration.read_table(data / "host" / "idlecall.csv")
    assert load_costs(data_dir=data).after_gap == costs.after_gap
    setting = calibration.idle_setting(rows)
    assert [(g, v.value, s.value) for g, v, s in hostcosts.busy_by_gap(
        rows[setting == calibration.BUSY])] == [(0, 61, 501), (200, 161, 701)]
    assert [(g, v.value, s.value) for g, v, s in hostcosts.busy_by_gap(
        rows[setting == calibration.BUSY + calibration.CREATED])] == [(0, 41, 451), (200, 541, 651)]
    assert hostcosts.main([str(data)]) == 0
    out = capsys.readouterr().out
    assert "busy, created thread" in out


def test_costs_command_sets_the_curves_timed_in_a_function_against_the_states_runs(tmp_path,
                                                                                   capsys):
    """Where the machine has idlecall_curves.csv, its settings are columns of
    the states price table beside idlecall.csv's, named as timed."""
    data = synthetic(tmp_path / "states")
    _write(data, "states.csv", [{"pattern": "periodic", "rate_hz": 5.0, "warm_call_ns_mean": 400}])
    lone = {0: {"vdso": 100, "syscall": 600, "dropped": 5000},
            200: {"vdso": 300, "syscall": 3000, "dropped": 24000}}
    _write(data, "idlecall_curves.csv",
           _curve_rows(lone) + _curve_rows({0: {"vdso": 50}, 200: {"vdso": 150}},
                                           companion="1000:28"))
    prices = hostcosts.price_against_states(data).set_index(["pattern", "rate_hz"])
    row = prices.loc[("periodic", 5.0)]
    assert row["lone"] == pytest.approx(101 + 1000)     # idlecall.csv's, inline
    assert row["lone" + calibration.IN_FUNCTION] == pytest.approx(101 + 200)
    assert row["busy" + calibration.IN_FUNCTION] == pytest.approx(51 + 100)
    assert hostcosts.main([str(data)]) == 0
    words = " ".join(capsys.readouterr().out.split())
    assert "timed in a function, each call in a function of its own (--call-code own, " \
           "idlecall_curves.csv)" in words and "busy, timed in a function" in words


def test_processes_between_have_curves_of_their_own(tmp_path):
    """A process whose other threads call less often than the busy class's
    (between) has its main thread's vDSO and syscall curves, keyed by the
    companions' calls a second, beside the busy process's; a thread it
    created has none.  A process pays those of the busiest timed at or
    below its own rate, the lone curves below them all."""
    data = synthetic(tmp_path / "between")
    lone = pd.read_csv(data / "host" / "idlecall.csv")
    timed = {("syscall:1000:28", 0): (500, 700), ("vdso:10:28", 0): (90, 1090),
             ("syscall:10:28", 0): (600, 1600), ("vdso:100:28", 1): (80, 5080)}
    _write(data, "idlecall.csv", lone.to_dict("records") + [
        {**r, "modes": c.split(":")[0], "companion": c, "companion_calls": 30,
         "read_first": 0, "thread": thread}
        for (c, thread), ns in timed.items() for gap, v in zip((0, 200), ns)
        for r in _idle_rows(0, gap, {c.split(":")[0]: v}, 5)])
    costs = load_costs(data_dir=data)
    assert [r for r, _ in costs.process_after_gap] == [280, 28_000]
    (_, between), (_, busy) = costs.process_after_gap
    assert set(between) == {"vdso", "syscall"} and set(busy) == {"syscall"}
    assert between["vdso"].extra_ns == pytest.approx((0, 1000))
    assert between["syscall"].extra_ns == pytest.approx((0, 1000))
    assert costs.after_gap_for(279) == costs.after_gap
    assert costs.after_gap_for(280) == {**costs.after_gap, **between}
    assert costs.after_gap_for(28_000)["syscall"] == busy["syscall"]
    prices = hostcosts.model_prices(costs, 4)
    assert list(dict.fromkeys(prices["process"])) == ["lone", "280 calls/s", "28000 calls/s"]
    text = hostcosts.model_prices_text(prices, 4).splitlines()
    assert [line.split()[:3] for line in text if line.startswith("280 ")] == [
        ["280", "calls/s", f"{rate:g}"] for rate in hostcosts.CLASS_RATES]


def test_costs_command_tells_preempted_calls_apart(tmp_path, capsys):
    """Where idlecall counted the thread's involuntary switches (nivcsw),
    `model costs` gives by setting, mode and gap how many calls were
    preempted, the mean over processes of all and of those not preempted;
    runs that did not count them (nivcsw empty) are left out."""
    data = synthetic(tmp_path / "switches")
    lone = pd.read_csv(data / "host" / "idlecall.csv")
    assert hostcosts.preempted_calls(calibration.read_table(
        data / "host" / "idlecall.csv")) is None
    counted = [{**r, "modes": "vdso", "companion": "vdso:1000:28", "companion_calls": 30,
                "command": f"idlecall --count-switches 1 --repeat {k}",
                "ns_per_call": ns, "nivcsw": switched}
               for k, calls in ((1, ((100, 0), (200, 0), (5_000, 2))), (2, ((300, 0),)))
               for (ns, switched), r in zip(calls, _idle_rows(0, 1000, {"vdso": 0}, 3))]
    _write(data, "idlecall.csv", lone.to_dict("records") + counted)
    rows = calibration.read_table(data / "host" / "idlecall.csv")
    [r] = hostcosts.preempted_calls(rows).to_dict("records")
    assert (r["setting"], r["mode"], r["gap_ms"], r["processes"], r["calls"], r["preempted"]) \
        == ("busy", "vdso", 1000, 2, 4, 1)
    assert r["mean_ns"] == pytest.approx(((100 + 200 + 5_000) / 3 + 300) / 2)
    assert r["kept_ns"] == pytest.approx((150 + 300) / 2)
    assert r["preempted_ns"] == 5_000
    assert hostcosts.main([str(data)]) == 0
    out = capsys.readouterr().out
    assert "--count-switches 1" in " ".join(out.split())
    assert out.splitlines()[-1].split() == ["busy", "vdso", "1", "s", "2", "4", "1", "1033",
                                            "225", "5000"]


def test_a_vdso_or_syscall_call_of_dear_ns_or_more_is_in_no_mean(tmp_path, capsys):
    """A vDSO or syscall call of DEAR_NS or more is the machine's, not the
    call's: the model's curves and `model costs`' means leave it out, a
    zeroed state's call (mode dropped) that dear is kept, and `model costs`
    counts them by mode, with what they would add a call."""
    def run(mode, k, ns):
        return [{**r, "modes": mode, "companion": "none", "companion_calls": 0,
                 "command": f"idlecall --modes {mode} --repeat {k}", "ns_per_call": v}
                for gap, calls in ns.items()
                for v, r in zip(calls, _idle_rows(0, gap, {mode: 0}, len(calls)))]
    data = synthetic(tmp_path / "dear")
    rows = (run("vdso", 1, {0: (100,) * 5, 1000: (1000,) * 5})
            + run("syscall", 1, {0: (500,) * 5, 1000: (2000, 2000, 2000, 2000, 60_000)})
            + run("syscall", 2, {0: (500,) * 5, 1000: (3000,) * 5})
            + run("dropped", 1, {0: (4000,) * 5, 1000: (20_000,) * 5}))
    _write(data, "idlecall.csv", rows)
    frame = calibration.read_table(data / "host" / "idlecall.csv")
    assert len(calibration.own_calls(frame)) == len(frame) - 1
    base, curve = calibration.gap_curve(frame, "syscall")
    assert (base, curve.extra_ns) == (500, (0, 2000))   # (2000 + 3000) / 2, not 7800
    assert calibration.gap_curve(frame, "dropped")[1].extra_ns == (0, 16_000)
    after_1s = hostcosts.over_processes(frame[(frame["mode"] == "syscall")
                                              & (frame["gap_ms"] == 1000)])
    assert (after_1s.value, after_1s.n, after_1s.processes) == (2500, 9, 2)
    dear = hostcosts.dear_by_mode(frame)
    assert dear.loc["syscall", ["calls", "dear"]].tolist() == [20, 1]
    assert dear.loc["syscall", "ns_a_call"] == 60_000 / 20
    assert dear.loc["vdso", "dear"] == 0
    assert hostcosts.main([str(data)]) == 0
    out = capsys.readouterr().out
    assert "left out of every mean above" in " ".join(out.split())
    assert [line.split() for line in out.splitlines() if line.startswith("syscall  20")] == [
        ["syscall", "20", "1", "(5.00%)", "60000", "3000.0"]]


def test_costs_command_bounds_a_dear_calls_time_off_its_cpu(tmp_path, capsys):
    """Where idlecall read the thread's CPU clock (thread_cpu_ns, over a span
    holding the call), each vDSO or syscall call of DEAR_NS or more is
    listed with the part of its wall time the thread's CPU time cannot
    hold (at least that much ran off its CPU), dearest first."""
    data = synthetic(tmp_path / "dear")
    lone = pd.read_csv(data / "host" / "idlecall.csv")
    assert hostcosts.dear_calls(calibration.read_table(data / "host" / "idlecall.csv")) is None
    clocked = [{**r, "modes": "syscall", "companion": "none", "companion_calls": 0,
                "command": "idlecall --thread-cpu 1", "ns_per_call": ns,
                "thread_cpu_ns": cpu, "nivcsw": 0}
               for (ns, cpu), r in zip(((500, 20_000), (20_000, 45_000), (30_000, 10_000)),
                                       _idle_rows(0, 1000, {"syscall": 0}, 3))]
    _write(data, "idlecall.csv", lone.to_dict("records") + clocked)
    dear = hostcosts.dear_calls(calibration.read_table(data / "host" / "idlecall.csv"))
    assert dear.attrs["clocked"] == 3
    assert dear[["ns_per_call", "thread_cpu_ns", "off_cpu_ns"]].values.tolist() == [
        [30_000, 10_000, 20_000], [20_000, 45_000, 0]]
    assert set(dear["setting"]) == {"lone"}
    assert hostcosts.main([str(data)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-2].split() == ["lone", "syscall", "1", "s", "30000", "10000",
                                            "20000", "0"]
    # The clock read just around the call (--thread-cpu 2) has a file of
    # its own, listed apart.
    _write(data, "idlecall_clock.csv", [{**r, "command": "idlecall --thread-cpu 2"}
                                        for r in clocked])
    assert hostcosts.main([str(data)]) == 0
    words = " ".join(capsys.readouterr().out.split())
    assert "idlecall_clock.csv, idlecall --thread-cpu 2" in words


def test_a_settings_price_is_the_mean_over_its_processes(tmp_path, capsys):
    """Each idlecall run is one process (known by its command; --repeat K
    labels a setting's processes apart): the model's curve at a gap is the
    mean of the processes' means, not of their calls pooled, and `model
    costs` prints each point timed in several processes with the interval
    over them, wider than the same calls' taken as one process's."""
    data = synthetic(tmp_path / "repeat")
    single = [{**r, "modes": r["mode"], "companion": "none"}
              for gap, ns in ((0, {"vdso": 100, "syscall": 500, "dropped": 5000}),
                              (1000, {"vdso": 900, "syscall": 3000, "dropped": 20000}))
              for r in _idle_rows(0, gap, ns, 5)]
    _write(data, "idlecall.csv", single)
    assert load_costs(data_dir=data).after_gap["vdso"].extra_ns == (0.0, 800.0)
    assert hostcosts.between_processes(calibration.read_table(
        data / "host" / "idlecall.csv")) is None
    repeated = [{**r, "modes": r["mode"], "companion": "none", "repeat": k,
                 "command": f"vgetrandom-harness idlecall --repeat {k}"}
                for k, (v, s) in enumerate(((1000, 2000), (1200, 2400), (1400, 2800)), 1)
                for r in _idle_rows(0, 1000, {"vdso": v, "syscall": s})]
    _write(data, "idlecall.csv", single + repeated)
    # (901 + 1000 + 1200 + 1400) / 4 less the 101 at gap 0; pooled, the 14
    # calls' mean would be 1093.2.
    assert load_costs(data_dir=data).after_gap["vdso"].extra_ns == (0.0, 1125.25 - 101)
    rows = calibration.read_table(data / "host" / "idlecall.csv")
    assert set(calibration.idle_setting(rows)) == {"lone"}
    spread = hostcosts.between_processes(rows).set_index("mode")
    vdso = spread.loc["vdso"]
    assert (vdso["setting"], vdso["gap_ms"], vdso["processes"], vdso["calls"]) == (
        "lone", 1000, 4, 14)
    assert (vdso["mean_ns"], vdso["min_ns"], vdso["max_ns"]) == (1125.25, 901, 1400)
    # Over four processes the interval is wider than the 14 calls' as one run's.
    assert vdso["low_ns"] < vdso["pooled_low_ns"] < vdso["pooled_high_ns"] < vdso["high_ns"]
    assert spread.loc["syscall", "mean_ns"] == 2550.25
    assert "dropped" not in spread.index         # one process timed it
    alone = hostcosts.alone_at(hostcosts.lone_thread(rows), 1000)
    assert (alone.vdso.value, alone.vdso.n, alone.vdso.processes) == (1125.25, 14, 4)
    assert (alone.dropped.value, alone.dropped.processes) == (20001, 1)
    assert hostcosts.ns(alone.vdso).endswith(", 14 in 4 processes")
    assert hostcosts.main([str(data)]) == 0
    out = capsys.readouterr().out
    assert "each setting, mode and gap timed in several processes" in out
    assert "901-1400" in out
    assert "lone after 1 s 0.44x" in out
    # A process between a lone thread and the busy one (its 28 other threads
    # calling 10 times a second each) is a setting of its own, named by its
    # calls a second, out of the model's curves, which price it alone.
    curves = load_costs(data_dir=data).after_gap
    between = [{**r, "modes": r["mode"], "companion": f"{r['mode']}:10:28", "repeat": k,
                "command": f"vgetrandom-harness idlecall --companion 10:28 --repeat {k}"}
               for k in (1, 2) for r in _idle_rows(0, 1000, {"vdso": 700 + k, "syscall": 900})]
    _write(data, "idlecall.csv", single + repeated + between)
    assert load_costs(data_dir=data).after_gap == curves
    rows = calibration.read_table(data / "host" / "idlecall.csv")
    assert set(calibration.idle_setting(rows)) == {"lone", "280 calls/s"}
    spread = hostcosts.between_processes(rows)
    assert list(spread["setting"]) == ["lone", "lone", "280 calls/s", "280 calls/s"]
    assert spread.iloc[2]["mean_ns"] == 701.5


def test_costs_command_sets_the_vdso_against_its_syscall_twin_in_the_states_loop(tmp_path,
                                                                                capsys):
    """`model costs` prints, from the quiet states runs, each class's price a
    call both ways: the vDSO's mean over its calls, reseeds weighted in,
    against the same class set calling the syscall; rows from before syscall
    classes are vDSO rows, and one with reseeds but no reseed mean is left
    out; a class set with no twin prints nothing; a run of a seed not run
    the other way (a later sitting of one way alone) is left out."""
    data = synthetic(tmp_path / "twins")
    assert hostcosts.states_loop(data) is None
    row = {"pattern": "poisson", "scope": "memcg", "classes": "1000:2,1:1", "calls_zeroed": 0,
           "kernel_reseeds": 0, "seed": 1}
    _write(data, "states_quiet.csv", [
        # an old row, no call column: 100 calls, 10 reseeded, no reseed mean
        {**row, "class": 1, "rate_hz": 1.0, "calls": 100, "kernel_reseeds": 10,
         "warm_call_ns_mean": 100},
        {**row, "class": 1, "rate_hz": 1.0, "call": "vdso", "calls": 100, "kernel_reseeds": 10,
         "warm_call_ns_mean": 500, "reseed_call_ns_mean": 4500},
        {**row, "class": 0, "rate_hz": 1000.0, "call": "vdso", "calls": 2000,
         "warm_call_ns_mean": 50},
        {**row, "class": 1, "rate_hz": 1.0, "call": "vdso", "calls": 100, "seed": 2,
         "warm_call_ns_mean": 20_000},
        {**row, "classes": "1000:2:syscall,1:1:syscall", "class": 1, "rate_hz": 1.0,
         "call": "syscall", "calls": 60, "warm_call_ns_mean": 3600},
        {**row, "classes": "1:3", "class": 0, "rate_hz": 1.0, "call": "vdso", "calls": 180,
         "warm_call_ns_mean": 400},
        # the twin on a fixed period is another pair, not this one's
        {**row, "pattern": "periodic", "classes": "1000:2:syscall,1:1:syscall", "class": 1,
         "rate_hz": 1.0, "call": "syscall", "calls": 60, "warm_call_ns_mean": 9000}])
    twins = hostcosts.states_loop(data)
    assert len(twins) == 1       # the busy class, 1:3 and the periodic class have no twin
    twin = twins.iloc[0]
    assert (twin["classes"], twin["rate_hz"], twin["runs_vdso"], twin["runs_syscall"]) \
        == ("1000:2,1:1", 1.0, 1, 1)
    assert twin["vdso_ns"] == pytest.approx(0.9 * 500 + 0.1 * 4500)
    assert twin["saved"] == pytest.approx(1 - 900 / 3600)
    assert hostcosts.main([str(data)]) == 0
    out = capsys.readouterr().out
    assert "the states loop with no pressure" in out and "900 ns   3600 ns" in out
    assert "75.0%" in out


def split_price_row(**fields) -> dict:
    """A states_prices.csv row: every warm call in one page-gap bin unless
    fields say otherwise, none beside the reader (no reader: na)."""
    row = {"regime": "churn", "pattern": "poisson", "seed": 1, "class": 0, "rate_hz": 1.0,
           "call": "vdso", "threads": 28, "calls": 100, "calls_zeroed": 0, "kernel_reseeds": 0,
           "warm_call_ns_mean": 200, "zeroed_call_ns_mean": None, "reseed_call_ns_mean": None,
           "warm_beside_reader_calls": None, "warm_beside_reader_ns_mean": None}
    for b in hostcosts.PAGE_GAPS:
        row |= {f"warm_mate_{b}_calls": 0, f"warm_mate_{b}_ns_mean": None}
    row |= {"warm_mate_50ms_calls": 100, "warm_mate_50ms_ns_mean": 200}
    return row | fields


def test_costs_command_prices_the_states_loop_under_pressure_both_ways(tmp_path, capsys):
    """`model costs` sets the split-prices test's vDSO classes against their
    syscall twins per regime, pattern and rate, runs paired by turn (each a
    seed of its own): the key-current price, the mean over every call with
    the zeroed ones' price weighted in, the share zeroed; a class with no
    twin prints nothing; the model's price where costs are given, for a
    thread of a process making the run's calls a second; each machine's
    runs apart (its CPU and kernel build: a sitting on the same CPU under
    another build is another machine), the model's price beside those of
    its costs' machine alone."""
    data = synthetic(tmp_path / "pressure")
    assert hostcosts.split_price_rows(data) is None
    _write(data, "states_prices.csv", [
        # two vDSO runs: 10 of 100 calls zeroed at 3,200 ns in the first
        split_price_row(seed=1, calls_zeroed=10, zeroed_call_ns_mean=3200,
                        warm_mate_50ms_calls=90),
        split_price_row(seed=3, warm_call_ns_mean=300, warm_mate_50ms_ns_mean=300),
        split_price_row(seed=2, call="syscall", warm_call_ns_mean=1000,
                        warm_mate_50ms_ns_mean=1000),
        # a timer-locked class run one way only
        split_price_row(seed=5, pattern="periodic", warm_call_ns_mean=100),
        # the first run's busy class: its process made 28,028 calls a second
        split_price_row(seed=1, **{"class": 1}, rate_hz=1000.0, calls=100_000,
                        warm_call_ns_mean=100),
        # a later sitting on another machine, both ways
        split_price_row(seed=7, cpu_model="other cpu", warm_call_ns_mean=150),
        split_price_row(seed=8, cpu_model="other cpu", call="syscall", warm_call_ns_mean=600),
        # a sitting on that CPU under another build, the vDSO alone
        split_price_row(seed=9, cpu_model="other cpu", kernel_release="6.18.1-other",
                        warm_call_ns_mean=900)])
    [((cpu, _), rows), ((other, _), theirs), (later, alone)] = hostcosts.by_machine(
        hostcosts.split_price_rows(data))
    assert (cpu, other, later) == ("test cpu", "other cpu", ("other cpu", "6.18.1-other"))
    assert hostcosts.pressure_twins(alone) is None      # no twin took turns with it
    assert hostcosts.costs_cpu(pd.read_csv(data / "host" / "callcost.csv")) == cpu
    [their] = hostcosts.pressure_twins(theirs).to_dict("records")
    assert their["vdso_ns"] == 150 and their["syscall_ns"] == 600 and their["saved"] == 0.75
    assert list(hostcosts.every_call_ns(rows)[:2]) == [0.9 * 200 + 0.1 * 3200, 300]
    [twin] = hostcosts.pressure_twins(rows).to_dict("records")      # the 1000 Hz: no twin
    assert (twin["regime"], twin["pattern"], twin["runs_vdso"], twin["runs_syscall"]) \
        == ("churn", "poisson", 2, 1)
    assert twin["vdso_ns"] == 250 and twin["syscall_ns"] == 1000 and twin["saved"] == 0.75
    assert twin["vdso_every_ns"] == pytest.approx((500 + 300) / 2)
    assert twin["zeroed"] == pytest.approx(10 / 200)
    assert twin["dearer_runs"] == 0     # 500 and 300 ns a call, the syscall 1,000
    dear = rows.assign(zeroed_call_ns_mean=rows["zeroed_call_ns_mean"] * 10)
    assert hostcosts.pressure_twins(dear).iloc[0]["dearer_runs"] == 1   # 0.9 * 200 + 3,200
    costs = load_costs(data_dir=data)
    priced = hostcosts.pressure_twins(rows, costs).to_dict("records")[0]
    calls_per_s = 28 * 1.0 + 28 * 1000.0    # the vDSO's first run: both its classes
    assert hostcosts.loop_calls_per_s(rows[rows["seed"] == 1]) == calls_per_s
    curves = costs.after_gap_for(calls_per_s)
    assert priced["model_vdso_ns"] == pytest.approx(
        costs.vdso(hostcosts.LOOP_BYTES) + curves["vdso"].mean_over("poisson", 1.0))
    assert priced["model_saved"] == pytest.approx(
        1 - priced["model_vdso_ns"] / priced["model_syscall_ns"])
    split = hostcosts.page_gap_prices(rows)
    assert list(split["call"]) == ["vdso", "syscall", "vdso", "vdso"]
    assert split.iloc[0]["50ms_calls"] == 190 and split.iloc[0]["50ms_ns"] == 250
    assert pd.isna(split.iloc[0]["inf_ns"]) and pd.isna(split.iloc[0]["beside_ns"])
    assert hostcosts.main([str(data)]) == 0
    out = capsys.readouterr().out
    flat = " ".join(out.split())
    assert "the states loop under the campaign's churn" in flat and "75.0%" in flat
    assert "by how long before each its page's last call began" in flat
    assert "its runs on the test cpu, kernel 6.18.0-test" in flat
    assert "its runs on the other cpu, kernel 6.18.0-test" in flat
    assert "its runs on the other cpu, kernel 6.18.1-other" not in flat
    # each machine's tables, the price table where both ways took turns
    # (the model's columns: for data/ alone)
    assert flat.count("by how long before each its page's last call began") == 3
    assert "calls on the other cpu, kernel 6.18.1-other, with the key current" in flat


def test_costs_command_sets_calls_timed_inline_against_calls_timed_in_a_function(tmp_path,
                                                                                capsys):
    """Where idlecall_code.csv timed a setting's calls inline and in a
    function of their own (--call-code), `model costs` gives each mode's
    mean over processes both ways (shared where timed) and the Wilcoxon p
    over the processes paired by --repeat; a dear call (10 us or more) is
    left out as everywhere; a setting timed one way only is not listed."""
    data = synthetic(tmp_path / "code")
    prices = {("vdso", "none"): 900, ("vdso", "own"): 200, ("vdso", "shared"): 180,
              ("syscall", "none"): 700, ("syscall", "own"): 690}
    rows = [{**r, "modes": mode, "companion": f"{mode}:1000:28", "call_code": code,
             "repeat": k, "command": f"idlecall --call-code {code} --repeat {k} {mode}",
             "ns_per_call": ns + 10 * k + i}
            for k in range(1, 6) for (mode, code), ns in prices.items()
            for i, r in enumerate(_idle_rows(0, 1000, {mode: 0}, 3))]
    rows[0] = {**rows[0], "ns_per_call": 50_000}       # k 1's first inline vDSO call: dear
    rows += [{**r, "modes": "vdso", "companion": "none", "call_code": "own", "repeat": 1,
              "command": "idlecall lone own"} for r in _idle_rows(0, 1000, {"vdso": 500}, 3)]
    _write(data, "idlecall_code.csv", rows)
    code = hostcosts.inline_against_function(calibration.read_table(
        data / "host" / "idlecall_code.csv"))
    assert [(r["setting"], r["mode"], r["gap_ms"], r["processes"]) for _, r in code.iterrows()] \
        == [("busy", "vdso", 1000, 5), ("busy", "syscall", 1000, 5)]
    vdso, syscall = code.to_dict("records")
    # k's calls: ns + 10 k + (0, 1, 2); k 1's inline vDSO: its two own calls, 911 and 912
    inline_means = [911.5] + [900 + 10 * k + 1 for k in range(2, 6)]
    assert vdso["inline_ns"] == pytest.approx(sum(inline_means) / 5)
    assert vdso["function_ns"] == pytest.approx(200 + 30 + 1)
    assert vdso["shared_ns"] == pytest.approx(180 + 30 + 1)
    assert syscall["function_ns"] == pytest.approx(690 + 30 + 1) and pd.isna(syscall["shared_ns"])
    assert vdso["p"] == pytest.approx(0.0625)      # 5 pairs, all one way: the least p there is
    assert hostcosts.main([str(data)]) == 0
    out = capsys.readouterr().out
    assert "the call timed inline and in a function of its own" in out
    assert "busy after 1 s: inline 1.27x, in a function 0.32x" in out


def test_costs_command_gives_the_curves_timed_in_a_function_over_processes(tmp_path, capsys):
    """Where idlecall_curves.csv timed the model's settings in a function of
    their own, `model costs` gives each point's mean over processes, named
    as timed so; the model's own curves are its too."""
    data = synthetic(tmp_path / "curves")
    before = load_costs(data_dir=data).after_gap
    rows = [{**r, "modes": mode, "companion": companion, "call_code": "own", "repeat": k,
             "command": f"idlecall {mode} {companion} own {k}",
             "ns_per_call": (ns if gap else ns / 2) + k}
            for k in (1, 2) for mode, companion, ns in (("vdso", "none", 300),
                                                        ("syscall", "none", 900),
                                                        ("dropped", "none", 9000),
                                                        ("vdso", "vdso:500:28", 250),
                                                        ("syscall", "syscall:500:28", 800))
            for gap in (0, 1000) for r in _idle_rows(0, gap, {mode: 0}, 3)]
    _write(data, "idlecall_curves.csv", rows)
    assert hostcosts.main([str(data)]) == 0
    out = capsys.readouterr().out
    assert "idlecall_curves.csv, each mode alone" in " ".join(out.split())
    assert "lone, timed in a function after 1 s 0.33x" in out
    assert "14000 calls/s, timed in a function after 1 s 0.31x" in out
    after = load_costs(data_dir=data).after_gap
    assert after != before and after["vdso"].extra_ns == pytest.approx((0, 150))


def test_costs_command_sets_the_probes_against_the_states_thread_in_one_process(tmp_path,
                                                                               capsys):
    """Where states_probe.csv ran idlecall's timed thread in the states
    loop's process, `model costs` gives each run's 1 Hz thread's price
    (reseeds included) beside the two probes' means, their medians and
    how often each probe paid more."""
    data = synthetic(tmp_path / "probe")
    run = {"pattern": "poisson", "scope": "memcg", "classes": "1000:28,1:1", "calls_zeroed": 0,
           "probe": 1, "call": "vdso"}
    rows = [{**run, "seed": seed, "class": c, "rate_hz": rate, "calls": calls,
             "kernel_reseeds": reseeds, "warm_call_ns_mean": warm, "reseed_call_ns_mean": 2000,
             "probe_inline_call_ns_mean": inline, "probe_function_call_ns_mean": function}
            for seed, warm, inline, function in ((911, 200, 800, 190), (912, 210, 850, 250))
            for c, rate, calls, reseeds in ((0, 1000.0, 10_000, 0), (1, 1.0, 50, 1))]
    _write(data, "states_probe.csv", rows)
    probe = hostcosts.probe_against_loop(calibration.read_table(
        data / "host" / "states_probe.csv"))
    assert probe["seed"].tolist() == [911, 912]
    assert probe["loop_ns"].tolist() == pytest.approx([(49 * 200 + 2000) / 50,
                                                       (49 * 210 + 2000) / 50])
    assert probe["inline_ns"].tolist() == [800, 850]
    assert hostcosts.main([str(data)]) == 0
    out = capsys.readouterr().out
    assert "idlecall's timed thread in the states loop's process" in out
    assert "the inline probe dearer than the states thread in 2 of 2 runs, the probe in a " \
           "function in 1" in out


def test_fleet_saving_alone_comes_from_the_thread_timed_alone_at_that_period(tmp_path):
    """Q6's second series: at a fleet rate whose period idlecall timed every
    mode alone, the saving a call is the syscall's mean less the vDSO's
    (reseeds included); at other rates it is not measured (NaN), and the
    back-to-back series does not move."""
    from types import SimpleNamespace
    from model import questions
    from model.datafiles import Sources
    from model.sim.designs import BASELINE, DESIGNS

    data = synthetic(tmp_path / "fleet")
    costs = load_costs(data_dir=data)
    memory = pd.DataFrame([{"design": d, "threads": 1000, "state_bytes_resident_max": 1.0,
                            "state_bytes_unevictable_max": 0.0} for d in DESIGNS])

    def fleet():
        q2 = questions.Answer("Q2", "memory", simulated={"memory": memory},
                              sources=Sources(data))
        a = questions.q6(SimpleNamespace(threads_grid=(1000,)), q2, costs=costs)
        return a, a.simulated["fleet"].set_index(["design", "calls_per_s_per_thread"])

    plain, plain_rows = fleet()
    assert plain_rows["saved_ns_alone"].isna().all()
    alone = ([{**r, "modes": "vdso"} for r in _idle_rows(0, 1000, {"vdso": 2000}, calls=4)]
             + [{**r, "modes": "vdso"} for r in _idle_rows(0, 1000, {"vdso": 6000}, calls=2,
                                                            moved=1)]
             + [{**r, "modes": "syscall"} for r in _idle_rows(0, 1000, {"syscall": 4000})]
             + [{**r, "modes": "dropped"} for r in _idle_rows(0, 1000, {"dropped": 30000})])
    # The same modes alone with spinners are another machine state: not used.
    spun = [{**r, "spin": 1, "ns_per_call": 1} for r in alone]
    _write(data, "idlecall.csv", alone + spun)
    a, rows = fleet()
    vdso_mean = (1999 + 2000 + 2001 + 2002 + 5999 + 6000) / 6
    at_1 = rows.loc[(BASELINE, 1.0)]
    assert at_1["saved_ns_alone"] == pytest.approx(4000 - vdso_mean)
    calls_per_s = 100_000 * 1_000 * 1.0
    assert at_1["cpu_core_days_saved_per_day_alone"] == pytest.approx(
        calls_per_s * (4000 - vdso_mean) * 1e-9)
    assert rows.loc[("syscall", 1.0), "cpu_core_days_saved_per_day_alone"] == 0
    others = rows.drop(index=1.0, level="calls_per_s_per_thread")
    assert others["saved_ns_alone"].isna().all()
    assert rows["cpu_core_days_saved_per_day"].equals(
        plain_rows["cpu_core_days_saved_per_day"])
    assert "host/idlecall.csv)" not in plain.notes[-1] and "Alone" not in plain.notes[-1]
    assert a.notes[-1].startswith("assumptions") and "host/idlecall.csv)" in a.notes[-1]
    assert f"{4000 - vdso_mean:.0f} ns at 1/s a call" in a.notes[-1]
    assert any(name.endswith("host/idlecall.csv") for name in a.sources.used)


def test_idle_setting_names_each_idlecall_row_s_process():
    """Alone, busy (companions on their own page), page-mates (on the timed
    state's page) and busy page-mates (those calling as often as the states
    campaign's busy class), read first or not; spinners apart; rows from
    before the options are lone."""
    rows = pd.DataFrame({
        "companion": [None, "none", "vdso:1000:28", "syscall:1000:28", "vdso:1:27:shared",
                      "vdso:1000:27:shared", "vdso:1000:27:shared", "none"],
        "read_first": [None, 0, 0, 0, 0, 0, 1, 0],
        "spin": [0, 0, 0, 0, 0, 0, 0, 1]})
    assert calibration.idle_setting(rows).tolist() == [
        "lone", "lone", "busy", "busy", "page-mates", "busy page-mates",
        "busy page-mates, read first", "spin"]
    # Timed in a created thread (--thread 1): a setting of its own, named
    # before the read; rows from before the option are the main thread's.
    threaded = rows.assign(thread=[None, 1, 1, 0, 0, 0, 1, 1])
    assert calibration.idle_setting(threaded).tolist() == [
        "lone", "lone, created thread", "busy, created thread", "busy", "page-mates",
        "busy page-mates", "busy page-mates, created thread, read first", "spin"]
    assert set(calibration.idle_setting(threaded)) - {"spin"} <= set(calibration.IDLE_SETTINGS)
    # With the states threads' 64 KiB stacks (--thread 2): a created
    # thread's setting of its own, never the main thread's.
    stacked = rows.assign(thread=[None, 2, 2, 0, 0, 0, 2, 2])
    assert calibration.idle_setting(stacked).tolist() == [
        "lone", "lone, created thread, 64 KiB stacks", "busy, created thread, 64 KiB stacks",
        "busy", "page-mates", "busy page-mates",
        "busy page-mates, created thread, 64 KiB stacks, read first", "spin"]
    assert set(calibration.idle_setting(stacked)) - {"spin"} <= set(calibration.IDLE_SETTINGS)
    # The companions' states on the pages after the timed state's, in its
    # mapping (--companion ...:next), and the command in a forked child
    # (--fork 1): settings of their own, never the model's busy one.
    laid = stacked.assign(companion=[None, None, "vdso:1000:28:next", "vdso:1000:28", None,
                                     None, None, "vdso:100:28:next"],
                          fork=[None, 1, 1, 0, 0, 0, 0, 0], thread=[None, 0, 1, 0, 0, 0, 0, 0])
    # Then companions working around each call as the states threads do
    # (--companion-check 1), and the call's buffer written before the
    # clock starts (--touch-buf 1): settings of their own too.
    checked = laid.assign(companion_check=[None, 0, 1, 1, 0, 0, 0, 0])
    touched = checked.assign(touch_buf=[None, 1, 0, 1, 0, 0, 0, 0])
    # The call timed in a function of its own (--call-code own), its
    # companions calling through it too (shared), or inline (none, and rows
    # from before the option).
    coded = touched.assign(call_code=[None, "none", "own", "shared", None, None, None, None])
    mapped = "busy, states in one mapping, created thread, forked"
    for rows, first in ((laid, ["lone", "lone, forked", mapped, "busy"]),
                        (checked, ["lone", "lone, forked", mapped + ", companions checking",
                                   "busy, companions checking"]),
                        (touched, ["lone", "lone, forked, buffer touched",
                                   mapped + ", companions checking",
                                   "busy, companions checking, buffer touched"]),
                        (coded, ["lone", "lone, forked, buffer touched",
                                 mapped + ", companions checking, timed in a function",
                                 "busy, companions checking, buffer touched, "
                                 "timed in a shared function"])):
        assert calibration.idle_setting(rows).tolist()[:4] == first
        assert set(calibration.idle_setting(rows)) - {"spin"} <= set(calibration.IDLE_SETTINGS)


def test_model_prices_each_class_as_the_simulation_charges_it(tmp_path):
    """`model costs` prints what the model charges a Poisson thread's call
    at the states classes' rates: the back-to-back cost plus the after_gap
    curve's mean over the thread's gaps, each way; busy only where busy
    curves were timed."""
    data = synthetic(tmp_path / "prices")
    costs = load_costs(data_dir=data)
    prices = hostcosts.model_prices(costs, 4).set_index(["process", "rate_hz"])
    assert list(prices.index) == [("lone", r) for r in hostcosts.CLASS_RATES]
    for rate in hostcosts.CLASS_RATES:
        row = prices.loc[("lone", rate)]
        for way in ("vdso", "syscall"):
            assert row[f"{way}_ns"] == pytest.approx(
                getattr(costs, way)(4) + costs.after_gap[way].mean_over("poisson", rate))
        assert row["saved"] == pytest.approx(1 - row["vdso_ns"] / row["syscall_ns"])
