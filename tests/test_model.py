"""The model's invariants, determinism and the behaviour of each design."""
from __future__ import annotations

import re

import pandas as pd
import pytest

import model
from model import codehash
from model.sim import placement
from model.sim.costs import Costs, Linear
from model.sim.designs import DESIGNS
from model.sim.placement import DROPPABLE, SWAP
from model.sim.simulation import Simulation, simulate

# Costs pinned here so that new data/ files cannot change what these tests see.
COSTS = Costs(vdso=Linear(20.0, 0.1), syscall=Linear(480.0, 1.0), reseed_ns=500.0,
              fault_ns={"anon": 200.0, "droppable": 200.0, "unevictable": 250.0},
              state_fault_ns={"anon": 200.0, "droppable": 200.0, "unevictable": 250.0},
              mlock_ns_per_page=100.0, scan_ns_per_page=200.0, walk_ns_per_page=200.0, kswapd_pages_per_s=200_000.0,
              sources={"all": "pinned by tests"}, what_if=True)


# The designs that keep a state in memory.
VDSO = [d.name for d in DESIGNS.values() if d.uses_vdso]


def run(name, design, seed=1, check=True, **overrides):
    scenario = model.load(name, overrides)
    return simulate(scenario, design, seed=seed, costs=COSTS, check_invariants=check)


def values(result) -> pd.Series:
    return result.metrics.set_index("metric")["value"]


# A 1 GiB memcg under a leak, where the server is the largest process.
LEAK = dict(**{
    "run.duration_s": 240, "run.probe_interval_s": 0.5,
    "memcg.limit_bytes": "512 MiB", "machine.ram_bytes": "2 GiB",
    "workload.processes": 1, "workload.threads_per_process": 2000,
    "workload.thread_lifetime_s": 0, "workload.process_rss_bytes": "256 MiB",
    "workload.calls_per_s": [[50, 0.5], [0.01, 0.5]],
    "pressure.profile": "leak", "pressure.anon_base_bytes": "64 MiB",
    "pressure.leak_bytes_per_s": "4 MiB", "pressure.restart_after_oom_s": 20,
    "pressure.file_hot_bytes": "32 MiB", "pressure.file_stream_bytes_per_s": "2 MiB",
})


@pytest.mark.parametrize("design", list(model.DESIGNS))
@pytest.mark.parametrize("name", ["spikes", "container", "fork-server"])
def test_invariants_hold_at_every_probe(name, design):
    """The simulation checks, every 0.5 s of simulated time, that the LRU
    matches the pools, RLIMIT_MEMLOCK holds and no thread runs on a zeroed
    state (check_invariants); what it reports at each probe is checked here."""
    overrides = {"run.duration_s": 200, "run.probe_interval_s": 0.5}
    scenario = model.load(name, overrides)
    d = DESIGNS[design]
    probes = run(name, design, **overrides).timeseries.pivot_table(
        index="t_s", columns="series", values="value")
    assert len(probes) >= 200 / 0.5                    # a probe every 0.5 s, none skipped
    page = scenario.state.page_bytes
    capacity = (scenario.memcg.limit_bytes or scenario.machine.ram_bytes) // page * page
    pools = probes[[c for c in probes if c.endswith("_bytes") and c.split("_bytes")[0] in
                    ("reserved", "anon", "file", "droppable", "unevictable")]]
    assert pools.shape[1] == 5
    assert ((probes["free_bytes"] + pools.sum(axis=1)) == capacity).all()   # pages conserved
    assert (probes["free_bytes"] >= 0).all()
    assert (probes["state_bytes_unevictable"] <= probes["state_bytes_resident"]).all()
    assert (probes["threads"] > 0).any()
    if not d.uses_vdso:
        assert (probes["state_bytes_resident"] == 0).all()
    if placement.UNEVICTABLE not in (d.placement, d.child_placement):
        assert (probes["state_bytes_unevictable"] == 0).all()
    if not (d.charged_to_memlock or d.child_charged_to_memlock):
        assert (probes["memlock_charged_bytes"] == 0).all()
    if placement.ANON not in (d.placement, d.child_placement) or not d.uses_vdso:
        assert (probes["key_bytes_swappable"] == 0).all()


def test_the_invariant_check_can_fail():
    """check_invariants is not vacuous: a page charged behind the LRU's back is caught."""
    scenario = model.load("spikes", {"run.duration_s": 30, "run.probe_interval_s": 0.5})
    sim = Simulation(scenario, "droppable", 1, COSTS, check_invariants=True)

    def leak():
        yield sim.env.timeout(10)
        sim.domain.pools["anon"] += 1          # charged, but on no LRU list

    sim.env.process(leak())
    with pytest.raises(AssertionError, match="LRU holds"):
        sim.run()


def test_invariants_hold_through_oom_kills():
    for design in model.DESIGNS:
        v = values(run("leak", design, **LEAK))
        assert v["oom_kills"] >= 1, design


def test_same_seed_same_frames_and_other_seed_differs():
    a = run("spikes", "droppable", seed=7, check=False)
    b = run("spikes", "droppable", seed=7, check=False)
    pd.testing.assert_frame_equal(a.metrics, b.metrics, check_exact=True)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, check_exact=True)
    c = run("spikes", "droppable", seed=8, check=False)
    assert not values(a).equals(values(c))


def test_every_dropped_state_is_reseeded():
    """Each in-use state that reclaim zeroed is reseeded before use, or still waits."""
    scenario = model.load("spikes", {"workload.calls_per_s": [[0.005, 1.0]],
                                     "pressure.file_stream_bytes_per_s": "256 MiB"})
    sim = Simulation(scenario, "droppable", 3, COSTS, check_invariants=True)
    v = values(sim.run())
    assert v["key_lives_dropped"] > 0, "the scenario must drop states in use"
    waiting = sum(1 for f in sim.state_folios() for s in f.in_use() if s.zeroed == "drop")
    reseeded_after_drop = v["reseeds_drop"]
    assert reseeded_after_drop + waiting >= v["key_lives_dropped"]


# The states experiment, short: four classes on pages of their own, a fast
# page-cache churn in a 256 MiB memcg (model/scenarios/states.toml).
STATES = {"run.duration_s": 40, "run.settle_s": 5}


@pytest.mark.parametrize("pattern", ["poisson", "periodic"])
def test_a_drop_costs_each_thread_one_reseed_on_its_own_next_call(pattern):
    """Each drop zeroes every state on the page, but a thread pays for it on
    its own next call, once: drop-caused reseeds never exceed the states
    dropped nor the calls made, and per class no more calls found their
    state zeroed than were made."""
    sim = Simulation(model.load("states", {**STATES, "workload.call_pattern": pattern,
                                           "workload.calls_per_s": [[0.05, 1.0], [0.5, 1.0]],
                                           "workload.threads_per_process": 56}),
                     "droppable", 2, COSTS, check_invariants=True)
    result = sim.run()
    v = values(result)
    assert v["states_dropped"] > 0, "the scenario must drop states in use"
    calls = v["calls_vdso"] + v["calls_syscall"]
    assert v["reseeds_drop"] <= v["states_dropped"]
    assert v["reseeds_drop"] <= calls
    classes = result.classes.set_index("rate_hz")
    assert (classes["calls_zeroed"] <= classes["calls"]).all()
    assert (classes["key_lives_dropped"] <= classes["key_lives"] + 1e-9).all()
    # A state still zeroed at the end waits for its thread's next call.
    waiting = sum(1 for f in sim.state_folios() for s in f.in_use() if s.zeroed == "drop")
    assert v["reseeds_drop"] + waiting == v["states_dropped"]


@pytest.mark.parametrize("pattern", ["poisson", "periodic"])
def test_a_state_page_in_the_lru_add_batch_is_out_of_reclaims_reach(pattern):
    """A refaulted state page waits in its CPU's lru_add batch before it
    joins the LRU: while it waits, no churn can drop it (the page's first
    touch joins at once, so it is dropped once); with no wait (the same run
    otherwise) the churn drops it again and again; with a short wait too."""
    from dataclasses import replace
    # One thread calling every 5 s, alone on its page: rarely young at two
    # scans in a row, so dropped at most calls unless out of reach.
    over = {**STATES, "workload.call_pattern": pattern,
            "workload.calls_per_s": [[0.2, 1.0]], "workload.threads_per_process": 1}

    def dropped(waits):
        sim = Simulation(model.load("states", over), "droppable", 3,
                         replace(COSTS, lru_add_wait_s=waits), check_invariants=True)
        return values(sim.run())["state_pages_dropped"]

    assert dropped(()) > 1
    assert dropped((1000.0,)) == 1
    assert dropped((0.0, 0.5)) > 1


def test_refault_trace_follows_each_refault_to_its_end_and_changes_nothing():
    """trace_folios records what measure.lru_trace records of the kernel: per
    refault its wait, when it joined the LRU, and whether it was dropped
    again or activated; it draws nothing, so the run is the same."""
    from dataclasses import replace
    over = {**STATES, "workload.call_pattern": "periodic",
            "workload.calls_per_s": [[1.0, 28.0]], "workload.threads_per_process": 28}
    costs = replace(COSTS, lru_add_wait_s=(0.0, 0.02, 0.3, 0.85))
    traced = simulate(model.load("states", over), "droppable", seed=2, costs=costs,
                      trace_folios=True)
    plain = simulate(model.load("states", over), "droppable", seed=2, costs=costs)
    assert traced.metrics.equals(plain.metrics) and traced.classes.equals(plain.classes)
    assert plain.folio_trace is None
    trace = traced.folio_trace
    v = values(traced)
    # A traced refault ends in a drop at most once; the first touch's drop
    # (and one after an activation wears off) is no refault's end.
    assert 1 <= (trace["outcome"] == "dropped").sum() <= v["state_pages_dropped"] - 1
    assert set(trace["outcome"]) <= {"dropped", "activated", "end"}
    assert (trace["joined_s"] == trace["faulted_s"] + trace["off_lru_s"]).all()
    ended = trace[trace["outcome"] != "end"]
    assert (ended["outcome_s"] >= ended["joined_s"]).all() and len(ended) > 1
    assert set(trace["off_lru_s"]) <= set(costs.lru_add_wait_s)


def test_periodic_page_is_young_only_if_a_deadline_fell_since_the_last_look():
    from model.sim.calls import Periodic, Poisson

    class Page:
        rates = {1.0: 28}
        rate_per_s = 28.0

    assert Periodic.touched(Page, 0.5, 1.0, None)            # the deadline at 1 s
    assert not Periodic.touched(Page, 1.0, 1.9, None)        # 28 threads, no deadline
    assert Periodic.count(1.0, 0.0, 10.0) == 10.0
    assert Periodic.next_after(1.0, 3.2, None) == pytest.approx(4.0)
    rng = __import__("numpy").random.default_rng(1)
    young = sum(Poisson.touched(Page, 1.0, 1.9, rng) for _ in range(2000)) / 2000
    assert young == pytest.approx(1 - __import__("math").exp(-28 * 0.9), abs=0.01)


def test_glibc_spaces_states_by_the_cache_line_one_page_per_map():
    from model.params import State
    from model.sim.states import StateAllocator
    alloc = StateAllocator(None, State(), 4096)
    assert alloc.per_folio == 21 and alloc.block_pages == 1     # 192 B apart on x86_64


def test_harness_layouts_place_states_as_the_harness_does():
    from model.sim.states import harness_layout
    # grouped: each class starts a fresh page; 2 in use per page of 28
    assert harness_layout([3, 2], 28, 2, False) == [(0, 0), (0, 1), (0, 28), (1, 56), (1, 57)]
    # interleaved: dealt out in turn, filling pages
    assert harness_layout([2, 2], 28, 0, True) == [(0, 0), (1, 1), (0, 2), (1, 3)]
    with pytest.raises(ValueError, match="a page holds 28"):
        harness_layout([1], 28, 29, False)


def test_droppable_loses_states_but_state_memory_causes_no_oom_kill():
    """Under a leak, droppable drops states yet is OOM-killed as if the process
    had no state at all (the syscall design): the same victims, at the same
    times give or take the reclaim stall (well under one tick)."""
    drop = run("leak", "droppable", **LEAK)
    base = run("leak", "syscall", **LEAK)
    assert values(drop)["states_dropped"] > 0
    cols = ["victim", "victim_kind"]
    pd.testing.assert_frame_equal(drop.oom_events[cols], base.oom_events[cols])
    assert (drop.oom_events.t_s - base.oom_events.t_s).abs().max() < 0.1


def test_exempt_pins_memory_that_shows_in_the_oom_victims_rss():
    exempt = run("leak", "exempt", **LEAK)
    servers = exempt.oom_events[exempt.oom_events.victim_kind == "server"]
    assert len(servers) >= 1, "the server is the largest process and must be picked"
    folios = -(-2000 // 28)
    assert (servers.state_bytes >= folios * 4096).all()
    drop = run("leak", "droppable", **LEAK)
    killed = drop.oom_events[drop.oom_events.victim_kind == "server"]
    assert (killed.state_bytes < servers.state_bytes.min()).all()


def test_mlock_beyond_rlimit_falls_back_to_syscalls():
    limit = {"state.memlock_limit_bytes": "64 KiB", "workload.threads_per_process": 1000,
             "workload.processes": 1, "run.duration_s": 60}
    mlock = values(run("server", "mlock", **limit))
    assert mlock["threads_syscall_fallback"] > 0
    assert mlock["calls_syscall"] > 0
    assert mlock["memlock_charged_bytes_max"] <= 64 * 1024
    exempt = values(run("server", "exempt", **limit))
    assert exempt["threads_syscall_fallback"] == 0
    assert exempt["calls_syscall"] == 0
    assert exempt["memlock_charged_bytes_max"] == 0


def test_mlock_fork_child_holds_unlocked_key_material():
    """Only a design whose fork child's states are swappable (mlock: the lock
    is not inherited) holds key material reclaim could write to swap."""
    short = {"run.duration_s": 200}
    swappable = {d: values(run("fork-server", d, **short))["key_bytes_swappable_max"]
                 for d in VDSO}
    child_swappable = [d for d in VDSO if DESIGNS[d].child_placement.reclaim == SWAP]
    assert child_swappable == ["mlock"]
    assert swappable["mlock"] > 0
    assert all(swappable[d] == 0 for d in VDSO if d not in child_swappable)


def test_fork_wipes_state_in_every_vdso_design():
    for design in VDSO:
        v = values(run("fork-server", design, **{"run.duration_s": 60}))
        assert v["reseeds_fork"] > 0, design
        assert v["states_shared_over_fork"] == 0


def test_syscall_design_holds_no_state():
    v = values(run("server", "syscall", **{"run.duration_s": 60}))
    assert v["calls_vdso"] == 0 and v["state_bytes_resident_max"] == 0
    assert v["cpu_getrandom_s"] == pytest.approx(v["calls_syscall"] * 484e-9)


def test_vdso_designs_serve_the_same_calls_cheaper():
    short = {"run.duration_s": 60}
    sys_v = values(run("server", "syscall", **short))
    for design in VDSO:
        v = values(run("server", design, **short))
        assert v["calls_vdso"] == pytest.approx(sys_v["calls_syscall"], rel=1e-9)
        assert v["cpu_getrandom_s"] < sys_v["cpu_getrandom_s"] / 5


def test_glibc_allocator_packs_28_states_per_page_and_reuses_lifo():
    from model.sim.states import StateAllocator
    from model.params import State
    alloc = StateAllocator(None, State(cache_line_bytes=1, pages_per_map=3), 4096)
    assert alloc.per_folio == 28 and alloc.block_pages == 3
    alloc.grow(DROPPABLE)
    first = alloc.take()
    assert first.index == 3 * 28 - 1, "glibc hands out the last state of a new block first"
    alloc.give_back(first)
    assert alloc.take() is first


def test_kernel_watermarks_follow_page_alloc():
    from model.sim.memory import kernel_watermarks
    # 4 GiB: min_free_kbytes = sqrt(4194304 * 16) = 8192 kB -> 2048 pages;
    # step = max(2048 / 4, 1048576 * 10 / 10000) = 1048 (__setup_per_zone_wmarks).
    assert kernel_watermarks(1 << 20, 4096, 0, 10) == (2048, 2048 + 1048, 2048 + 2 * 1048)


# Nothing reclaimable: a steady hog fills a memcg once the states are dropped.
# 57232 hog pages + 112 pages of its page tables + 32 MiB of server heap are
# exactly the 256 MiB limit.
FULL = {"run.duration_s": 8, "run.probe_interval_s": 0.5,
        "memcg.limit_bytes": "256 MiB", "machine.ram_bytes": "1 GiB",
        "workload.processes": 1, "workload.threads_per_process": 280,
        "workload.process_rss_bytes": "32 MiB", "workload.calls_per_s": [[20, 1.0]],
        "pressure.profile": "steady", "pressure.anon_base_bytes": 57232 * 4096,
        "pressure.file_hot_bytes": 0, "pressure.file_stream_bytes_per_s": 0}


def test_droppable_fault_with_nothing_reclaimable_retries_without_a_kill():
    v = values(run("spikes", "droppable", **FULL, **{"state.droppable_fault_at_oom": "retry"}))
    assert v["states_dropped"] > 0
    assert v["droppable_fault_retries"] > 100, "threads must keep retrying the fault"
    assert v["oom_kills"] == 0
    assert v["calls_vdso"] < 280 * 20 * 8 * 0.5, "retrying threads make no calls"


def test_droppable_fault_at_oom_runs_the_oom_killer_by_default():
    result = run("spikes", "droppable", **FULL)
    assert values(result)["oom_kills"] >= 1
    assert (result.oom_events.victim_kind == "hog").all()
    assert values(result)["droppable_fault_retries"] == 0


# --- placements and the droppable fix ------------------------------------------------

@pytest.mark.parametrize("hog_mib, fixed_dropped_pages", [(100, 0), (140, 3232), (200, 18624)])
def test_counted_droppable_folios_drop_only_the_overshoot(hog_mib, fixed_dropped_pages):
    """128 MiB droppable and a hog in a 256 MiB memcg: upstream reclaim drops
    every cold droppable page once it starts (none counted toward its
    target: the call's second walk drops what its first looked at only once),
    the fix's reclaim about what D + H - L asks for, counted."""
    overrides = {"pressure.anon_base_bytes": f"{hog_mib} MiB"}
    upstream = values(run("memcg-drop", "droppable", **overrides))
    fixed = values(run("memcg-drop", "droppable-fixed", **overrides))
    assert upstream["region_pages_dropped"] == (32768 if fixed_dropped_pages else 0)
    assert upstream["pgsteal_direct"] == 0
    assert fixed["region_pages_dropped"] == fixed_dropped_pages
    assert fixed["pgsteal_direct"] == fixed_dropped_pages
    overshoot_pages = max(0, (128 + hog_mib - 256) << 8)
    assert overshoot_pages <= fixed_dropped_pages <= overshoot_pages + 256
    assert fixed["oom_kills"] == upstream["oom_kills"] == 0


def test_placements_are_consistent():
    for p in placement.PLACEMENTS:
        assert p.pool in placement.POOLS
        assert (p.lru is None) == (p.reclaim == placement.SKIP)
    assert placement.DROPPABLE_COUNTED.mapping == DROPPABLE.mapping
    with pytest.raises(ValueError, match="only a dropped folio can go uncounted"):
        placement.Placement("x", pool="anon", lru=placement.ANON_LRU, reclaim=SWAP,
                            counted=False)


# --- what the run cache's key covers ------------------------------------------------------

def test_run_key_hashes_the_sim_package_and_analyses_what_they_import(tmp_path, monkeypatch,
                                                                       request):
    """Editing the presentation or the command line never changes the key of
    a finished run; editing the simulation core always does."""
    import shutil
    copy = tmp_path / "model"
    shutil.copytree(codehash.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(codehash, "PACKAGE_DIR", copy)
    monkeypatch.setattr(codehash, "SIM_DIR", copy / "sim")
    request.addfinalizer(codehash.sim_hash.cache_clear)

    def edited(path):
        path.write_text(path.read_text() + "# edited\n")
        codehash.sim_hash.cache_clear()
        return codehash.sim_hash()

    codehash.sim_hash.cache_clear()
    before = codehash.sim_hash()
    for name in ("report.py", "figures.py", "cli.py", "validate.py", "sweep.py"):
        assert edited(copy / name) == before, name
    assert edited(copy / "sim" / "lru.py") != before
    analysis = {p.name for p in codehash.imported_files("model.questions")}
    assert {"questions.py", "replicated.py", "calibration.py", "lru.py"} <= analysis
    assert not {"report.py", "figures.py", "cli.py", "validate.py", "__main__.py"} & analysis


def test_states_cases_take_every_pressure_input_from_the_measured_run():
    """validate's states scenario for one states.csv run: the churn rate, hog,
    spikes, caller's charge, classes and pattern are the run's own."""
    from pathlib import Path
    from model import validate
    frame = pd.read_csv(Path(__file__).resolve().parent.parent / "data/host/states.csv")
    frame["class_pages_total"] = frame.groupby("run")["class_pages"].transform("sum")
    run = frame[(frame["regime"] == "spike_churn") & (frame["pattern"] == "periodic")].iloc[0]
    sc = model.load("states", validate.states_overrides(run))
    assert sc.pressure.file_stream_bytes_per_s == pytest.approx(run["churn_bytes_per_s"])
    assert sc.pressure.profile == "spikes"
    assert sc.pressure.anon_peak_bytes == int(run["spike_mib"]) << 20
    assert sc.pressure.spike_duration_s == run["spike_hold_ms"] / 1e3
    assert sc.workload.call_pattern == "periodic" and sc.workload.threads_per_process == 112
    assert sc.memcg.limit_bytes == int(run["limit_mib"]) << 20
    assert sc.run.settle_s == run["settle_s"]
    assert validate.states_error(0.2, 0.23) == (pytest.approx(0.15), "rel", 0.15)
    assert validate.states_error(0.004, 0.0) == (pytest.approx(0.004), "abs", 0.01)


def test_later_states_files_join_the_campaigns_without_renumbering_them():
    """validate reads states.csv, then states_placement.csv,
    states_reader.csv, states_mobility.csv and the later files, each
    numbered after the one before: every file's runs keep their numbers
    (their model seeds are keyed by them), its syscall twins left out,
    runs from before --placement existed ran unpinned, and only the
    mobility test's had a burner beside them."""
    from measure import host
    from pathlib import Path
    from model import validate
    data = Path(__file__).resolve().parent.parent / "data"
    frame = validate.read_states(data)
    block = frame["run"] // validate.RUNS_PER_FILE
    for i, name in enumerate(validate.STATES_FILES):
        own = pd.read_csv(data / "host" / name)
        # A run of syscall classes has no state: not a states case.
        twins = set(own.loc[own["classes"].str.contains(":syscall"), "run"])
        mine = frame[block == i]
        assert sorted((mine["run"] - i * validate.RUNS_PER_FILE).unique()) == \
            sorted(set(own["run"]) - twins), name
        assert twins or name != "states_prices.csv"
    assert set(frame.loc[block == 0, "placement"]) == {"any"}
    assert set(frame.loc[block == 1, "placement"]) == {"any", "same", "split"}
    assert set(frame.loc[block >= 2, "placement"]) == {"any"}
    assert set(frame.loc[block < 3, "burn_duty"]) == {0.0}
    assert set(frame.loc[block == 3, "burn_duty"]) == set(host.MOBILITY_DUTIES)
    # and the moves are read under the same numbers: every run with a
    # reader of the reader test on (a control run has none), and of
    # states.csv the later sittings' (the campaign's harness did not keep them)
    moves = validate.read_states_moves(data, frame)
    read = frame["regime"] != "control"
    assert set(frame.loc[(block >= 2) & read, "run"]) <= set(moves) <= set(frame.loc[read, "run"])
    kept = {run for run in moves if run < validate.RUNS_PER_FILE}
    assert kept == set(range(len(host.states_runs(more=[])), len(host.states_runs())))
    # the placement test's later pinned runs kept their reader's one CPU,
    # which says nothing of where refaults wait: not read as moves
    from model.calibration import moves_file, read_reader_moves
    pinned = read_reader_moves(moves_file(data / "host" / "states_placement.csv"))
    assert pinned and not {run + validate.RUNS_PER_FILE for run in pinned} & set(moves)
    assert all(len(m) == 1 for m in pinned.values())


def test_a_states_case_is_judged_against_its_runs_spread():
    """The measured runs' 95% t-interval (none from one run) decides whether
    the measurement can tell the prediction apart; runs_for_target says how
    many runs a 15% answer needs at the spread the runs show."""
    import math
    from model import validate
    row = {"predicted": 0.7, "measured_low": 0.13, "measured_high": 0.65}
    assert validate.within_measured(row) is False
    assert validate.within_measured({**row, "predicted": 0.6}) is True
    assert validate.within_measured({**row, "measured_low": math.nan}) is None
    assert math.isnan(validate.runs_for_target([0.4]))
    assert math.isnan(validate.runs_for_target([0.0, 0.0]))
    # Mean 0.4, sd 0.283: (1.96 * 0.283 / (0.15 * 0.4))^2 = 85.4 -> 86 runs.
    assert validate.runs_for_target([0.2, 0.6]) == 86


def test_a_states_runs_model_seeds_are_its_own_whatever_is_added_beside_it():
    """A model seed is keyed by the run's id, so that runs appended to an
    earlier states file (a second sitting), or a file added, leave every
    other run its seeds: once they shifted, and three cases moved by
    0.07-0.26."""
    from pathlib import Path
    from model import validate
    data = Path(__file__).resolve().parent.parent / "data"
    frame = validate.read_states(data)
    ids = frame["run"].unique()
    seeds = {validate.states_sim_seed(r, s) for r in ids for s in (1, 2, 3)}
    assert len(seeds) == 3 * len(ids)
    assert validate.states_sim_seed(200_004, 2) == validate.states_sim_seed(200_004, 2)
    # the reader test's first run, whatever states_placement.csv holds or
    # whatever files come after the first five (a sixth once moved them all)
    assert validate.states_sim_seed(200_000, 1) == 700_000
    # a later file's runs clear of every earlier run's seeds, up to 10,000 seeds a run
    first = ids[ids < validate.FIRST_FILES * validate.RUNS_PER_FILE]
    later = ids[ids >= validate.FIRST_FILES * validate.RUNS_PER_FILE]
    assert len(later)
    ceiling = validate.states_sim_seed(int(first.max()), 10_000)
    assert min(validate.states_sim_seed(r, 1) for r in later) > ceiling


def test_the_models_own_noise_is_judged_against_the_cases_target():
    """seeds_for_target: the seeds whose mean has a standard error of a
    third of the case's target, at the spread over the seeds run."""
    import math
    from model import validate
    # measured 0.5 (relative: target 0.075, a third of it 0.025); seeds
    # spread with sd 0.1: (0.1 / 0.025)^2 = 16 seeds.
    pooled = pd.Series([0.4, 0.5, 0.6])
    assert validate.seeds_for_target(pooled, 0.5) == 16
    # the same spread under an absolute target of 0.01: (0.1 / 0.00333)^2 = 900.
    assert validate.seeds_for_target(pooled, 0.02) == 900
    # seeds that agree need no more than they have
    assert validate.seeds_for_target(pd.Series([0.5, 0.5, 0.5]), 0.5) == 3
    assert math.isnan(validate.seeds_for_target(pd.Series([0.5]), 0.5))


def test_a_case_the_seeds_cannot_judge_gets_more_for_each_of_its_runs():
    """more_seeds(): runs 1 and 2 are one case whose three seeds spread
    (0.4, 0.5, 0.6 pooled: 16 wanted, capped at 12); run 3's agree."""
    from model import validate
    keys = ["regime", "rate_hz"]
    frame = pd.DataFrame({"run": [1, 2, 3], "regime": ["churn", "churn", "control"],
                          "rate_hz": 1.0, "calls_zeroed": [50, 50, 0], "calls": 100})
    model = pd.DataFrame({"run": [1, 1, 1, 2, 2, 2, 3, 3, 3], "seed": [1, 2, 3] * 3,
                          "rate_hz": 1.0, "calls_model": 100,
                          "zeroed_model": [40, 50, 60, 40, 50, 60, 0, 0, 0]})
    assert validate.more_seeds(frame, model, keys, 12) == {1: range(4, 13), 2: range(4, 13)}
    assert validate.more_seeds(frame, model, keys, 3) == {}
    # judged again after a round: runs 1 and 2 now have 12 seeds, which
    # spread wider (0.4, 0.5, 0.6, then 0.3, 0.5, 0.7 three times: sd
    # sqrt(0.26 / 11), 37.8 wanted), so they get seeds 13-38; none they
    # already have, and none past the cap
    twelve = [40, 50, 60] + [30, 50, 70] * 3
    model = pd.DataFrame({"run": [1] * 12 + [2] * 12 + [3] * 3,
                          "seed": [*range(1, 13)] * 2 + [1, 2, 3], "rate_hz": 1.0,
                          "calls_model": 100, "zeroed_model": twelve * 2 + [0, 0, 0]})
    assert validate.more_seeds(frame, model, keys, 64) == {1: range(13, 39),
                                                           2: range(13, 39)}
    assert validate.more_seeds(frame, model, keys, 12) == {}
    # twelve seeds that spread as the first three did (sd sqrt(0.08 / 11),
    # 11.6 wanted) have what they ask for
    model["zeroed_model"] = [40, 50, 60] * 8 + [0, 0, 0]
    assert validate.more_seeds(frame, model, keys, 64) == {}


def test_a_states_case_shows_each_sitting_of_its_runs_pooled():
    """Runs with no gap of over an hour between them, on one machine, are
    one sitting; each sitting's fraction pools its calls, so a sitting of
    two runs is not the mean of its runs' fractions; and so is the model's,
    over its seeds."""
    from model import validate
    g = pd.DataFrame({"date_utc": ["2026-11-30T02:20:00Z", "2026-11-30T11:00:00Z",
                                   "2026-11-30T02:40:00Z"],
                      "calls_zeroed": [0, 90, 30], "calls": [100, 100, 20]})
    assert validate.sitting_fractions(g) == ("2026-11-30 02:20 0.250 (2 runs), "
                                             "2026-11-30 11:00 0.900 (1 run)")
    # the model's, for the same runs over its seeds, pooled the same way
    g["run"] = [1, 2, 3]
    model = pd.DataFrame({"run": [1, 1, 2, 3, 2], "seed": [1, 2, 1, 1, 2],
                          "zeroed_model": [10, 0, 50, 20, 100], "calls_model": 100})
    assert validate.sitting_fractions(g, model) == (
        "2026-11-30 02:20 0.250 (2 runs; model 0.100), "
        "2026-11-30 11:00 0.900 (1 run; model 0.750)")
    # and, given the reader's moves, its inputs: the median pace of a
    # sitting's runs, and their moves a second where all of them kept them
    g["run_s"], g["churn_bytes_per_s"] = 10.0, [2.0e9, 1.5e9, 2.2e9]
    moves = {1: pd.DataFrame({"t_s": [-1.0, 1.0, 2.0], "cpu": [0, 1, 0]}),
             3: pd.DataFrame({"t_s": [-1.0, 1.0, 2.0, 3.0, 4.0], "cpu": [0, 1, 0, 1, 0]})}
    assert validate.sitting_fractions(g, model, moves) == (
        "2026-11-30 02:20 0.250 (2 runs; model 0.100; reader 2.10 GB/s, 0.3 moves/s), "
        "2026-11-30 11:00 0.900 (1 run; model 0.750; reader 1.50 GB/s)")
    # a sitting with no reader (no churn) says nothing of one
    g["churn_bytes_per_s"] = [2.0e9, 0.0, 2.2e9]
    assert validate.sitting_fractions(g, model, moves).endswith("(1 run; model 0.750)")
    # runs within the hour on another machine (cpu_model or kernel) are a sitting of their own
    g["cpu_model"], g["kernel_release"] = ["Xeon", "Xeon", "EPYC"], "6.18"
    assert validate.sitting_fractions(g) == ("2026-11-30 02:20 0.000 (1 run), "
                                             "2026-11-30 02:40 1.500 (1 run), "
                                             "2026-11-30 11:00 0.900 (1 run)")
    g["cpu_model"], g["kernel_release"] = "Xeon", ["6.18", "6.18", "6.19"]
    assert validate.sitting_fractions(g).startswith("2026-11-30 02:20 0.000 (1 run), "
                                                    "2026-11-30 02:40 1.500 (1 run)")


def test_sittings_differ_only_when_runs_of_a_sitting_agree_more_than_sittings():
    """Kruskal-Wallis over runs grouped by sitting: two sittings that found
    0.0-0.1 and 0.9-1.0 differ; the same runs interleaved in time do not;
    a sitting of one run is no group."""
    import math
    from model import validate

    def case(times, fracs):
        return pd.DataFrame({"date_utc": [f"2026-11-30T{t}:00Z" for t in times],
                             "calls_zeroed": [int(100 * f) for f in fracs], "calls": 100})
    apart = case(["02:00", "02:05", "02:10", "02:15", "09:00", "09:05", "09:10", "09:15"],
                 [0.0, 0.1, 0.05, 0.0, 0.9, 1.0, 0.95, 1.0])
    assert validate.sittings_differ(apart) < 0.05
    mixed = case(["02:00", "02:05", "02:10", "02:15", "09:00", "09:05", "09:10", "09:15"],
                 [0.0, 0.9, 0.05, 1.0, 0.1, 0.95, 0.0, 1.0])
    assert validate.sittings_differ(mixed) > 0.5
    assert math.isnan(validate.sittings_differ(case(["02:00", "09:00", "09:05"], [0.0, 1.0, 0.9])))


def test_an_activation_is_counted_once_per_run_against_its_refaults():
    """A timer-locked page's refaults are its zeroed calls over its page-mates
    where the harness did not count them (it agrees where it did); a page
    found zeroed and then intact for its last two calls or more was
    activated, one found zeroed up to the end was not, and a page never
    found zeroed in the window neither refaulted nor was activated there."""
    from model import validate
    runs = pd.DataFrame({"calls_zeroed": [3304, 1568, 0, 28 * 119],
                         "per_page": [28] * 4, "rate_hz": [1.0] * 4, "run_s": [120] * 4,
                         "last_zeroed_s": [119.001, 55.0, None, 117.0],
                         "refaults": [118.0, None, None, 119.0]})
    refaults, activated = validate.kernel_activations(runs)
    assert refaults.tolist() == [118.0, 56.0, 0.0, 119.0]
    assert activated.tolist() == [False, True, False, True]


def test_the_activation_rate_s_interval_holds_its_count():
    """The exact Poisson interval: none seen still allows some, and the
    interval holds the observed rate."""
    from model import validate
    low, high = validate.poisson_interval(0, 1000)
    assert low == 0.0 and 0.003 < high < 0.004        # 3.69 / 1000
    low, high = validate.poisson_interval(22, 2222)
    assert low < 22 / 2222 < high and 0.006 < low and high < 0.016


def test_the_mobility_note_ranks_the_runs_that_kept_the_reader_s_moves():
    """Given model counts that copy the kernel's, the model's rank
    correlation is the kernel's; the slowest readers are listed slowest
    first, and a class never activated (the 0.05 Hz page) is left out."""
    from model import validate
    states = validate.read_states_runs(validate.DATA_DIR)
    frame, moves = states.frame, states.moves
    if not moves:
        pytest.skip("no reader moves in data/host")
    kept = frame[frame["run"].isin(moves)]
    copy = pd.DataFrame({"run": kept["run"], "seed": 1, "rate_hz": kept["rate_hz"],
                         "calls_model": kept["calls"], "zeroed_model": kept["calls_zeroed"]})
    note = "\n".join(validate.mobility_note(states, copy))
    kernel = re.search(r"fraction (-?[\d.]+) in the kernel", note).group(1)
    assert re.search(rf"\n{re.escape(kernel)} in the model", note)
    assert "0.05 Hz" not in note.split("Its slowest")[0]
    speeds = [float(x) for x in re.findall(r"([\d.]+) moves/s", note)]
    assert speeds == sorted(speeds) and len(speeds) == 3
    assert -1 <= float(re.search(r"kernel's fraction (-?[\d.]+) \(p", note).group(1)) <= 1
    # over the runs the model ran (--runs): the split-prices test's alone
    prices = copy[validate.from_file(kept, "states_prices.csv")]
    mine = "\n".join(validate.mobility_note(states, prices))
    named = re.search(r"\(([^;]*); (\d+) runs\)", mine.replace("\n", " "))
    regimes = set(kept.loc[prices.index, "regime"])
    assert {c.rsplit(" ", 2)[0] for c in named.group(1).split(", ")} <= regimes
    assert int(named.group(2)) < int(re.search(r"; (\d+) runs\)", note).group(1))


def test_a_call_that_counts_nothing_walks_again_over_what_it_activated():
    """do_try_to_free_pages() walks every priority again when it counted
    nothing: a cold droppable region is looked at twice (kept, then
    dropped), a hot one more, as the pages its first walk found young are
    deactivated and looked at again (data/host/pressure_walk_reclaim.csv)."""
    point = {"memcg.limit_bytes": "128 MiB", "workload.region_bytes": "32 MiB",
             "pressure.anon_base_bytes": "102 MiB"}
    pages = 32 << 8
    cold = values(run("memcg-drop", "droppable", **point))
    hot = values(run("memcg-drop", "droppable", **point, **{"workload.region_touch_per_s": 100.0}))
    assert cold["pgscan_direct"] == 2 * pages and cold["region_pages_dropped"] == pages
    assert hot["pgscan_direct"] > 2 * pages
    assert 0 < hot["region_pages_dropped"] < pages
    assert cold["pgsteal_direct"] == hot["pgsteal_direct"] == 0


def test_validate_keeps_each_states_model_run_and_resumes_from_them(tmp_path, monkeypatch):
    """An interrupted `validate` loses no finished states model run: the
    second pass takes every run from the cache (the simulation is never
    called) and gives the same rows, bit for bit; a changed input is run."""
    from pathlib import Path
    from model import runcache, validate
    from model.calibration import load_costs
    frame = pd.read_csv(Path(__file__).resolve().parent.parent / "data/host/states.csv")
    frame["class_pages_total"] = frame.groupby("run")["class_pages"].transform("sum")
    run = frame[frame["regime"] == "churn"].iloc[0]     # its state pages refault
    short = {**validate.states_overrides(run), "run.duration_s": float(run["settle_s"]) + 5}
    costs = load_costs()
    tasks = [(int(run["run"]), short, seed, validate.states_sim_seed(int(run["run"]), seed),
              costs) for seed in (1, 2)]
    store = runcache.RunCache(tmp_path / "cache")
    first = validate._states_runs(tasks, 1, store)
    assert first[0] and first[1] and len(list((tmp_path / "cache").rglob("*.json"))) == 2

    def no_simulation(*args, **kwargs):
        raise AssertionError("simulated a run the cache holds")
    monkeypatch.setattr(validate, "simulate", no_simulation)
    again = validate._states_runs(tasks, 1, store)
    assert pd.DataFrame(again[0]).equals(pd.DataFrame(first[0]))
    assert pd.DataFrame(again[1]).equals(pd.DataFrame(first[1]))
    # Another simulation seed, or another run or seed named on the rows,
    # is another run: not served from the cache.
    for other in ((*tasks[0][:3], tasks[0][3] + 1, costs), (tasks[0][0] + 1, *tasks[0][1:]),
                  (*tasks[0][:2], 3, *tasks[0][3:])):
        with pytest.raises(AssertionError, match="cache holds"):
            validate._states_runs([other], 1, store)


def test_a_call_after_its_threads_gap_is_charged_its_measured_extra():
    """Costs.after_gap changes what calls cost, never what happens: the same
    seed makes the same calls, drops and reseeds, and each is charged its
    kind's extra (flat curves here, so the mean over any gaps is exact): a
    vDSO call x_v, a syscall x_s, a reseed on key expiry or drop x_r, and
    the call that faults a dropped page back the rest of what a dropped
    state's call was measured to cost more, x_z - x_v - x_r."""
    from dataclasses import replace
    from model.sim.costs import GapCurve
    x = {"vdso": 100.0, "syscall": 1000.0, "reseed": 2000.0, "zeroed": 20000.0}
    gapped = replace(COSTS, after_gap={k: GapCurve((0.0,), (v,)) for k, v in x.items()})
    for name, design, over in (("server", "syscall", {"run.duration_s": 60}),
                               ("server", "droppable", {"run.duration_s": 120}),
                               ("leak", "droppable", LEAK)):
        scenario = model.load(name, over)
        plain = values(simulate(scenario, design, seed=3, costs=COSTS))
        dear = values(simulate(scenario, design, seed=3, costs=gapped))
        cpu = ["cpu_getrandom_s", "cpu_fault_s", "cpu_after_gap_s"]
        assert dear.drop(cpu).equals(plain.drop(cpu)), name
        calls = (plain["calls_vdso"] * x["vdso"] + plain["calls_syscall"] * x["syscall"]
                 + (plain["reseeds_expiry"] + plain["reseeds_drop"]) * x["reseed"]) * 1e-9
        assert dear["cpu_getrandom_s"] - plain["cpu_getrandom_s"] == pytest.approx(calls,
                                                                                  rel=1e-9)
        refaults = plain["state_refaults_dropped"] * (x["zeroed"] - x["vdso"] - x["reseed"])
        assert dear["cpu_fault_s"] - plain["cpu_fault_s"] == pytest.approx(refaults * 1e-9,
                                                                          rel=1e-9, abs=1e-15)
        # What the gaps added, counted apart: less it, back to back.
        assert plain["cpu_after_gap_s"] == 0
        assert dear["cpu_after_gap_s"] == pytest.approx(calls + refaults * 1e-9, rel=1e-9)
    # Page-mates: fewer refaults than calls that found their state dropped.
    assert 0 < plain["state_refaults_dropped"] < plain["reseeds_drop"]
    assert plain["reseeds_expiry"] > 0


def test_a_process_pays_the_curves_of_the_busiest_process_timed_at_or_below_its_rate():
    """A scenario's process pays the vDSO and syscall curves idlecall timed
    in the busiest process that calls no more often than it does
    (Costs.process_after_gap); below every one, the lone curves; reseeds
    and refaults are the lone curves' either way (timed alone only)."""
    from dataclasses import replace
    from model.sim.costs import GapCurve
    flat = {"vdso": 100.0, "syscall": 1000.0, "reseed": 2000.0, "zeroed": 20000.0}
    lone = {k: GapCurve((0.0,), (v,)) for k, v in flat.items()}
    scenario = model.load("server", {"run.duration_s": 60})
    rate = scenario.workload.process_calls_per_s
    assert rate == pytest.approx(64 * (1000 * 0.5 + 10 * 0.3 + 0.05 * 0.2))
    timed = {r: {"vdso": vdso, "syscall": syscall} for r, vdso, syscall in (
        (rate / 10, 300.0, 10.0), (rate, 400.0, 20.0), (rate * 1.01, 500.0, 30.0))}
    for design, mode in (("syscall", "syscall"), ("droppable", "vdso")):
        base = values(simulate(scenario, design, seed=3, costs=COSTS))
        calls = base[f"calls_{mode}"]
        # A refault's share is the lone measurement's: zeroed less lone vdso and reseed.
        reseeds = ((base["reseeds_expiry"] + base["reseeds_drop"]) * flat["reseed"]
                   + base["state_refaults_dropped"]
                   * (flat["zeroed"] - flat["vdso"] - flat["reseed"]))
        for measured_at, paid in (((rate / 10, rate, rate * 1.01), timed[rate][mode]),
                                  ((rate / 10,), timed[rate / 10][mode]),
                                  ((rate * 1.01,), flat[mode]), ((), flat[mode])):
            by_process = tuple((r, {way: GapCurve((0.0,), (ns,)) for way, ns in timed[r].items()})
                               for r in measured_at)
            costs = replace(COSTS, after_gap=lone, process_after_gap=by_process)
            run = values(simulate(scenario, design, seed=3, costs=costs))
            assert run["cpu_after_gap_s"] == pytest.approx(
                (calls * paid + reseeds) * 1e-9, rel=1e-9), (design, measured_at)


def test_cpu_saved_is_per_call_made_not_calls_missed():
    """A design whose threads stall makes fewer calls: Q5's saving is per
    call made, so fewer calls at the same cost per call save no more.  Its
    CPU is the calls', the state faults' and mlock's, after each call's gap
    and, less what the gaps added, back to back."""
    from types import SimpleNamespace
    from model.questions import benefit_table
    rows = []
    # design: calls_vdso, calls_syscall, cpu_getrandom_s, cpu_fault_s, cpu_mlock_s, after gap
    for design, vdso, syscall, cpu, fault, mlock, gap in (
            ("syscall", 0, 1000, 1.0, 0.0, 0.0, 0.5),
            ("mlock", 1000, 0, 0.05, 0.01, 0.04, 0.05),
            ("droppable", 900, 0, 0.08, 0.01, 0.0, 0.045)):
        for metric, value in (("calls_vdso", vdso), ("calls_syscall", syscall),
                              ("cpu_getrandom_s", cpu), ("cpu_fault_s", fault),
                              ("cpu_mlock_s", mlock), ("cpu_after_gap_s", gap),
                              ("state_bytes_unevictable_max", 0),
                              ("states_dropped_per_hour", 0), ("oom_kills", 0),
                              ("oom_kills_of_state_holders", 0),
                              ("threads_syscall_fallback", 0)):
            rows.append({"scenario": "server", "replication": 0, "design": design,
                         "metric": metric, "value": value})
    b = benefit_table(pd.DataFrame(rows), SimpleNamespace(scenario_duration_s=3600))
    b = b.set_index("design")
    assert b.loc["droppable", "cpu_saved_fraction"] == pytest.approx(0.9)
    assert b.loc["mlock", "cpu_saved_fraction"] == pytest.approx(0.9)
    # Back to back: 0.5 ms a syscall, 0.05 ms a call of either.
    assert b.loc["droppable", "cpu_saved_fraction_b2b"] == pytest.approx(0.9)
    assert b.loc["mlock", "cpu_saved_fraction_b2b"] == pytest.approx(0.9)
    # Its own 900 calls, each 0.9 ms cheaper than a syscall.
    assert b.loc["droppable", "cpu_saved_s_per_h"] == pytest.approx(900 * 0.9e-3)


def test_a_thread_starting_on_a_dropped_page_wakes_its_page_mates():
    """A new thread whose state lies on a dropped page faults it back at its
    start; the page's other threads, waiting for their next call to fault
    it, call again from then on (they once waited forever: in one of make
    study's leak runs 7% of the vDSO calls were lost).  check_invariants
    raises if a thread waits for a page that is in memory."""
    scenario = model.load("leak")
    runs = {d: values(simulate(scenario, d, seed=6, costs=COSTS,
                               check_invariants=True))
            for d in ("droppable", "mlock")}
    assert runs["droppable"]["states_dropped"] > 0
    assert runs["droppable"]["calls_vdso"] == pytest.approx(runs["mlock"]["calls_vdso"],
                                                            rel=1e-3)
