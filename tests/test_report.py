"""The report's layout, and its numbers against the frames they summarise.

One small study (fewer runs than even the 'quick' effort) is run once for
the module, on a data directory holding a test fixture: a callcost.csv whose
rows are made up here, only so that the measured-table path is exercised;
nothing under data/ is read or written.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from model import figures, questions, replicate, replicated, report
from model.calibration import load_costs
from model.datafiles import DataError, REPO, Sources, sha256
from model.sim.designs import DESIGNS, Design
from model.sim.placement import UNEVICTABLE

TINY = questions.Effort("test", replications=2, threads_grid=(1, 100),
                        scenarios=("container",), scenario_duration_s=120.0,
                        claim_replications=2, claim_points=("2944 MiB", "3056 MiB"),
                        claim_designs=("droppable",))
# Costs for these tests, set by hand (a what-if, flagged in the report):
# the fixture directory holds no calibration data.
TEST_WHAT_IF = {"vdso.base_ns": 20.0, "syscall.base_ns": 480.0, "reseed_ns": 500.0,
                "fault_ns.anon": 300.0, "fault_ns.droppable": 300.0,
                "fault_ns.unevictable": 300.0, "mlock_ns_per_page": 100.0,
                "state_fault_ns.anon": 400.0, "state_fault_ns.droppable": 400.0,
                "state_fault_ns.unevictable": 400.0,
                "scan_ns_per_page": 200.0, "walk_ns_per_page": 200.0, "kswapd_pages_per_s": 2e5, "lru_add_wait_s": 0.0,
                "after_gap": 0.0}
PROVENANCE = {"where": "test-fixture", "kernel_release": "n/a", "variant": "none",
              "cpu_model": "n/a", "glibc": "n/a", "date_utc": "2026-01-01T00:00:00Z",
              "git_commit": "n/a", "command": "tests/test_report.py"}


def fixture_callcost(path):
    rng = np.random.default_rng(1)
    rows = []
    for mode, base in (("vdso", 20.0), ("syscall", 480.0)):
        for threads in (1, 2):
            for size in (4, 4096):
                for sample in range(5):
                    for thread in range(threads):
                        rows.append({**PROVENANCE, "mode": mode, "size_bytes": size,
                                     "threads": threads, "thread": thread, "sample": sample,
                                     "calls": 1000, "ns_per_call":
                                     base + size / 100 + rng.normal(0, 1)})
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    fixture_callcost(data / "host" / "callcost.csv")
    return questions.run(TINY, progress=None, data_dir=data, what_if=TEST_WHAT_IF), data


@pytest.fixture(scope="module")
def built(study):
    st, _ = study
    return report.build(st, "pytest tests/test_report.py")


def test_layout_widths(built):
    for block in built.blocks:
        limit = report.PROSE_COLUMNS if block.kind == "prose" else report.TABLE_COLUMNS
        for line in block.text.splitlines():
            assert len(line) <= limit, f"{block.kind} line of {len(line)}: {line!r}"
    text = built.render()
    assert max(len(line) for line in text.splitlines()) <= report.TABLE_COLUMNS


def test_sections_and_footer(built, study):
    st, data = study
    text = built.render()
    for q in ("Q1 Cost per call", "Q2 Memory per design", "Q3 Memory pressure",
              "Q4 Fork and secrecy", "Q5 Complexity against benefit", "Q6 Scale"):
        assert re.search(rf"^{q}\n-+$", text, re.M), q
    footer = built.blocks[-1]
    assert footer.kind == "footer"
    assert "Command:    pytest tests/test_report.py" in footer.text
    assert re.search(r"^Git commit: \S+", footer.text, re.M)
    # The fixture's hash is in the footer, and the absent files are named.
    assert sha256(data / "host" / "callcost.csv") in footer.text
    assert "complexity.csv: ABSENT" in footer.text
    # Measured and simulated tables are labelled apart; the test is named.
    assert "Measured: data/host/callcost.csv" in text
    assert "Simulated: scenario 'container'" in text
    assert "Paired t-test (model.replicate.paired) against droppable" in text
    assert "Welch's t-test" in text
    # Hand-set costs are flagged, at the top and in the footer.
    assert "WARNING: some of the model's costs are what-ifs" in text
    assert "Costs:      WHAT-IF" in footer.text


def amean(text: str, name: str) -> list[float]:
    """The values of the first 'Amean <name>' row, read by column as printed:
    a label, then per design a value and its percentage."""
    line = next(l for l in text.splitlines() if re.match(rf"Amean\s+{re.escape(name)}\s", l))
    start, width = report.LABEL_WIDTH, report.COLUMN_WIDTH
    return [float(line[i:i + report.VALUE_WIDTH]) for i in range(start, len(line), width)]


def close(a: float, b: float) -> bool:
    """Equal to the 4 significant digits the report prints."""
    return abs(a - b) <= 5e-4 * max(abs(a), abs(b)) + 1e-12


def test_compare_numbers_match_runs(built, study):
    st, _ = study
    text = built.render()
    runs = st.answers["Q3"].simulated["scenarios"]
    printed = amean(text, "cpu-getrandom-s")
    want = [runs[(runs["design"] == d) & (runs["metric"] == "cpu_getrandom_s")]["value"].mean()
            for d in report.design_groups()[0][1]]
    assert len(printed) == len(want)
    assert all(close(p, w) for p, w in zip(printed, want)), (printed, want)


def test_claim_numbers_match_sweep(built, study):
    st, _ = study
    text = built.render()
    claim = st.answers["Q3"].simulated["claim"]
    for _, row in claim.iterrows():
        line = next(l for l in text.splitlines()
                    if re.match(rf"\s+{row['pressure']:g}\s+{int(row['n'])}\s", l))
        p_mean = float(line.split()[3])
        assert close(p_mean, row["p_mean"]), (line, row["p_mean"])
        assert 0.0 <= row["p_low"] <= row["p_mean"] <= row["p_high"] <= 1.0, row
        sweep = st.answers["Q3"].simulated["pressure_runs"]
        mine = sweep[(sweep["pressure"] == row["pressure"])
                     & (sweep["metric"] == "p_state_dropped_in_key_life")]
        assert close(p_mean, mine["value"].mean())


def test_measured_numbers_match_fixture(built, study):
    _, data = study
    raw = pd.read_csv(data / "host" / "callcost.csv")
    per_sample = raw[(raw.threads == 2) & (raw.size_bytes == 4096)].groupby(
        ["mode", "sample"])["ns_per_call"].mean()
    syscall, vdso = amean(built.render(), "2t-4096B")
    assert close(syscall, per_sample["syscall"].mean())
    assert close(vdso, per_sample["vdso"].mean())


def test_measured_drop_intervals_stay_within_zero_and_one():
    """The host's drop fractions vary from 0 to 1 between runs: their
    t-intervals reach past [0, 1] and are cut to it."""
    m = pd.read_csv(REPO / "data" / "host" / "pressure.csv").dropna(subset=["drop_fraction"])
    keys = ["kind", "touch", "limit_mib", "droppable_mib", "hog_mib"]
    drops = questions._mean_ci(m, keys, "drop_fraction", (0, 1))
    assert ((drops["low"] >= 0) & (drops["low"] <= drops["mean"])
            & (drops["mean"] <= drops["high"]) & (drops["high"] <= 1)).all()
    uncut = (drops["mean"] - drops["ci_half"] < 0) | (drops["mean"] + drops["ci_half"] > 1)
    assert uncut.any()


def test_q1_keeps_harness_runs_apart_and_reports_their_spread(tmp_path):
    """Two runs whose sample numbers coincide are four samples, not two,
    and the spread between their means is reported."""
    rows = [{**PROVENANCE, "mode": mode, "size_bytes": 4, "threads": 1, "thread": 0,
             "sample": sample, "calls": 1000, "run": run,
             "ns_per_call": base * (1.5 if run else 1.0) + sample}
            for mode, base in (("vdso", 20.0), ("syscall", 400.0))
            for run in (0, 1) for sample in (0, 1)]
    (tmp_path / "host").mkdir()
    pd.DataFrame(rows).to_csv(tmp_path / "host" / "callcost.csv", index=False)
    a = questions.q1(TINY, Sources(data_dir=tmp_path),
                     costs=load_costs(what_if=TEST_WHAT_IF, data_dir=tmp_path))
    table = a.measured["callcost"].set_index("mode")
    assert table.loc["vdso", "n"] == 4 and close(table.loc["vdso", "mean"], 25.5)
    assert a.values["vdso_4b_run_range_ns"] == (20.5, 30.5)
    assert a.values["syscall_4b_run_range_ns"] == (400.5, 600.5)
    r = report.Report()
    report.section_q1(r, a)
    assert "vdso 20.5 to 30.5 ns, syscall 400.5 to 600.5 ns" in " ".join(r.render().split())


def test_q1_against_openssl_is_bytes_per_s_over_openssls(tmp_path):
    """vDSO and syscall bytes/s (size / ns per call) over openssl's mean
    bytes/s at the same size, one thread; sizes openssl did not run are left out."""
    (tmp_path / "host").mkdir()
    calls = [{**PROVENANCE, "mode": mode, "size_bytes": size, "threads": threads, "thread": 0,
              "sample": sample, "calls": 1000, "ns_per_call": ns * threads + sample * 1e-3}
             for mode, ns in (("vdso", 50.0), ("syscall", 500.0)) for size in (4, 4096)
             for threads in (1, 2) for sample in (0, 1)]
    pd.DataFrame(calls).to_csv(tmp_path / "host" / "callcost.csv", index=False)
    openssl = [{**PROVENANCE, "openssl": "OpenSSL-test", "size_bytes": 4096, "run": run,
                "bytes_per_s": rate} for run, rate in ((0, 4e9), (1, 6e9))]
    pd.DataFrame(openssl).to_csv(tmp_path / "host" / "chacha20.csv", index=False)
    a = questions.q1(TINY, Sources(data_dir=tmp_path),
                     costs=load_costs(what_if=TEST_WHAT_IF, data_dir=tmp_path))
    ref = a.measured["vs_openssl"].set_index("size_bytes")
    assert list(ref.index) == [4096]
    assert close(ref.loc[4096, "vdso_fraction"], 4096 / 50e-9 / 5e9)
    assert close(ref.loc[4096, "syscall_fraction"], 4096 / 500e-9 / 5e9)
    r = report.Report()
    report.section_q1(r, a)
    assert "4,096 B one thread gets 16.38 of openssl's" in " ".join(r.render().split())


def test_stars_follow_the_test(built, study):
    """syscall's CPU time is far above droppable's on the same seeds: starred."""
    line = next(l for l in built.render().splitlines() if l.startswith("Amean  cpu-getrandom"))
    assert re.search(r"\*\s*-[\d.]+%\*", line), line


def claim_of(levels: dict) -> pd.DataFrame:
    """A claim table from {pressure: (fractions per replication, key lives each)}."""
    sweep = pd.DataFrame([{"pressure": level, "replication": rep, "metric": metric,
                           "value": value}
                          for level, (fractions, lives) in levels.items()
                          for rep, f in enumerate(fractions)
                          for metric, value in (("p_state_dropped_in_key_life", f),
                                                ("key_lives", lives),
                                                ("key_lives_dropped", f * lives),
                                                ("oom_kills", 2.0 if level > 3 else 0.0))])
    return questions.claim_table(sweep)


def test_claim_crossing_rule():
    claim = claim_of({1: ([0.0] * 30, 1e3), 2: ([0.0] * 29 + [1e-3], 1e3),
                      3: ([0.2, 0.3, 0.25, 0.22, 0.31, 0.28], 1e3), 4: ([0.0] * 5, 1e3)})
    got = questions.claim_crossing(claim)
    assert got["claim_crossed_at"] == 2 and got["claim_crossed_ci_at"] == 3
    assert got["claim_levels_above"] == [3]
    # 30 replications without a drop bound P only below about 3/30.
    assert got["claim_levels_too_short"] == [1, 4] and got["claim_levels_bounded"] == []
    assert got["claim_units_needed"] == replicate.units_to_bound(1e-5)
    assert got["claim_levels_oom_first"] == [4]
    row = claim.set_index("pressure").loc[1]
    assert row["p_upper95"] == pytest.approx(1 - 0.05 ** (1 / 30))
    none = questions.claim_crossing(claim.iloc[:1])
    assert none["claim_crossed_at"] is None
    assert questions.stretches([1, 2, 4], [1, 2, 3, 4]) == "1-2, 4 MiB"


def test_bad_data_file_is_one_line_error(tmp_path):
    bad = tmp_path / "host" / "callcost.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text("mode,size_bytes\nvdso,4\n")
    with pytest.raises(DataError) as e:
        questions.q1(TINY, questions.Sources(tmp_path),
                     questions.load_costs(what_if=TEST_WHAT_IF, data_dir=tmp_path))
    assert str(e.value).count("\n") == 0
    assert "callcost.csv: missing column 'threads'" in str(e.value)


def test_figures_and_report_written_atomically(study, tmp_path):
    st, _ = study
    paths = figures.draw_all(st, tmp_path / "figures")
    assert {p.suffix for p in paths} == {".png", ".svg"}
    # The tornado only where the effort ran the sensitivity (not this one).
    assert "sensitivity" not in st.answers["Q3"].simulated
    assert len(paths) == 2 * (sum(len(d) for d in figures.DRAW.values()) - 1)
    out = report.write(st, tmp_path / "report.txt", "pytest")
    assert out.read_text().startswith("VM_DROPPABLE study")
    assert not list(tmp_path.glob(".*tmp"))
    # The mode of any new file, not mkstemp's 0600: results are for sharing.
    umask = os.umask(0)
    os.umask(umask)
    for path in [out, *paths]:
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path


def test_cli_error_is_one_line():
    result = subprocess.run([sys.executable, "-m", "model", "report", "--effort", "nope"],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_complexity_table_counts_own_change_only():
    rows = [("droppable", "MAP_DROPPABLE v23 as merged", "lines_added_total", 137),
            ("droppable", "random-6.11-rc1 pull (whole vDSO getrandom)", "lines_added_total",
             1122),
            ("droppable", "fix post merge", "fix_post_merge", 1),
            ("droppable", "fix post merge", "fix_post_merge", 1),
            ("exempt", "fix post merge", "fix_post_merge", "na"),
            ("exempt", "review status", "review_status", "not posted"),
            ("exempt", "0003-x.patch", "lines_added_total", 53),
            ("exempt", "0003-x.patch", "lines_added_mm", 28),
            ("syscall", "no kernel change", "lines_added_total", 0)]
    frame = pd.DataFrame(rows, columns=["design", "item", "metric", "value"])
    table = questions.complexity_table(frame).set_index("design")
    assert table.loc["droppable", "lines_added_total"] == 137     # the pull is context
    assert table.loc["droppable", "fix_post_merge"] == 2
    assert np.isnan(table.loc["exempt", "fix_post_merge"])          # never merged
    assert table.loc["exempt", "fix_pre_merge"] == 0                # none listed
    assert table.loc["exempt", "review_status"] == "not posted"
    assert np.isnan(table.loc["droppable", "lines_added_mm"])      # not counted upstream
    assert table.loc["exempt", "lines_added_mm"] == 28
    assert table.loc["syscall", "lines_added_mm"] == 0             # no kernel change at all
    assert not table.loc["mlock", "present"]


def test_a_new_design_is_one_entry(tmp_path, monkeypatch):
    """A seventh design on an existing placement, added to DESIGNS and nowhere
    else, is simulated, tabulated within 80 columns and drawn."""
    monkeypatch.setitem(DESIGNS, "exempt-bounded", Design(
        "exempt-bounded", uses_vdso=True, label="exempt-bounded (test)", colour="#8c564b",
        group="a test's design", placement=UNEVICTABLE, child_placement=UNEVICTABLE,
        summary="added by tests/test_report.py"))
    small = questions.Effort("test-new-design", replications=2, threads_grid=(1, 100),
                             scenarios=("container",), scenario_duration_s=60.0,
                             claim_replications=2, claim_points=("2944 MiB",),
                             claim_designs=("droppable",))
    fixture_callcost(tmp_path / "data" / "host" / "callcost.csv")
    st = questions.run(small, progress=None, data_dir=tmp_path / "data", what_if=TEST_WHAT_IF)
    built = report.build(st, "pytest")
    for block in built.blocks:
        if block.kind == "table":
            assert max(map(len, block.text.splitlines())) <= report.TABLE_COLUMNS, block.text
    text = built.render()
    assert "Simulated: scenario 'container', a test's design" in text
    # 1 thread: one page; 100 threads: five pages of 21 (glibc 2.41 on x86_64)
    assert re.search(r"^exempt-bounded\s+4\s+20$", text, re.M), "Q2 rows per design"
    paths = figures.draw_all(st, tmp_path / "figures")
    assert len(paths) == 2 * (sum(len(d) for d in figures.DRAW.values()) - 1)   # no tornado
    assert "exempt-bounded (test)" in (tmp_path / "figures" / "q2_memory.svg").read_text()


def test_q5_shows_the_states_loop_both_ways_where_measured(study, tmp_path):
    """Where data/host/states_quiet.csv has a class set run both ways, Q5
    reads it (hostcosts.loop_twins) and prints each class's price both ways
    beside the model's benefit, its call pattern named unless Poisson."""
    import dataclasses
    from model import hostcosts
    from model.datafiles import Sources
    st, _ = study
    (tmp_path / "host").mkdir()
    row = {"where": "host", "classes": "1:1", "class": 0, "rate_hz": 1.0, "calls": 60,
           "calls_zeroed": 0, "kernel_reseeds": 0}
    ways = [("poisson", "memcg"), ("periodic", "memcg"), ("periodic", "global")]
    pd.DataFrame([{**row, "pattern": p, "scope": s, "call": "vdso", "warm_call_ns_mean": 500}
                  for p, s in ways]
                 + [{**row, "pattern": p, "scope": s, "classes": "1:1:syscall", "call": "syscall",
                     "warm_call_ns_mean": 2500} for p, s in ways]).to_csv(
        tmp_path / "host" / "states_quiet.csv", index=False)
    q5 = questions.q5(TINY, st.answers["Q3"], Sources(tmp_path))
    assert q5.measured["states_loop"].equals(hostcosts.states_loop(tmp_path))
    r = report.Report()
    report.section_q5(r, dataclasses.replace(q5, simulated=st.answers["Q5"].simulated))
    text = r.render()
    assert "in the states loop, no pressure" in text
    assert re.search(r"^1:1 +1 Hz +1\+1 +500 ns +2500 ns +80\.0%$", text, re.M)
    assert re.search(r"^1:1 periodic +1 Hz", text, re.M)
    assert re.search(r"^1:1 periodic, no memcg +1 Hz +1\+1 ", text, re.M)
    assert "the model prices rare callers at idlecall's prices" in " ".join(text.split())


def test_q5_shows_the_states_loop_under_pressure_where_measured(study, tmp_path):
    """Where data/host/states_prices.csv has the loop both ways, Q5 reads
    it (hostcosts.pressure_twins) and prints each class's price both ways,
    key current and over every call, a dropped state's calls weighing in:
    here a class whose state was found zeroed at half its calls costs more
    than the syscall over every call, printed as a saving below 0, and the
    runs in which it did are counted; every
    line within the report's table width; the runs of the machine whose
    costs data/host holds alone (callcost.csv's cpu_model, the first build
    met with it)."""
    import dataclasses
    from model import hostcosts
    from model.datafiles import Sources
    st, _ = study
    (tmp_path / "host").mkdir()
    pd.DataFrame([{"cpu_model": "test cpu"}]).to_csv(tmp_path / "host" / "callcost.csv",
                                                     index=False)
    row = {"where": "host", "cpu_model": "test cpu", "kernel_release": "6.18.0-test",
           "regime": "churn", "pattern": "periodic", "class": 0, "rate_hz": 1.0, "threads": 28,
           "calls": 100, "kernel_reseeds": 0, "reseed_call_ns_mean": None}
    pd.DataFrame([{**row, "seed": 1, "call": "vdso", "calls_zeroed": 50,
                   "warm_call_ns_mean": 200, "zeroed_call_ns_mean": 3000},
                  {**row, "seed": 2, "call": "syscall", "calls_zeroed": 0,
                   "warm_call_ns_mean": 800, "zeroed_call_ns_mean": None},
                  # the widest cells the data have: control, timer-locked, 1,000 Hz, a loss
                  {**row, "seed": 3, "regime": "control", "rate_hz": 1000.0, "call": "vdso",
                   "calls_zeroed": 100, "warm_call_ns_mean": None, "zeroed_call_ns_mean": 16140},
                  {**row, "seed": 4, "regime": "control", "rate_hz": 1000.0, "call": "syscall",
                   "calls_zeroed": 0, "warm_call_ns_mean": 614, "zeroed_call_ns_mean": None},
                  # another machine's run: not in the medians
                  {**row, "cpu_model": "other cpu", "seed": 5, "call": "vdso", "calls_zeroed": 0,
                   "warm_call_ns_mean": 9000, "zeroed_call_ns_mean": None},
                  # a later sitting on the same CPU under another build: nor that
                  {**row, "kernel_release": "6.18.1-other", "seed": 6, "call": "vdso",
                   "calls_zeroed": 0, "warm_call_ns_mean": 9000,
                   "zeroed_call_ns_mean": None}]).to_csv(
        tmp_path / "host" / "states_prices.csv", index=False)
    q5 = questions.q5(TINY, st.answers["Q3"], Sources(tmp_path))
    twins = q5.measured["states_pressure"]
    assert twins.iloc[0]["vdso_every_ns"] == 1600 and twins.iloc[0]["saved_every"] == -1.0
    r = report.Report()
    report.section_q5(r, dataclasses.replace(q5, simulated=st.answers["Q5"].simulated))
    text = r.render()
    assert "in the states loop, churn and none" in text
    assert re.search(r"^churn +periodic +1 Hz +1\+1 +200 +800 +75\.0% +0\.500 +1600 +-100\.0%$",
                     text, re.M)
    # both classes lost their state in their one run and cost more in it
    assert "median over runs): churn periodic 1 Hz 1 of 1; control periodic 1000 Hz 1 of 1" \
        in " ".join(text.split())
    assert max(len(line) for line in text.splitlines()) <= report.TABLE_COLUMNS
